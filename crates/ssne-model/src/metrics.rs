//! Quality metrics of a map: k-NN accuracy, trustworthiness, the t-SNE KL and
//! classifier accuracy.

use rayon::prelude::*;
use ssne_affinity::{Perplexity, SearchOptions};
use ssne_autodiff::{StudentT, Tape};
use ssne_tensor::ndarray::{ArrayView2, Axis, s};

use crate::{ModelError, Result};

/// Rows per block when ranking high-dimensional neighbours (bounds memory to
/// `RANK_BLOCK x n` distances).
const RANK_BLOCK: usize = 256;

/// The `k` nearest rows of `reference` for each row of `query`, by exact `f64`
/// distance, ties broken by the lower index. With `exclude_self`, `query` is
/// `reference` and each point is not its own neighbour.
fn knn_f64(
    query: ArrayView2<'_, f32>,
    reference: ArrayView2<'_, f32>,
    k: usize,
    exclude_self: bool,
) -> Vec<Vec<usize>> {
    (0..query.nrows())
        .into_par_iter()
        .map(|i| {
            let q = query.row(i);
            let mut cand: Vec<(f64, usize)> = reference
                .axis_iter(Axis(0))
                .enumerate()
                .filter(|&(j, _)| !(exclude_self && j == i))
                .map(|(j, r)| {
                    (
                        q.iter()
                            .zip(r)
                            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                            .sum(),
                        j,
                    )
                })
                .collect();
            let k = k.min(cand.len());
            if k == 0 {
                return Vec::new();
            }
            cand.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            cand.truncate(k);
            cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            // A fresh k-element Vec: collecting `cand.into_iter()` would reuse its buffer in
            // place, keeping n entries of capacity per row, memory quadratic in the points
            // (1.7 GB for 10,000 rows, out of memory at 60,000).
            cand[..k].iter().map(|&(_, j)| j).collect()
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
    let neighbours = knn_f64(query, reference, k, false);
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
    Ok(knn_f64(query, reference, k, false)
        .iter()
        .map(|nb| vote(nb.iter().copied(), reference_labels))
        .collect())
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
    let low_nb = knn_f64(low, low, k, true);
    let mut penalty: u64 = 0;
    for start in (0..n).step_by(RANK_BLOCK) {
        let end = (start + RANK_BLOCK).min(n);
        let d = ssne_tensor::sq_dists_between(high.slice(s![start..end, ..]), high)?;
        let block: u64 = (start..end)
            .into_par_iter()
            .map(|i| {
                let row = d.row(i - start);
                let rank_of = |j: usize| -> usize {
                    // 1-based rank of j among i's input-space neighbours (i excluded), ties by index.
                    let dj = row[j];
                    1 + row
                        .iter()
                        .enumerate()
                        .filter(|&(l, &dl)| l != i && (dl < dj || (dl == dj && l < j)))
                        .count()
                };
                low_nb[i]
                    .iter()
                    .map(|&j| rank_of(j))
                    .filter(|&r| r > k)
                    .map(|r| (r - k) as u64)
                    .sum::<u64>()
            })
            .sum();
        penalty += block;
    }
    let (n, k) = (n as f64, k as f64);
    Ok(1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty as f64)
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
        let lists = knn_f64(points.view(), points.view(), 4, true);
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
