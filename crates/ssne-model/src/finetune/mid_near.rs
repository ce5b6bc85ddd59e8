//! Drawing the mid-near pairs of a step (ParamRepulsor's, after PaCMAP): for a point, the second
//! nearest in input space of a few random other points.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ssne_tensor::ndarray::{ArrayView1, ArrayView2};

use crate::config::MidNearRepulsion;

/// Squared distance of two rows, summed in `f64`.
fn sq_dist(a: ArrayView1<'_, f32>, b: ArrayView1<'_, f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(&p, &q)| {
            let d = f64::from(p) - f64::from(q);
            d * d
        })
        .sum()
}

/// Fills `out` with the mid-near pairs of a step whose row `r`, `batch.row(r)`, is point
/// `indices[r]` of the training set:
/// for every row, `pairs_per_point` times, [`MidNearRepulsion::CANDIDATES`] other rows are drawn
/// uniformly (with replacement) and the second nearest of them to the row, in input space, is its
/// partner (the nearest when only one other row exists). A partner that is the same point as the
/// row (a point drawn twice in the step) gives no pair. Draws are serial, so the pairs depend only
/// on `rng`'s position.
pub(super) fn draw_mid_near(
    out: &mut Vec<(u32, u32)>,
    batch: ArrayView2<'_, f32>,
    indices: &[usize],
    pairs_per_point: usize,
    rng: &mut ChaCha8Rng,
) {
    out.clear();
    let rows = indices.len();
    if rows < 2 {
        return;
    }
    let row = |r: usize| batch.row(r);
    let mut candidates = [(0.0_f64, 0u32); MidNearRepulsion::CANDIDATES];
    for a in 0..rows {
        let xa = row(a);
        for _ in 0..pairs_per_point {
            for slot in &mut candidates {
                let other = rng.random_range(0..rows - 1);
                let other = if other >= a { other + 1 } else { other };
                *slot = (sq_dist(xa, row(other)), other as u32);
            }
            // Stable on ties, so the pick depends on the draws alone.
            candidates.sort_by(|p, q| p.0.total_cmp(&q.0));
            let pick = if rows > 2 { candidates[1].1 } else { candidates[0].1 };
            if indices[pick as usize] != indices[a] {
                out.push((a as u32, pick));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use ssne_tensor::ndarray::Array2;

    use super::*;

    #[test]
    fn the_partner_is_the_second_nearest_of_the_candidates() {
        // Points on a line at 0, 1, 2, ..., 9: a row's candidates are known from the stream, and
        // the pair must be the second nearest of them.
        let x = Array2::from_shape_fn((10, 2), |(i, j)| if j == 0 { i as f32 } else { 0.0 });
        let indices: Vec<usize> = (0..10).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut replay = rng.clone();
        let mut pairs = Vec::new();
        draw_mid_near(&mut pairs, x.view(), &indices, 2, &mut rng);
        assert_eq!(pairs.len(), 20);
        for (k, &(a, b)) in pairs.iter().enumerate() {
            assert_eq!(a as usize, k / 2);
            let mut drawn: Vec<(f64, usize)> = (0..MidNearRepulsion::CANDIDATES)
                .map(|_| {
                    let o = replay.random_range(0..9);
                    let o = if o >= a as usize { o + 1 } else { o };
                    ((o as f64 - f64::from(a)).powi(2), o)
                })
                .collect();
            drawn.sort_by(|p, q| p.0.total_cmp(&q.0));
            assert_eq!(b as usize, drawn[1].1, "pair {k}");
            assert_ne!(a, b);
        }
    }

    #[test]
    fn a_point_is_never_paired_with_itself() {
        // Rows 0 and 1 are both point 3, rows 2 and 3 both point 5: the only other rows.
        let x = Array2::from_shape_fn((6, 3), |(i, j)| (i * 3 + j) as f32);
        let mut pairs = Vec::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..20 {
            let batch = x.select(ssne_tensor::ndarray::Axis(0), &[3, 3, 5, 5]);
            draw_mid_near(&mut pairs, batch.view(), &[3, 3, 5, 5], 3, &mut rng);
            let point = [3, 3, 5, 5];
            assert!(pairs.iter().all(|&(a, b)| point[a as usize] != point[b as usize]));
        }
        // Too few rows for a pair: nothing, and no panic.
        draw_mid_near(&mut pairs, x.view(), &[2], 3, &mut rng);
        assert!(pairs.is_empty());
    }
}
