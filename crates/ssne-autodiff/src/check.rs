//! A public gradient checker, in the manner of `torch.autograd.gradcheck`:
//! tape gradients against central finite differences, in `f64`.
//!
//! Each check builds the function on a fresh [`Tape<f64>`] from a leaf `x`,
//! asks the tape for the derivative, then re-evaluates the function at
//! perturbed inputs. Element `k` uses the step `h = step * max(1, |x_k|)`;
//! the difference quotient divides by the perturbation actually represented,
//! `(x_k + h) - (x_k - h)`. A value passes when
//! `|tape - fd| <= atol + rtol * max(|tape|, |fd|)`.
//!
//! # Example
//! ```
//! use ssne_autodiff::check::{self, Tolerance};
//! use ssne_tensor::ndarray::array;
//!
//! // f(x) = sum(tanh(x) * x)
//! let x = array![[0.3, -1.2], [2.0, 0.5]];
//! check::gradient(|t, x| { let y = t.tanh(x)?; let y = t.mul(y, x)?; t.sum(y) }, &x, Tolerance::default())?;
//! # Ok::<(), check::GradientMismatch>(())
//! ```

use std::fmt;

use ssne_tensor::ndarray::{Array2, Zip};

use crate::{AutodiffError, Tape, Var};

/// Pass/fail thresholds and the finite-difference step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance, applied to the larger of the two magnitudes.
    pub rtol: f64,
    /// Base step, scaled by `max(1, |x|)`.
    pub step: f64,
}

impl Default for Tolerance {
    /// PyTorch's `gradcheck` defaults: atol 1e-5, rtol 1e-3, step 1e-6.
    fn default() -> Self {
        Self {
            atol: 1e-5,
            rtol: 1e-3,
            step: 1e-6,
        }
    }
}

impl Tolerance {
    fn allowed(&self, tape: f64, fd: f64) -> f64 {
        self.atol + self.rtol * tape.abs().max(fd.abs())
    }

    /// `Err` unless the two values agree (NaN never agrees).
    fn compare(
        &self,
        tape: f64,
        finite_difference: f64,
        at: impl FnOnce() -> Location,
    ) -> Result<(), GradientMismatch> {
        let allowed = self.allowed(tape, finite_difference);
        if (tape - finite_difference).abs() <= allowed {
            return Ok(());
        }
        Err(GradientMismatch {
            kind: MismatchKind::Value {
                at: at(),
                tape,
                finite_difference,
                allowed,
            },
        })
    }
}

/// A failed check: which value disagreed, or why the function could not be
/// evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientMismatch {
    kind: MismatchKind,
}

/// What went wrong in a [`GradientMismatch`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MismatchKind {
    /// A derivative disagreed with its finite difference.
    Value {
        /// Which derivative.
        at: Location,
        /// The value from the tape.
        tape: f64,
        /// The central finite difference.
        finite_difference: f64,
        /// The tolerance `atol + rtol * max(|tape|, |fd|)` it exceeded.
        allowed: f64,
    },
    /// Building or differentiating the function failed.
    Evaluation(AutodiffError),
}

/// The derivative a [`MismatchKind::Value`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// `d f / d x[row, col]` of a scalar function ([`gradient`]).
    Gradient {
        /// Element of `x`.
        input: [usize; 2],
    },
    /// `d f[output] / d x[row, col]` ([`jacobian`]); `output` is row-major.
    Jacobian {
        /// Flattened output element.
        output: usize,
        /// Element of `x`.
        input: [usize; 2],
    },
    /// The directional derivative of a VJP ([`vjp_directional`]).
    Directional,
}

impl GradientMismatch {
    /// What disagreed, or why evaluation failed.
    pub fn kind(&self) -> &MismatchKind {
        &self.kind
    }

    fn evaluation(error: AutodiffError) -> Self {
        Self {
            kind: MismatchKind::Evaluation(error),
        }
    }
}

impl fmt::Display for GradientMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            MismatchKind::Value {
                at,
                tape,
                finite_difference,
                allowed,
            } => {
                match at {
                    Location::Gradient { input } => write!(f, "gradient mismatch at x{input:?}")?,
                    Location::Jacobian { output, input } => {
                        write!(f, "jacobian mismatch at output {output}, x{input:?}")?
                    }
                    Location::Directional => write!(f, "directional derivative mismatch")?,
                }
                write!(
                    f,
                    ": tape {tape:e}, finite difference {finite_difference:e} (|difference| {:e} > allowed {allowed:e})",
                    (tape - finite_difference).abs()
                )
            }
            MismatchKind::Evaluation(error) => write!(f, "gradient check could not evaluate the function: {error}"),
        }
    }
}

impl std::error::Error for GradientMismatch {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            MismatchKind::Evaluation(error) => Some(error),
            MismatchKind::Value { .. } => None,
        }
    }
}

impl From<AutodiffError> for GradientMismatch {
    fn from(error: AutodiffError) -> Self {
        Self::evaluation(error)
    }
}

/// Checks every element of the gradient of the scalar function `f` at `x`
/// against central finite differences (`2 * x.len()` extra evaluations).
///
/// `f` receives a fresh tape and a `var` leaf holding `x`, and must return a
/// `[1, 1]` node.
///
/// # Errors
/// The first element that disagrees ([`MismatchKind::Value`]), or
/// [`MismatchKind::Evaluation`] if `f` or the backward pass fails.
pub fn gradient<F>(f: F, x: &Array2<f64>, tol: Tolerance) -> Result<(), GradientMismatch>
where
    F: Fn(&mut Tape<f64>, Var) -> crate::Result<Var>,
{
    let mut tape = Tape::new();
    let x_var = tape.var(x.clone());
    let out = f(&mut tape, x_var)?;
    let tape_grad = tape
        .backward(out)?
        .take(x_var)
        .unwrap_or_else(|| Array2::zeros(x.dim()));
    let mut probe = x.clone();
    for ((row, col), &x_k) in x.indexed_iter() {
        let h = tol.step * x_k.abs().max(1.0);
        let (up, down) = (x_k + h, x_k - h);
        probe[[row, col]] = up;
        let f_up = scalar_at(&f, &mut tape, &probe)?;
        probe[[row, col]] = down;
        let f_down = scalar_at(&f, &mut tape, &probe)?;
        probe[[row, col]] = x_k;
        let fd = (f_up - f_down) / (up - down);
        tol.compare(tape_grad[[row, col]], fd, || Location::Gradient { input: [row, col] })?;
    }
    Ok(())
}

/// Checks the full Jacobian of a (possibly non-scalar) `f` at `x`, as computed
/// by [`Tape::jacobian`], against central finite differences, one input
/// element at a time. Meant for small shapes: it costs `f.len()` VJPs and
/// `2 * x.len()` evaluations.
///
/// # Errors
/// The first entry that disagrees, or [`MismatchKind::Evaluation`].
pub fn jacobian<F>(f: F, x: &Array2<f64>, tol: Tolerance) -> Result<(), GradientMismatch>
where
    F: Fn(&mut Tape<f64>, Var) -> crate::Result<Var>,
{
    let mut tape = Tape::new();
    let x_var = tape.var(x.clone());
    let out = f(&mut tape, x_var)?;
    let tape_jac = tape.jacobian(out, x_var)?;
    let mut probe = x.clone();
    for (input_idx, ((row, col), &x_k)) in x.indexed_iter().enumerate() {
        let h = tol.step * x_k.abs().max(1.0);
        let (up, down) = (x_k + h, x_k - h);
        probe[[row, col]] = up;
        let f_up = value_at(&f, &mut tape, &probe)?;
        probe[[row, col]] = down;
        let f_down = value_at(&f, &mut tape, &probe)?;
        probe[[row, col]] = x_k;
        for (output, (&a, &b)) in f_up.iter().zip(&f_down).enumerate() {
            let fd = (a - b) / (up - down);
            tol.compare(tape_jac[[output, input_idx]], fd, || Location::Jacobian {
                output,
                input: [row, col],
            })?;
        }
    }
    Ok(())
}

/// Checks a vector-Jacobian product of a non-scalar `f` along one direction:
/// compares `Σ direction ∘ (seedᵀ J)` from [`Tape::vjp`] with
/// `(seed · f(x + h u) - seed · f(x - h u)) / 2h` (PyTorch's fast mode).
///
/// The step is `h = step * max(1, max|x|) / max|direction|`, so the largest
/// perturbed coordinate moves by `step * max(1, max|x|)`.
///
/// # Errors
/// A [`Location::Directional`] mismatch, or [`MismatchKind::Evaluation`] (e.g.
/// [`AutodiffError::SeedShape`] for a seed not shaped like `f`'s output,
/// [`AutodiffError::ShapeMismatch`] for a direction not shaped like `x`).
pub fn vjp_directional<F>(
    f: F,
    x: &Array2<f64>,
    seed: &Array2<f64>,
    direction: &Array2<f64>,
    tol: Tolerance,
) -> Result<(), GradientMismatch>
where
    F: Fn(&mut Tape<f64>, Var) -> crate::Result<Var>,
{
    if direction.dim() != x.dim() {
        return Err(AutodiffError::ShapeMismatch {
            op: "vjp_directional",
            left: [x.nrows(), x.ncols()],
            right: [direction.nrows(), direction.ncols()],
        }
        .into());
    }
    let mut tape = Tape::new();
    let x_var = tape.var(x.clone());
    let out = f(&mut tape, x_var)?;
    let tape_grad = tape
        .vjp(out, seed.view())?
        .take(x_var)
        .unwrap_or_else(|| Array2::zeros(x.dim()));
    let along: f64 = Zip::from(&tape_grad)
        .and(direction)
        .fold(0.0, |acc, &g, &u| acc + g * u);

    let max_abs = |a: &Array2<f64>| a.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let u_max = max_abs(direction);
    if u_max == 0.0 {
        return tol.compare(along, 0.0, || Location::Directional);
    }
    let h = tol.step * max_abs(x).max(1.0) / u_max;
    let seeded = |tape: &mut Tape<f64>, probe: &Array2<f64>| -> Result<f64, GradientMismatch> {
        let value = value_at(&f, tape, probe)?;
        Ok(Zip::from(&value).and(seed).fold(0.0, |acc, &v, &s| acc + v * s))
    };
    let f_up = seeded(&mut tape, &(x + &(direction * h)))?;
    let f_down = seeded(&mut tape, &(x - &(direction * h)))?;
    tol.compare(along, (f_up - f_down) / (2.0 * h), || Location::Directional)
}

/// `f(x)` on a cleared tape, as an owned array.
fn value_at<F>(f: &F, tape: &mut Tape<f64>, x: &Array2<f64>) -> Result<Array2<f64>, GradientMismatch>
where
    F: Fn(&mut Tape<f64>, Var) -> crate::Result<Var>,
{
    tape.clear();
    let x_var = tape.var_from(x.view());
    let out = f(tape, x_var)?;
    Ok(tape.value(out)?.to_owned())
}

/// `f(x)` on a cleared tape, which must be `[1, 1]`.
fn scalar_at<F>(f: &F, tape: &mut Tape<f64>, x: &Array2<f64>) -> Result<f64, GradientMismatch>
where
    F: Fn(&mut Tape<f64>, Var) -> crate::Result<Var>,
{
    tape.clear();
    let x_var = tape.var_from(x.view());
    let out = f(tape, x_var)?;
    Ok(tape.scalar(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn a_wrong_gradient_is_reported_with_its_element() {
        // Forward sum(x * x) but with a constant copy on one side, so the tape
        // sees d/dx = x while the true derivative is 2x.
        let x = array![[1.0, 2.0]];
        let wrong = |t: &mut Tape<f64>, x| {
            let frozen = t.constant(t.value(x)?.to_owned());
            let y = t.mul(x, frozen)?;
            t.sum(y)
        };
        let err = gradient(wrong, &x, Tolerance::default()).unwrap_err();
        match err.kind() {
            MismatchKind::Value {
                at: Location::Gradient { input },
                tape,
                finite_difference,
                ..
            } => {
                assert_eq!(*input, [0, 0]);
                assert!((tape - 1.0).abs() < 1e-12);
                assert!((finite_difference - 2.0).abs() < 1e-6);
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("x[0, 0]") && text.contains("tape 1e0"), "{text}");

        let seed = array![[1.0]];
        let direction = array![[0.0, 1.0]];
        let err = vjp_directional(wrong, &x, &seed, &direction, Tolerance::default()).unwrap_err();
        assert!(matches!(
            err.kind(),
            MismatchKind::Value {
                at: Location::Directional,
                ..
            }
        ));
        let err = jacobian(wrong, &x, Tolerance::default()).unwrap_err();
        assert!(matches!(
            err.kind(),
            MismatchKind::Value {
                at: Location::Jacobian {
                    output: 0,
                    input: [0, 0]
                },
                ..
            }
        ));
    }

    #[test]
    fn evaluation_errors_are_reported_as_such() {
        let x = array![[1.0, 2.0]];
        let err = gradient(|t, x| t.tanh(x), &x, Tolerance::default()).unwrap_err();
        assert_eq!(
            err.kind(),
            &MismatchKind::Evaluation(AutodiffError::NotScalar { shape: [1, 2] })
        );
        assert!(std::error::Error::source(&err).is_some());
        let err = vjp_directional(
            |t, x| t.tanh(x),
            &x,
            &array![[1.0]],
            &array![[1.0, 0.0]],
            Tolerance::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err.kind(),
            MismatchKind::Evaluation(AutodiffError::SeedShape { .. })
        ));
        let err = vjp_directional(|t, x| t.tanh(x), &x, &x, &array![[1.0]], Tolerance::default()).unwrap_err();
        assert!(matches!(
            err.kind(),
            MismatchKind::Evaluation(AutodiffError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn a_correct_gradient_passes() {
        let x = array![[0.5, -1.5, 3.0]];
        gradient(
            |t, x| {
                let y = t.sigmoid(x)?;
                t.mean(y)
            },
            &x,
            Tolerance::default(),
        )
        .unwrap();
        vjp_directional(
            |t, x| t.tanh(x),
            &x,
            &array![[1.0, -2.0, 0.5]],
            &array![[0.3, 0.1, -1.0]],
            Tolerance::default(),
        )
        .unwrap();
    }
}
