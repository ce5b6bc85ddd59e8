//! One evaluation of a row at a given `beta`: the weights `exp(-beta d_j)` and
//! their first moments, vectorised (with AVX2 where the CPU has it).

use crate::exp::exp_nonpositive;

/// Sums over one row at one `beta`, in `f64`.
pub(crate) struct Moments {
    /// `sum w_j`.
    pub(crate) z: f64,
    /// `sum w_j d_j`.
    pub(crate) first: f64,
    /// `sum w_j d_j^2`.
    pub(crate) second: f64,
    /// `sum w_j d_j^3`.
    pub(crate) third: f64,
}

/// Lanes of independent partial sums: they let the compiler vectorise the
/// reductions, and their fixed order of combination keeps the result reproducible.
const LANES: usize = 4;

/// Writes `w_j = exp(-beta d_j)` into `weights` and returns the moments.
///
/// Two passes: the `exp` loop has no loop-carried dependency, so it vectorises
/// on its own; the sums run over explicit lanes, because floating-point sums
/// are vectorised only where the order of the additions is spelled out.
///
/// The AVX2 build of the same code computes the same IEEE operations on wider
/// registers (no FMA is enabled, so nothing is fused), hence the same bits as
/// the baseline build: the result does not depend on the CPU's features.
pub(crate) fn evaluate(shifted: &[f64], beta: f64, weights: &mut [f64]) -> Moments {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { evaluate_avx2(shifted, beta, weights) };
        }
    }
    evaluate_portable(shifted, beta, weights)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn evaluate_avx2(shifted: &[f64], beta: f64, weights: &mut [f64]) -> Moments {
    evaluate_portable(shifted, beta, weights)
}

#[inline(always)]
fn evaluate_portable(shifted: &[f64], beta: f64, weights: &mut [f64]) -> Moments {
    for (w, &d) in weights.iter_mut().zip(shifted) {
        *w = exp_nonpositive(-beta * d);
    }
    moments(shifted, weights)
}

/// The four moments, each summed in its own loop over `LANES` interleaved
/// partial sums (lane `l` takes elements `l, l + LANES, ...` in order, then the
/// lanes are combined pairwise). One accumulator per loop leaves the vectoriser
/// a single sensible way to map the lanes onto a SIMD register; with all four
/// in one loop it packs them across moments instead and runs ~2x slower.
#[inline(always)]
fn moments(shifted: &[f64], weights: &[f64]) -> Moments {
    Moments {
        z: lane_sum(shifted, weights, |_, w| w),
        first: lane_sum(shifted, weights, |d, w| w * d),
        second: lane_sum(shifted, weights, |d, w| (w * d) * d),
        third: lane_sum(shifted, weights, |d, w| ((w * d) * d) * d),
    }
}

#[inline(always)]
fn lane_sum(shifted: &[f64], weights: &[f64], term: impl Fn(f64, f64) -> f64) -> f64 {
    let (d_chunks, d_rest) = shifted.as_chunks::<LANES>();
    let (w_chunks, w_rest) = weights.as_chunks::<LANES>();
    let mut acc = [0.0_f64; LANES];
    for (d, w) in d_chunks.iter().zip(w_chunks) {
        for lane in 0..LANES {
            acc[lane] += term(d[lane], w[lane]);
        }
    }
    for (&d, &w) in d_rest.iter().zip(w_rest) {
        acc[0] += term(d, w);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_a_plain_loop() {
        let shifted: Vec<f64> = (0..103).map(|j| f64::from(j) * 0.05).collect();
        let mut weights = vec![0.0; shifted.len()];
        let m = evaluate(&shifted, 0.7, &mut weights);
        let w: Vec<f64> = shifted.iter().map(|&d| (-0.7 * d).exp()).collect();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * b.abs();
        assert!(close(m.z, w.iter().sum()));
        assert!(close(m.first, w.iter().zip(&shifted).map(|(w, d)| w * d).sum()));
        assert!(close(m.second, w.iter().zip(&shifted).map(|(w, d)| w * d * d).sum()));
        assert!(close(m.third, w.iter().zip(&shifted).map(|(w, d)| w * d * d * d).sum()));
    }

    #[test]
    fn every_cpu_path_gives_the_same_bits() {
        let shifted: Vec<f64> = (0..1001).map(|j| f64::from(j % 97) * 0.031).collect();
        let mut w1 = vec![0.0; shifted.len()];
        let mut w2 = vec![0.0; shifted.len()];
        let m1 = evaluate(&shifted, 3.3, &mut w1);
        let m2 = evaluate_portable(&shifted, 3.3, &mut w2);
        assert_eq!(w1, w2);
        assert_eq!(
            [m1.z, m1.first, m1.second, m1.third].map(f64::to_bits),
            [m2.z, m2.first, m2.second, m2.third].map(f64::to_bits)
        );
    }
}
