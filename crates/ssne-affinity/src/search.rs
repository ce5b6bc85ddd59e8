//! The per-row search for the precision `beta` whose conditional distribution
//! has the requested entropy: Halley's method in `ln(beta)`, safeguarded by bisection.
//!
//! For one row with shifted squared distances `d_j >= 0` (the row's smallest
//! distance already subtracted, so some `d_j` is exactly 0), weights
//! `w_j = exp(-beta d_j)`, `Z = sum w_j` and `p_j = w_j / Z`, the entropy is
//! `H(beta) = ln Z + beta E_p[d]`, and `dH/d ln(beta) = -beta^2 Var_p[d]`. One
//! pass over the row gives `Z`, `E_p[d]` and `Var_p[d]`, so every evaluation (one
//! `exp` per neighbour) yields the value, the slope and (with the third moment)
//! the curvature. `H` falls monotonically from `ln m` (`beta = 0`, `m`
//! neighbours) to `ln c` (`beta -> inf`, `c` neighbours at the smallest
//! distance), and as a function of `ln(beta)` it is a smooth step, so Halley (or Newton) steps there converge in a handful of
//! evaluations, while a bracket `[lo, hi]` (bisected whenever a step leaves it
//! or is too long) makes every step safe.

use crate::SearchOptions;
use crate::pass::evaluate;

/// Longest step in `ln(beta)` taken at once (a factor of e^3 = 20 in beta): Newton
/// steps from the flat ends of the step function overshoot wildly, and without a
/// finite bracket there is nothing else to stop them.
const MAX_LOG_STEP: f64 = 3.0;

/// Largest `|ln(beta)|` (distances in units of their mean) the search visits.
const MAX_ABS_LOG_BETA: f64 = 700.0;

/// The outcome of the search for one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RowFit {
    /// The precision found: `0` for a uniform row, `inf` when the row's mass sits
    /// entirely on its nearest (tied) neighbours.
    pub(crate) beta: f64,
    /// The entropy of the returned row, in nats.
    pub(crate) entropy: f64,
    /// Whether `|entropy - target| < tolerance`.
    pub(crate) converged: bool,
    /// Number of passes of `exp` over the row.
    pub(crate) evaluations: usize,
}

/// The per-row outcomes of a search, in the form the public results carry.
pub(crate) struct Summary {
    pub(crate) beta: Vec<f64>,
    pub(crate) perplexity_reached: Vec<f64>,
    pub(crate) unconverged: Vec<usize>,
}

impl Summary {
    pub(crate) fn of(fits: &[RowFit]) -> Self {
        Self {
            beta: fits.iter().map(|f| f.beta).collect(),
            perplexity_reached: fits.iter().map(|f| f.entropy.exp()).collect(),
            unconverged: fits
                .iter()
                .enumerate()
                .filter(|(_, f)| !f.converged)
                .map(|(i, _)| i)
                .collect(),
        }
    }
}

/// Finds `beta` for one row and writes the row's probabilities into `probs`.
///
/// `shifted` holds the row's squared distances to its `m >= 1` candidate
/// neighbours minus their minimum (all finite, `>= 0`, at least one exactly 0);
/// `probs` has the same length. `target` is `ln(perplexity)`.
///
/// Two targets cannot be reached and are answered by the closest limit: at or
/// above `ln m - tol` the row is uniform (`beta = 0`); at or below `ln c` (`c` the
/// number of neighbours tied at the minimum, e.g. duplicates of the point) the
/// mass is spread evenly over those `c` (`beta = inf`). Either is flagged as
/// unconverged unless it lies within the tolerance.
pub(crate) fn fit_row(shifted: &mut [f64], target: f64, opts: &SearchOptions, probs: &mut [f64]) -> RowFit {
    debug_assert_eq!(shifted.len(), probs.len());
    let n_candidates = shifted.len();
    let tol = opts.tolerance_nats;

    let max_entropy = (n_candidates as f64).ln();
    if target >= max_entropy - tol {
        probs.fill(1.0 / n_candidates as f64);
        return RowFit {
            beta: 0.0,
            entropy: max_entropy,
            converged: (max_entropy - target).abs() < tol,
            evaluations: 0,
        };
    }

    let n_ties = shifted.iter().filter(|&&d| d == 0.0).count().max(1);
    let min_entropy = (n_ties as f64).ln();
    if target <= min_entropy {
        let share = 1.0 / n_ties as f64;
        for (p, &d) in probs.iter_mut().zip(shifted.iter()) {
            *p = if d == 0.0 { share } else { 0.0 };
        }
        return RowFit {
            beta: f64::INFINITY,
            entropy: min_entropy,
            converged: (min_entropy - target).abs() < tol,
            evaluations: 0,
        };
    }

    // Here ln c < target < ln m, so some d_j > 0 and the mean is positive.
    // Searching in units of the mean makes the search scale-free (the same
    // steps for distances of 1e-12 or 1e12) and keeps d^2 far from overflow.
    let mean = shifted.iter().sum::<f64>() / n_candidates as f64;
    let unit = if (1.0 / mean).is_finite() { mean } else { 1.0 };
    shifted.iter_mut().for_each(|d| *d /= unit);
    let fit = halley_search(shifted, target, opts, probs);
    RowFit {
        beta: fit.beta / unit,
        ..fit
    }
}

/// The search proper, for a reachable target (`ln c < target < ln m - tol`) and
/// distances in units of their mean; the returned `beta` is in the same units.
fn halley_search(shifted: &[f64], target: f64, opts: &SearchOptions, probs: &mut [f64]) -> RowFit {
    let n_candidates = shifted.len();
    let tol = opts.tolerance_nats;
    let max_entropy = (n_candidates as f64).ln();
    let mut log_beta = initial_log_beta(max_entropy - target);
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut last = (0.0, max_entropy, 1.0); // (beta, entropy, z) of the latest evaluation
    let mut evaluations = 0;
    let mut converged = false;
    let (mut last_step, mut step_before_last) = (f64::INFINITY, f64::INFINITY);

    while evaluations < opts.max_steps {
        let beta = log_beta.exp();
        let moments = evaluate(shifted, beta, probs);
        evaluations += 1;
        let mean_d = moments.first / moments.z;
        let entropy = moments.z.ln() + beta * mean_d;
        last = (beta, entropy, moments.z);
        let excess = entropy - target;
        if excess.abs() < tol {
            converged = true;
            break;
        }
        if excess > 0.0 {
            lo = log_beta;
        } else {
            hi = log_beta;
        }
        let variance = (moments.second / moments.z - mean_d * mean_d).max(0.0);
        let slope = -beta * beta * variance;
        // d^2H/du^2 = -2 beta^2 Var + beta^3 kappa_3 (kappa_3 the third central moment).
        let m2 = moments.second / moments.z;
        let m3 = moments.third / moments.z;
        let kappa3 = m3 - 3.0 * mean_d * m2 + 2.0 * mean_d * mean_d * mean_d;
        let curvature = beta * beta * (beta * kappa3 - 2.0 * variance);
        let newton_step = -excess / slope;
        // Halley's correction 1 / (1 - f f'' / (2 f'^2)) gives cubic convergence
        // (about one evaluation fewer per row than Newton); it is used only where
        // it is a moderate correction, i.e. where the local quadratic model is sane.
        let halley_factor = 1.0 / (1.0 - excess * curvature / (2.0 * slope * slope));
        let step = if (0.5..=2.0).contains(&halley_factor) {
            newton_step * halley_factor
        } else {
            newton_step
        };
        let newton = log_beta + step;
        // A Newton step is taken only if it stays inside the bracket and is at
        // most half as long as the step before last (Numerical Recipes' rtsafe
        // rule): on the flat ends of the step function Newton bounces between
        // them, and bisection breaks that cycle.
        let next =
            if newton > lo && newton < hi && step.abs() <= MAX_LOG_STEP && step.abs() <= 0.5 * step_before_last.abs() {
                newton
            } else if lo.is_finite() && hi.is_finite() {
                0.5 * (lo + hi)
            } else if lo.is_finite() {
                log_beta + MAX_LOG_STEP
            } else {
                log_beta - MAX_LOG_STEP
            };
        step_before_last = last_step;
        last_step = next - log_beta;
        log_beta = next;
        // Once the bracket is a few ulp wide no step can change the entropy any
        // more; and beyond e^(+-700) beta (or beta * d) leaves the f64 range.
        if hi - lo <= 4.0 * f64::EPSILON * log_beta.abs().max(1.0) || log_beta.abs() > MAX_ABS_LOG_BETA {
            break;
        }
    }

    let (beta, entropy, z) = last;
    if evaluations == 0 {
        // max_steps == 0: report the uniform row we started from.
        probs.fill(1.0 / n_candidates as f64);
    } else {
        let inv_z = 1.0 / z;
        probs.iter_mut().for_each(|p| *p *= inv_z);
    }
    RowFit {
        beta,
        entropy,
        converged,
        evaluations,
    }
}

/// Starting point of the search in `ln(beta)`, for distances in units of their
/// mean, from the gap `ln(m) - ln(perplexity)` between the uniform row's entropy
/// and the target: `beta = 3.2 * gap`. An empirical fit (MNIST, Gaussian blobs
/// in 2 to 784 dimensions, perplexity 5 to 50, dense rows and k-NN rows) that
/// lands within about 0.5 of the answer in `ln(beta)`, so that most rows
/// converge in 3 evaluations instead of 5 or 6 from `beta = 1 / mean`.
fn initial_log_beta(gap: f64) -> f64 {
    (3.2 * gap).max(f64::MIN_POSITIVE).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit_perplexity(shifted: &[f64], perplexity: f64) -> (RowFit, Vec<f64>) {
        let mut probs = vec![0.0; shifted.len()];
        let fit = fit_row(
            &mut shifted.to_vec(),
            perplexity.ln(),
            &SearchOptions::default(),
            &mut probs,
        );
        (fit, probs)
    }

    fn entropy(probs: &[f64]) -> f64 {
        -probs.iter().filter(|&&p| p > 0.0).map(|&p| p * p.ln()).sum::<f64>()
    }

    #[test]
    fn reaches_the_target_entropy() {
        let shifted: Vec<f64> = (0..50).map(|j| f64::from(j) * 0.37).collect();
        for perplexity in [1.5, 5.0, 20.0, 49.0] {
            let (fit, probs) = fit_perplexity(&shifted, perplexity);
            assert!(fit.converged, "perplexity {perplexity}: {fit:?}");
            assert!((entropy(&probs) - perplexity.ln()).abs() < 1e-5);
            assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(fit.evaluations < 20, "{fit:?}");
        }
    }

    #[test]
    fn uniform_when_the_target_is_the_maximum() {
        let (fit, probs) = fit_perplexity(&[0.0, 1.0, 2.0, 3.0], 4.0);
        assert_eq!(fit.beta, 0.0);
        assert!(fit.converged);
        assert_eq!(probs, vec![0.25; 4]);
    }

    #[test]
    fn ties_below_the_target_spread_the_mass_over_the_ties() {
        // Three duplicates at distance 0: the entropy never drops below ln 3.
        let (fit, probs) = fit_perplexity(&[0.0, 0.0, 5.0, 0.0, 7.0], 2.0);
        assert_eq!(fit.beta, f64::INFINITY);
        assert!(!fit.converged);
        assert_eq!(probs, vec![1.0 / 3.0, 1.0 / 3.0, 0.0, 1.0 / 3.0, 0.0]);
        // ... and exactly at ln 3 that limit is the answer.
        let (at_limit, _) = fit_perplexity(&[0.0, 0.0, 5.0, 0.0, 7.0], 3.0);
        assert!(at_limit.converged);
    }

    #[test]
    fn huge_and_tiny_distance_scales_converge() {
        for scale in [1e-200, 1e-12, 1.0, 1e12, 1e200] {
            let shifted: Vec<f64> = (0..30).map(|j| f64::from(j * j) * scale).collect();
            let (fit, probs) = fit_perplexity(&shifted, 7.0);
            assert!(fit.converged, "scale {scale:e}: {fit:?}");
            assert!(probs.iter().all(|p| p.is_finite()));
        }
    }

    #[test]
    fn an_unreachably_fine_tolerance_stops_without_nan() {
        let opts = SearchOptions {
            tolerance_nats: 1e-300,
            max_steps: 100_000,
        };
        // Just above the floor ln 2 (two tied neighbours): no f64 beta gets within 1e-300.
        let mut probs = vec![0.0; 3];
        let fit = fit_row(&mut [0.0, 0.0, 1.0], 2f64.ln() + 1e-12, &opts, &mut probs);
        assert!(!fit.converged);
        assert!(probs.iter().all(|p| p.is_finite()));
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(fit.evaluations < 1000, "{fit:?}");
    }

    #[test]
    fn zero_steps_reports_unconverged_uniform() {
        let opts = SearchOptions {
            tolerance_nats: 1e-5,
            max_steps: 0,
        };
        let mut probs = vec![0.0; 3];
        let fit = fit_row(&mut [0.0, 1.0, 2.0], 2f64.ln(), &opts, &mut probs);
        assert!(!fit.converged);
        assert_eq!(probs, vec![1.0 / 3.0; 3]);
    }
}
