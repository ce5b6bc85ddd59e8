//! Quality metrics of a map: k-NN accuracy, trustworthiness, the t-SNE KL and
//! classifier accuracy.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ssne_affinity::{Perplexity, SearchOptions};
use ssne_autodiff::{StudentT, Tape};
use ssne_tensor::ndarray::{ArrayView2, Axis};

use crate::{ModelError, Result};

/// Rows per block when ranking high-dimensional neighbours (bounds memory to
/// `RANK_BLOCK x n` distances).
const RANK_BLOCK: usize = 256;

/// The `k` nearest rows of `reference` for each row of `query`, by exact `f64`
/// distance, ties broken by the lower index. `skip(i)` names a reference row
/// that is not a neighbour of query row `i` (the point itself when `query`
/// holds rows of `reference`).
///
/// A sweep: the reference rows are sorted by their first coordinate, and each
/// query visits them outwards from its own first coordinate, nearest first,
/// until the gap in that coordinate alone exceeds its k-th distance so far.
/// The result is the brute-force one (every row that could enter is visited,
/// and the same `(distance, index)` order decides), at a small fraction of
/// the cost for 2-D maps (about `n^1.5` instead of `n^2` distances).
fn knn_f64(
    query: ArrayView2<'_, f32>,
    reference: ArrayView2<'_, f32>,
    k: usize,
    skip: &(dyn Fn(usize) -> Option<usize> + Sync),
) -> Vec<Vec<usize>> {
    let n = reference.nrows();
    if reference.ncols() == 0 {
        // No coordinate to sweep: every distance is 0, so the lowest indices win.
        return (0..query.nrows())
            .map(|i| (0..n).filter(|&j| skip(i) != Some(j)).take(k).collect())
            .collect();
    }
    let first = |j: usize| f64::from(reference[[j, 0]]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| first(a).total_cmp(&first(b)).then(a.cmp(&b)));
    let sorted: Vec<f64> = order.iter().map(|&j| first(j)).collect();
    (0..query.nrows())
        .into_par_iter()
        .map(|i| {
            let q = query.row(i);
            let qx = f64::from(q[0]);
            let skipped = skip(i);
            let key = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            // The k best so far, kept sorted (k is small).
            let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
            let start = sorted.partition_point(|&x| x.total_cmp(&qx).is_lt());
            let (mut below, mut above) = (start, start);
            while below > 0 || above < n {
                let gap_below = if below > 0 {
                    qx - sorted[below - 1]
                } else {
                    f64::INFINITY
                };
                let gap_above = if above < n { sorted[above] - qx } else { f64::INFINITY };
                let take_below = above == n || (below > 0 && gap_below <= gap_above);
                let gap = if take_below { gap_below } else { gap_above };
                // Rows further along this coordinate are at least gap^2 away (a
                // NaN gap never stops the sweep).
                if best.len() == k && gap * gap > best[k - 1].0 {
                    break;
                }
                let pos = if take_below {
                    below -= 1;
                    below
                } else {
                    above += 1;
                    above - 1
                };
                let j = order[pos];
                if skipped == Some(j) || k == 0 {
                    continue;
                }
                let d: f64 = q
                    .iter()
                    .zip(reference.row(j))
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum();
                let cand = (d, j);
                if best.len() < k || key(&cand, &best[k - 1]).is_lt() {
                    let at = best.partition_point(|b| key(b, &cand).is_lt());
                    best.insert(at, cand);
                    best.truncate(k);
                }
            }
            best.iter().map(|&(_, j)| j).collect()
        })
        .collect()
}

/// Majority vote among the labels of `neighbours`; ties go to the smallest label
/// (as scikit-learn's `KNeighborsClassifier` with uniform weights).
pub(crate) fn vote(neighbours: impl IntoIterator<Item = usize>, labels: &[u32]) -> u32 {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for j in neighbours {
        let l = labels[j];
        match counts.iter_mut().find(|(c, _)| *c == l) {
            Some((_, n)) => *n += 1,
            None => counts.push((l, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.first().map_or(0, |c| c.0)
}

/// Accuracy of a k-NN classifier that labels each query point by the majority of
/// its `k` nearest reference points in the map (exact search).
///
/// # Errors
/// [`ModelError::TooFewPoints`] when `k` is 0 or exceeds the reference size, or
/// when the label counts do not match the rows.
///
/// # Example
/// ```
/// use ssne_tensor::ndarray::array;
/// let reference = array![[0.0_f32, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]];
/// let query = array![[0.05_f32, 0.0], [5.0, 5.1]];
/// let acc = ssne_model::metrics::knn_accuracy(reference.view(), &[0, 0, 1, 1], query.view(), &[0, 1], 1)?;
/// assert_eq!(acc, 1.0);
/// # Ok::<(), ssne_model::ModelError>(())
/// ```
pub fn knn_accuracy(
    reference: ArrayView2<'_, f32>,
    reference_labels: &[u32],
    query: ArrayView2<'_, f32>,
    query_labels: &[u32],
    k: usize,
) -> Result<f64> {
    if reference_labels.len() != reference.nrows() || query_labels.len() != query.nrows() {
        return Err(ModelError::TooFewPoints {
            what: "k-NN accuracy (one label per point)",
            needed: reference.nrows() + query.nrows(),
            found: reference_labels.len() + query_labels.len(),
        });
    }
    if k == 0 || k > reference.nrows() {
        return Err(ModelError::TooFewPoints {
            what: "k-NN accuracy (k reference points)",
            needed: k.max(1),
            found: reference.nrows(),
        });
    }
    if query.nrows() == 0 {
        return Ok(f64::NAN);
    }
    let neighbours = knn_f64(query, reference, k, &|_| None);
    let correct = neighbours
        .iter()
        .zip(query_labels)
        .filter(|&(nb, &l)| vote(nb.iter().copied(), reference_labels) == l)
        .count();
    Ok(correct as f64 / query.nrows() as f64)
}

/// The label the `k` nearest reference points of each query vote for (exact
/// search, ties to the smaller label).
///
/// # Errors
/// [`ModelError::TooFewPoints`] when `k` is 0 or exceeds the reference size.
pub fn knn_predict(
    reference: ArrayView2<'_, f32>,
    reference_labels: &[u32],
    query: ArrayView2<'_, f32>,
    k: usize,
) -> Result<Vec<u32>> {
    if k == 0 || k > reference.nrows() || reference_labels.len() != reference.nrows() {
        return Err(ModelError::TooFewPoints {
            what: "k-NN prediction (k labelled reference points)",
            needed: k.max(1),
            found: reference.nrows(),
        });
    }
    Ok(knn_f64(query, reference, k, &|_| None)
        .iter()
        .map(|nb| vote(nb.iter().copied(), reference_labels))
        .collect())
}

/// Leave-one-out accuracy of the k-NN classifier on a labelled map: each
/// point is labelled by the majority of its `k` nearest *other* points of the
/// same map (exact search, ties to the smaller label). On a model's training
/// map it measures how well the map fits; beside the accuracy of held-out
/// points placed against that map, a gap between the two is generalisation.
///
/// # Errors
/// [`ModelError::TooFewPoints`] unless `1 <= k < n`, or when the label count
/// does not match the rows.
///
/// # Example
/// ```
/// use ssne_tensor::ndarray::array;
/// // Two tight pairs far apart, and a stray 1 beside the 0s.
/// let map = array![[0.0_f32, 0.0], [0.1, 0.0], [0.2, 0.0], [5.0, 5.0], [5.1, 5.0]];
/// let acc = ssne_model::metrics::knn_accuracy_leave_one_out(map.view(), &[0, 0, 1, 1, 1], 1)?;
/// // Point 2 (label 1) has point 1 (label 0) nearest: wrong; point 1's nearest is 0 (tie with 2, lower index): right.
/// assert_eq!(acc, 0.8);
/// # Ok::<(), ssne_model::ModelError>(())
/// ```
pub fn knn_accuracy_leave_one_out(points: ArrayView2<'_, f32>, labels: &[u32], k: usize) -> Result<f64> {
    let n = points.nrows();
    if labels.len() != n {
        return Err(ModelError::TooFewPoints {
            what: "leave-one-out k-NN accuracy (one label per point)",
            needed: n,
            found: labels.len(),
        });
    }
    if k == 0 || k >= n {
        return Err(ModelError::TooFewPoints {
            what: "leave-one-out k-NN accuracy (k other points)",
            needed: k.max(1) + 1,
            found: n,
        });
    }
    let neighbours = knn_f64(points, points, k, &Some);
    let correct = neighbours
        .iter()
        .zip(labels)
        .filter(|&(nb, &l)| vote(nb.iter().copied(), labels) == l)
        .count();
    Ok(correct as f64 / n as f64)
}

/// Trustworthiness (Venna & Kaski) of the map `low` of the points `high`:
/// 1 - 2 / (n k (2n - 3k - 1)) * sum over points of sum over map neighbours j
/// that are not input-space neighbours of (rank of j in input space - k).
/// 1 means every map neighbourhood is a true neighbourhood. Matches
/// scikit-learn's `trustworthiness` (up to the order of exact ties).
///
/// # Errors
/// [`ModelError::TooFewPoints`] unless `1 <= k < n / 2`; row counts must match.
///
/// # Example
/// ```
/// use ssne_tensor::ndarray::array;
/// let x = array![[0.0_f32], [1.0], [2.0], [3.0], [4.0], [5.0]];
/// let t = ssne_model::metrics::trustworthiness(x.view(), x.view(), 2)?;
/// assert_eq!(t, 1.0);
/// # Ok::<(), ssne_model::ModelError>(())
/// ```
pub fn trustworthiness(high: ArrayView2<'_, f32>, low: ArrayView2<'_, f32>, k: usize) -> Result<f64> {
    let rows: Vec<usize> = (0..high.nrows()).collect();
    trustworthiness_of_rows(high, low, k, &rows)
}

/// [`trustworthiness`] estimated on `sample` rows drawn without replacement
/// by a `ChaCha8Rng` seeded with `seed`: the mean of the sampled points'
/// terms (each point's map neighbours ranked among *all* `n` points in the
/// input space), scaled as the exact sum over `n` points. It is the exact
/// figure's unbiased estimate at `O(sample n d)` instead of `O(n^2 d)`, and
/// the exact figure itself when `sample >= n`.
///
/// # Errors
/// As [`trustworthiness`], and for a `sample` of 0.
///
/// # Example
/// ```
/// use ssne_tensor::ndarray::Array2;
/// let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f32);
/// let t = ssne_model::metrics::trustworthiness_sampled(x.view(), x.view(), 3, 10, 7)?;
/// assert_eq!(t, 1.0);
/// # Ok::<(), ssne_model::ModelError>(())
/// ```
pub fn trustworthiness_sampled(
    high: ArrayView2<'_, f32>,
    low: ArrayView2<'_, f32>,
    k: usize,
    sample: usize,
    seed: u64,
) -> Result<f64> {
    let n = high.nrows();
    if sample == 0 {
        return Err(ModelError::TooFewPoints {
            what: "sampled trustworthiness (rows in the sample)",
            needed: 1,
            found: 0,
        });
    }
    if sample >= n {
        return trustworthiness(high, low, k);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(TRUST_SAMPLE_STREAM);
    let mut rows = rand::seq::index::sample(&mut rng, n, sample).into_vec();
    rows.sort_unstable();
    trustworthiness_of_rows(high, low, k, &rows)
}

/// The stream of the seed's `ChaCha8Rng` that samples trustworthiness rows ("TRST").
const TRUST_SAMPLE_STREAM: u64 = 0x5452_5354;

/// Trustworthiness summed over the points `rows` (distinct, each in `0..n`),
/// normalised per point: `1 - 2 / (m k (2n - 3k - 1)) * penalty` for `m` rows.
fn trustworthiness_of_rows(
    high: ArrayView2<'_, f32>,
    low: ArrayView2<'_, f32>,
    k: usize,
    rows: &[usize],
) -> Result<f64> {
    let n = high.nrows();
    if low.nrows() != n {
        return Err(ModelError::TooFewPoints {
            what: "trustworthiness (same points in both spaces)",
            needed: n,
            found: low.nrows(),
        });
    }
    if k == 0 || 2 * k >= n {
        return Err(ModelError::TooFewPoints {
            what: "trustworthiness (more than 2k points)",
            needed: 2 * k + 1,
            found: n,
        });
    }
    let low_rows = low.select(Axis(0), rows);
    let low_nb = knn_f64(low_rows.view(), low, k, &|q| Some(rows[q]));
    let mut penalty: u64 = 0;
    for (block_idx, block) in rows.chunks(RANK_BLOCK).enumerate() {
        let high_rows = high.select(Axis(0), block);
        let d = ssne_tensor::sq_dists_between(high_rows.view(), high)?;
        let block: u64 = block
            .par_iter()
            .enumerate()
            .map(|(r, &i)| {
                let row = d.row(r);
                let rank_of = |j: usize| -> usize {
                    // 1-based rank of j among i's input-space neighbours (i excluded), ties by index.
                    let dj = row[j];
                    1 + row
                        .iter()
                        .enumerate()
                        .filter(|&(l, &dl)| l != i && (dl < dj || (dl == dj && l < j)))
                        .count()
                };
                low_nb[block_idx * RANK_BLOCK + r]
                    .iter()
                    .map(|&j| rank_of(j))
                    .filter(|&r| r > k)
                    .map(|r| (r - k) as u64)
                    .sum::<u64>()
            })
            .sum();
        penalty += block;
    }
    let (m, n, k) = (rows.len() as f64, n as f64, k as f64);
    Ok(1.0 - 2.0 / (m * k * (2.0 * n - 3.0 * k - 1.0)) * penalty as f64)
}

/// The t-SNE objective KL(P || Q) of the map `y` of the points `x`: P the joint
/// input affinities at `perplexity` (dense, all pairs), Q the Student-t kernel
/// with `dof` degrees of freedom.
///
/// # Errors
/// Affinity errors (e.g. perplexity too large for the number of points).
pub fn tsne_kl(x: ArrayView2<'_, f32>, y: ArrayView2<'_, f32>, perplexity: f64, dof: f64) -> Result<f64> {
    if x.nrows() != y.nrows() {
        return Err(ModelError::TooFewPoints {
            what: "the KL (same points in both spaces)",
            needed: x.nrows(),
            found: y.nrows(),
        });
    }
    let p = ssne_affinity::joint_dense(
        x.mapv(f64::from).view(),
        Perplexity::new(perplexity)?,
        &SearchOptions::default(),
    )?;
    let mut tape = Tape::<f64>::new();
    let yv = tape.constant(y.mapv(f64::from));
    let kl = tape.tsne_kl(yv, p.p.view(), StudentT { dof })?;
    Ok(tape.value(kl)?[[0, 0]])
}

/// Share of `predicted` equal to `labels`.
pub fn accuracy(predicted: &[u32], labels: &[u32]) -> f64 {
    if labels.is_empty() {
        return f64::NAN;
    }
    predicted.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn neighbour_lists_hold_k_entries_not_a_buffer_of_every_point() {
        let points = ssne_tensor::ndarray::Array2::from_shape_fn((500, 3), |(i, j)| ((i * 7 + j * 13) % 31) as f32);
        let lists = knn_f64(points.view(), points.view(), 4, &Some);
        assert_eq!(lists.len(), 500);
        for list in &lists {
            assert_eq!(list.len(), 4);
            assert!(
                list.capacity() <= 4,
                "a neighbour list keeps {} entries of capacity",
                list.capacity()
            );
        }
    }

    #[test]
    fn knn_vote_breaks_ties_toward_the_smaller_label() {
        assert_eq!(vote([0, 1], &[3, 1]), 1);
        assert_eq!(vote([0, 1, 2], &[3, 1, 3]), 3);
    }

    #[test]
    fn knn_accuracy_by_hand() {
        // Query 0 at x=0.4: nearest two are labels 0 (x=0) and 1 (x=1) -> tie -> 0 (correct).
        // Query 1 at x=2.9: nearest two are x=3 (1) and x=2 (0) -> tie -> 0 (wrong, truth 1).
        // With k = 1 both are right: x=0 (0) for the first, x=3 (1) for the second.
        let reference = array![[0.0_f32, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]];
        let labels = [0, 1, 0, 1];
        let query = array![[0.4_f32, 0.0], [2.9, 0.0]];
        assert_eq!(
            knn_accuracy(reference.view(), &labels, query.view(), &[0, 1], 2).ok(),
            Some(0.5)
        );
        assert_eq!(
            knn_accuracy(reference.view(), &labels, query.view(), &[0, 1], 1).ok(),
            Some(1.0)
        );
        assert!(knn_accuracy(reference.view(), &labels, query.view(), &[0, 1], 5).is_err());
    }

    #[test]
    fn trustworthiness_by_hand() {
        // Points on a line at 0,1,2,3,4,5 (high); the map swaps points 0 and 5 (low).
        // k = 1, n = 6. Map neighbours: 0(at 5)->4, 1->2, 2->1, 3->2, 4->0(at 5), 5(at 0)->1.
        // Input ranks: r(0,4)=4 -> penalty 3; r(1,2)=1 or 2 (tie with 0: d=1 both; ties by index
        // put 0 first) -> rank 2 -> penalty 1; r(2,1)=1; r(3,2)=1; r(4,0)=5 -> 4; r(5,1)=4 -> 3.
        // Total 11; T = 1 - 2/(6*1*(12-3-1)) * 11 = 1 - 11/24.
        let high = array![[0.0_f32], [1.0], [2.0], [3.0], [4.0], [5.0]];
        let low = array![[5.0_f32], [1.0], [2.0], [3.0], [4.0], [0.0]];
        let t = trustworthiness(high.view(), low.view(), 1).ok();
        assert_eq!(t, Some(1.0 - 11.0 / 24.0));
        assert!(trustworthiness(high.view(), low.view(), 3).is_err());
    }

    /// The brute-force search the sweep must reproduce, ties and all.
    fn brute_force(
        query: ArrayView2<'_, f32>,
        reference: ArrayView2<'_, f32>,
        k: usize,
        skip: &dyn Fn(usize) -> Option<usize>,
    ) -> Vec<Vec<usize>> {
        (0..query.nrows())
            .map(|i| {
                let mut cand: Vec<(f64, usize)> = (0..reference.nrows())
                    .filter(|&j| skip(i) != Some(j))
                    .map(|j| {
                        let d = query
                            .row(i)
                            .iter()
                            .zip(reference.row(j))
                            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                            .sum();
                        (d, j)
                    })
                    .collect();
                cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                cand.iter().take(k).map(|&(_, j)| j).collect()
            })
            .collect()
    }

    #[test]
    fn the_sweep_finds_the_brute_force_neighbours_with_their_ties() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // Integer coordinates on a small grid: many exact ties in distance and in x.
        for (n, dim, spread) in [(300, 2, 6), (200, 2, 1000), (150, 3, 4), (40, 1, 3)] {
            let points =
                ssne_tensor::ndarray::Array2::from_shape_simple_fn((n, dim), || rng.random_range(0..spread) as f32);
            let queries = ssne_tensor::ndarray::Array2::from_shape_simple_fn((50, dim), || {
                rng.random_range(0..spread) as f32 + 0.5
            });
            for k in [1, 5, 12] {
                assert_eq!(
                    knn_f64(points.view(), points.view(), k, &Some),
                    brute_force(points.view(), points.view(), k, &Some),
                    "{n} x {dim}, k {k}"
                );
                assert_eq!(
                    knn_f64(queries.view(), points.view(), k, &|_| None),
                    brute_force(queries.view(), points.view(), k, &|_| None)
                );
            }
        }
    }

    #[test]
    fn leave_one_out_accuracy_by_hand() {
        // A line: 0 0 1 | 1 1 at x = 0, 1, 2, 10, 11. k = 1: point 0 -> 1 (0, right), 1 -> 0 (tie
        // with 2 at distance 1, lower index: right), 2 -> 1 (0, wrong), 3 -> 4 (right), 4 -> 3 (right).
        let map = array![[0.0_f32, 0.0], [1.0, 0.0], [2.0, 0.0], [10.0, 0.0], [11.0, 0.0]];
        let labels = [0, 0, 1, 1, 1];
        assert_eq!(knn_accuracy_leave_one_out(map.view(), &labels, 1).ok(), Some(0.8));
        // k = 3: point 2's others nearest are 1, 0 (both 0) and 3 (1): 0 wins, wrong; point 3's are
        // 4 (1), 2 (1), 1 (0): right; point 0's are 1, 2, 3 -> 0, 1, 1 -> 1, wrong.
        // Point 1: 0, 2, 3 -> 0, 1, 1 -> 1, wrong; point 4: 3, 2, 1 -> 1, 1, 0 -> 1, right.
        assert_eq!(knn_accuracy_leave_one_out(map.view(), &labels, 3).ok(), Some(0.4));
        // Not the same as classifying the map against itself, where each point finds itself.
        assert_eq!(
            knn_accuracy(map.view(), &labels, map.view(), &labels, 1).ok(),
            Some(1.0)
        );
        assert!(knn_accuracy_leave_one_out(map.view(), &labels, 5).is_err());
        assert!(knn_accuracy_leave_one_out(map.view(), &labels[..4], 1).is_err());
    }

    #[test]
    fn sampled_trustworthiness_by_hand_and_unbiased() {
        // The map of `trustworthiness_by_hand`: per-point penalties 3, 1, 0, 0, 4, 3 (total 11).
        let high = array![[0.0_f32], [1.0], [2.0], [3.0], [4.0], [5.0]];
        let low = array![[5.0_f32], [1.0], [2.0], [3.0], [4.0], [0.0]];
        let penalties = [3.0, 1.0, 0.0, 0.0, 4.0, 3.0];
        let scale = 2.0 / (1.0 * (12.0 - 3.0 - 1.0)); // 2 / (k (2n - 3k - 1)), per point
        let of_rows = |rows: &[usize]| trustworthiness_of_rows(high.view(), low.view(), 1, rows).ok();
        assert_eq!(of_rows(&[0, 4]), Some(1.0 - scale * 7.0 / 2.0));
        assert_eq!(of_rows(&[2, 3]), Some(1.0));
        // The mean over every pair of rows is the exact figure.
        let mut sum = 0.0;
        let mut pairs = 0.0;
        for a in 0..6 {
            for b in a + 1..6 {
                let t = of_rows(&[a, b]).unwrap_or(f64::NAN);
                assert!((t - (1.0 - scale * (penalties[a] + penalties[b]) / 2.0)).abs() < 1e-12);
                sum += t;
                pairs += 1.0;
            }
        }
        let exact = trustworthiness(high.view(), low.view(), 1).unwrap_or(f64::NAN);
        assert!((sum / pairs - exact).abs() < 1e-12, "{} vs {exact}", sum / pairs);
        // A sample as large as the data is the exact figure; a seeded sample repeats.
        assert_eq!(
            trustworthiness_sampled(high.view(), low.view(), 1, 6, 3).ok(),
            Some(exact)
        );
        let once = trustworthiness_sampled(high.view(), low.view(), 1, 3, 3).ok();
        assert_eq!(once, trustworthiness_sampled(high.view(), low.view(), 1, 3, 3).ok());
        assert!(trustworthiness_sampled(high.view(), low.view(), 1, 0, 3).is_err());
    }

    #[test]
    fn sampled_trustworthiness_is_close_to_the_exact_figure_on_real_data() {
        let data = ssne_data::bundled::mnist_sample()
            .and_then(|d| d.rows(0..1500))
            .expect("the bundled sample");
        // A crude map: the first two pixels' principal directions would be too good; take
        // two fixed mixtures of pixels.
        let x = data.features.view();
        let map = ssne_tensor::ndarray::Array2::from_shape_fn((x.nrows(), 2), |(i, c)| {
            x.row(i)
                .iter()
                .enumerate()
                .map(|(j, &v)| if (j * (c + 3)) % 7 < 3 { v } else { -v })
                .sum::<f32>()
        });
        let exact = trustworthiness(x, map.view(), 12).expect("enough points");
        let sampled = trustworthiness_sampled(x, map.view(), 12, 500, 1).expect("enough points");
        assert!(exact < 0.9, "a crude map should not be trustworthy: {exact}");
        assert!((sampled - exact).abs() < 0.01, "sampled {sampled}, exact {exact}");
        assert_ne!(sampled, exact, "500 of 1500 rows are a sample, not the whole");
    }

    #[test]
    fn kl_is_zero_only_for_a_perfect_match_and_positive_otherwise() {
        let x = array![[0.0_f32, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]];
        let y = array![[0.0_f32, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]];
        let kl = tsne_kl(x.view(), y.view(), 2.0, 1.0).ok().unwrap_or(f64::NAN);
        assert!(kl.is_finite() && kl > 0.0);
        let collapsed = array![[0.0_f32, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]];
        let worse = tsne_kl(x.view(), collapsed.view(), 2.0, 1.0).ok().unwrap_or(f64::NAN);
        // Q uniform: KL = sum P ln(P * 12) = ln 12 - H(P) > 0.
        assert!(worse > 0.0);
    }

    #[test]
    fn accuracy_counts_matches() {
        assert_eq!(accuracy(&[1, 2, 3, 4], &[1, 2, 0, 4]), 0.75);
    }
}
