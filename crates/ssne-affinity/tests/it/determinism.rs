//! Bitwise identical results on 1 and 2 threads.

use ssne_affinity::{Perplexity, SearchOptions, joint_dense, joint_knn, knn};

fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
        .install(f)
}

fn bits(values: impl IntoIterator<Item = f64>) -> Vec<u64> {
    values.into_iter().map(f64::to_bits).collect()
}

#[test]
fn dense_p_is_identical_on_one_and_two_threads() {
    // Large enough for several row blocks in the GEMM and the symmetrization.
    let x = crate::random_points(300, 20, 21);
    let x32 = x.mapv(|v| v as f32);
    let perplexity = Perplexity::new(20.0).unwrap();
    let opts = SearchOptions::default();
    let one = on_threads(1, || joint_dense(x.view(), perplexity, &opts).unwrap());
    let two = on_threads(2, || joint_dense(x.view(), perplexity, &opts).unwrap());
    assert_eq!(bits(one.p.iter().copied()), bits(two.p.iter().copied()));
    assert_eq!(bits(one.beta.iter().copied()), bits(two.beta.iter().copied()));
    assert_eq!(one.unconverged, two.unconverged);
    let one = on_threads(1, || joint_dense(x32.view(), perplexity, &opts).unwrap());
    let two = on_threads(2, || joint_dense(x32.view(), perplexity, &opts).unwrap());
    let to_bits = |p: &ssne_tensor::ndarray::Array2<f32>| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(to_bits(&one.p), to_bits(&two.p));
}

#[test]
fn sparse_p_and_knn_are_identical_on_one_and_two_threads() {
    let x = crate::random_points(600, 10, 22);
    let perplexity = Perplexity::new(15.0).unwrap();
    let opts = SearchOptions::default();
    let one = on_threads(1, || joint_knn(x.view(), perplexity, &opts).unwrap());
    let two = on_threads(2, || joint_knn(x.view(), perplexity, &opts).unwrap());
    assert_eq!(one.csr().row_ptr(), two.csr().row_ptr());
    assert_eq!(one.csr().col_indices(), two.csr().col_indices());
    assert_eq!(
        bits(one.csr().values().iter().copied()),
        bits(two.csr().values().iter().copied())
    );
    assert_eq!(bits(one.beta.iter().copied()), bits(two.beta.iter().copied()));
    let one = on_threads(1, || knn(x.view(), 45).unwrap());
    let two = on_threads(2, || knn(x.view(), 45).unwrap());
    assert_eq!(one.indices, two.indices);
    assert_eq!(bits(one.sq_dists.iter().copied()), bits(two.sq_dists.iter().copied()));
}
