//! The sparse product against a naive triple loop, compaction against the dense
//! matrix, and independence of the thread count.

use proptest::prelude::*;
use ssne_tensor::ndarray::{Array2, ArrayView2, s};
use ssne_tensor::{Csr, TensorError, Trans, csr_gemm, csr_gemm_serial, gemm};

use crate::{on_threads, seeded};

fn naive(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
}

/// A seeded matrix where about `zeros` of the entries are exactly 0.
fn sparse_matrix(rows: usize, cols: usize, zeros: f64, seed: u64) -> Array2<f64> {
    let keep = seeded(rows, cols, seed + 1000);
    let mut x = seeded(rows, cols, seed);
    x.zip_mut_with(&keep, |v, &k| {
        if (k + 1.0) / 2.0 < zeros {
            *v = 0.0;
        }
    });
    x
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Widths below one chunk, exact multiples, overlapping last chunks and
    /// several passes per row; alpha and beta applied once per element.
    #[test]
    fn csr_gemm_matches_naive(
        m in 1usize..40,
        k in 1usize..60,
        n in prop_oneof![1usize..20, 95usize..120, 200usize..240],
        zeros in 0.0..1.0f64,
        seed in 0u64..1000,
        beta_zero in any::<bool>(),
    ) {
        let a = sparse_matrix(m, k, zeros, seed);
        let b = seeded(k, n, seed + 1);
        let csr = Csr::from_dense(a.view()).expect("small dimensions");
        prop_assert_eq!(csr.to_dense(), a.clone());
        let beta = if beta_zero { 0.0 } else { 2.0 };
        // With beta = 0, C must not be read: start from NaN.
        let mut c = if beta_zero { Array2::from_elem((m, n), f64::NAN) } else { seeded(m, n, seed + 2) };
        let c0 = c.clone();
        csr_gemm(0.5, &csr, b.view(), beta, c.view_mut()).expect("shapes agree");
        let expected = naive(a.view(), b.view());
        for ((x, e), c0) in c.iter().zip(expected.iter()).zip(c0.iter()) {
            let want = if beta_zero { 0.5 * e } else { 0.5 * e + 2.0 * c0 };
            prop_assert!((x - want).abs() <= 1e-12 * (1.0 + want.abs()), "{} vs {}", x, want);
        }
    }

    #[test]
    fn transpose_matches_the_dense_transpose(m in 0usize..30, k in 0usize..30, zeros in 0.0..1.0f64, seed in 0u64..1000) {
        let a = sparse_matrix(m, k, zeros, seed);
        let csr = Csr::from_dense(a.view()).expect("small dimensions");
        let mut t = Csr::new();
        // Twice, into the same value: refilling must not keep stale entries.
        csr.transpose_into(&mut t);
        csr.transpose_into(&mut t);
        prop_assert_eq!(t.to_dense(), a.t().to_owned());
        prop_assert_eq!((t.nrows(), t.ncols(), t.nnz()), (k, m, csr.nnz()));
    }

    /// Rows given as lists are the same matrix as the dense one they were read from, with the
    /// same parts, and their transpose is the dense transpose.
    #[test]
    fn from_sorted_rows_matches_from_dense(m in 0usize..30, k in 1usize..30, zeros in 0.0..1.0f64, seed in 0u64..1000) {
        let a = sparse_matrix(m, k, zeros, seed);
        let rows = a.rows().into_iter().map(|row| {
            row.iter().enumerate().filter(|&(_, &v)| v != 0.0).map(|(j, &v)| (j as u32, v)).collect::<Vec<_>>()
        });
        let csr = Csr::from_sorted_rows(k, rows).unwrap();
        let dense = Csr::from_dense(a.view()).expect("small dimensions");
        prop_assert_eq!(&csr, &dense);
        prop_assert_eq!(csr.row_ptr(), dense.row_ptr());
        prop_assert_eq!(csr.col_indices(), dense.col_indices());
        prop_assert_eq!(csr.values(), dense.values());
        let mut t = Csr::new();
        csr.transpose_into(&mut t);
        prop_assert_eq!(t.to_dense(), a.t().to_owned());
    }
}

#[test]
fn from_sorted_rows_refuses_columns_out_of_order_or_range_and_keeps_zeros() {
    let unsorted = Csr::from_sorted_rows(4, [vec![(0, 1.0_f32)], vec![(2, 1.0), (1, 1.0)]]);
    assert!(
        matches!(
            unsorted,
            Err(TensorError::SparseColumn {
                row: 1,
                col: 1,
                ncols: 4
            })
        ),
        "{unsorted:?}"
    );
    let repeated = Csr::from_sorted_rows(4, [vec![(3, 1.0_f32), (3, 2.0)]]);
    assert!(
        matches!(
            repeated,
            Err(TensorError::SparseColumn {
                row: 0,
                col: 3,
                ncols: 4
            })
        ),
        "{repeated:?}"
    );
    let outside = Csr::from_sorted_rows(4, [vec![], vec![(4, 1.0_f32)]]);
    assert!(
        matches!(
            outside,
            Err(TensorError::SparseColumn {
                row: 1,
                col: 4,
                ncols: 4
            })
        ),
        "{outside:?}"
    );
    let too_wide = Csr::<f32>::from_sorted_rows(u32::MAX as usize + 1, [Vec::new()]);
    assert!(
        matches!(too_wide, Err(TensorError::SparseTooLarge { nrows: 1, .. })),
        "{too_wide:?}"
    );
    // An explicit zero is an entry (callers decide what to store); no rows is a 0 x ncols matrix.
    let zero = Csr::from_sorted_rows(2, [vec![(1, 0.0_f64)]]).unwrap();
    assert_eq!(
        (zero.nnz(), zero.col_indices(), zero.values()),
        (1, &[1][..], &[0.0][..])
    );
    let empty = Csr::<f64>::from_sorted_rows(3, Vec::<Vec<(u32, f64)>>::new()).unwrap();
    assert_eq!(
        (empty.nrows(), empty.ncols(), empty.nnz(), empty.row_ptr()),
        (0, 3, 0, &[0][..])
    );
}

#[test]
fn density_limit_is_respected_and_a_refused_matrix_is_left_empty() {
    let a = sparse_matrix(20, 50, 0.8, 3);
    let nnz = a.iter().filter(|&&v| v != 0.0).count();
    let density = nnz as f64 / 1000.0;
    let mut csr = Csr::new();
    assert!(csr.assign_if_sparse(a.view(), density));
    assert_eq!(csr.nnz(), nnz);
    assert_eq!(csr.density(), density);
    assert!(!csr.assign_if_sparse(a.view(), density - 1e-3));
    assert_eq!((csr.nrows(), csr.ncols(), csr.nnz()), (0, 0, 0));
    assert_eq!(csr, Csr::new());
}

#[test]
fn nan_is_kept_as_a_non_zero_and_negative_zero_is_dropped() {
    for x in [
        ssne_tensor::ndarray::array![[0.0_f32, f32::NAN, -0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, f32::NAN]],
        ssne_tensor::ndarray::Array2::from_elem((1, 3), f32::NAN),
    ] {
        let csr = Csr::from_dense(x.view()).expect("small dimensions");
        let (cols, _) = csr.row(0);
        let expected: Vec<u32> = (0..x.ncols() as u32).filter(|&j| x[[0, j as usize]] != 0.0).collect();
        assert_eq!(cols, expected.as_slice());
    }
}

/// Large enough for parallel compaction and a parallel product, in f32 (the
/// vectorised compaction), against the dense GEMM.
#[test]
fn large_f32_product_agrees_with_gemm_and_is_the_same_on_any_thread_count() {
    let a = sparse_matrix(700, 300, 0.8, 11).mapv(|v| v as f32);
    let b = seeded(300, 100, 12).mapv(|v| v as f32);
    let run = |threads| {
        on_threads(threads, || {
            let mut csr = Csr::new();
            assert!(csr.assign_if_sparse(a.view(), 0.35));
            let mut c = Array2::<f32>::zeros((700, 100));
            csr_gemm(1.0, &csr, b.view(), 0.0, c.view_mut()).expect("shapes agree");
            // About 42,000 entries: the parallel transpose.
            let mut t = Csr::new();
            csr.transpose_into(&mut t);
            assert_eq!(t.to_dense(), a.t());
            let mut ct = Array2::<f32>::zeros((300, 100));
            csr_gemm(1.0, &t, c.view(), 0.0, ct.view_mut()).expect("shapes agree");
            (csr, c, ct)
        })
    };
    let (csr, c, ct) = run(1);
    assert_eq!(csr.to_dense(), a);
    for threads in [2, 3] {
        let (csr_n, c_n, ct_n) = run(threads);
        assert_eq!(csr_n, csr);
        assert_eq!(c_n.mapv(f32::to_bits), c.mapv(f32::to_bits));
        assert_eq!(ct_n.mapv(f32::to_bits), ct.mapv(f32::to_bits));
    }
    let mut dense = Array2::<f32>::zeros((700, 100));
    gemm(1.0, a.view(), Trans::N, b.view(), Trans::N, 0.0, dense.view_mut()).expect("shapes agree");
    for (x, d) in c.iter().zip(dense.iter()) {
        assert!((x - d).abs() <= 1e-4 * (1.0 + d.abs()), "{x} vs {d}");
    }
    let mut serial = Array2::<f32>::zeros((700, 100));
    csr_gemm_serial(1.0, &csr, b.view(), 0.0, serial.view_mut()).expect("shapes agree");
    assert_eq!(serial.mapv(f32::to_bits), c.mapv(f32::to_bits));
}

#[test]
fn strided_operands_give_the_same_product() {
    let a = sparse_matrix(30, 40, 0.7, 5);
    let csr = Csr::from_dense(a.view()).expect("small dimensions");
    let b = seeded(50, 40, 6); // used transposed: rows of bᵀ are not contiguous
    let expected = naive(a.view(), b.t());
    let mut c_t = Array2::<f64>::zeros((50, 30)); // written through its transpose
    csr_gemm(1.0, &csr, b.t(), 0.0, c_t.view_mut().reversed_axes()).expect("shapes agree");
    let wide = seeded(40, 100, 7);
    let mut c_slice = Array2::<f64>::zeros((30, 60));
    csr_gemm(1.0, &csr, wide.slice(s![.., 10..70]), 0.0, c_slice.view_mut()).expect("shapes agree");
    let expected_slice = naive(a.view(), wide.slice(s![.., 10..70]));
    for (x, e) in c_t.t().iter().zip(&expected).chain(c_slice.iter().zip(&expected_slice)) {
        assert!((x - e).abs() <= 1e-12, "{x} vs {e}");
    }
}

#[test]
fn shape_errors_are_errors_and_empty_products_are_fine() {
    let csr = Csr::from_dense(Array2::<f64>::eye(3).view()).expect("small dimensions");
    let mut c = Array2::<f64>::zeros((3, 2));
    assert!(csr_gemm(1.0, &csr, Array2::zeros((4, 2)).view(), 0.0, c.view_mut()).is_err());
    assert!(
        csr_gemm(
            1.0,
            &csr,
            Array2::zeros((3, 2)).view(),
            0.0,
            Array2::zeros((2, 2)).view_mut()
        )
        .is_err()
    );
    let empty = Csr::<f64>::new();
    csr_gemm(
        1.0,
        &empty,
        Array2::zeros((0, 4)).view(),
        0.0,
        Array2::zeros((0, 4)).view_mut(),
    )
    .expect("empty");
    let zero_rows = Csr::from_dense(Array2::<f64>::zeros((4, 3)).view()).expect("small");
    let mut c = Array2::from_elem((4, 9), 5.0);
    csr_gemm(1.0, &zero_rows, seeded(3, 9, 1).view(), 0.0, c.view_mut()).expect("shapes agree");
    assert!(c.iter().all(|&v| v == 0.0));
}
