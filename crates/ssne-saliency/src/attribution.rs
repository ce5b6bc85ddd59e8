//! The [`Attribution`] trait and the plain gradient methods built on one VJP.

use ssne_tensor::ndarray::{Array2, ArrayView2, Zip};

use crate::Result;
use crate::networks::Networks;
use crate::target::{Plan, Target};
use crate::vjp::input_gradient_f32;

/// A saliency method: one map per row of `x`, each as wide as the input.
///
/// Methods hold only their settings; the model is an argument, so the same
/// method can explain every member of an [`Ensemble`](crate::Ensemble), and
/// wrappers such as [`SmoothGrad`](crate::SmoothGrad) compose over any method.
pub trait Attribution {
    /// The maps of the rows of `x` for `target`, `[n, features]`.
    ///
    /// # Errors
    /// [`SaliencyError::FeatureCount`](crate::SaliencyError::FeatureCount) for
    /// points of the wrong width, the target's errors (see [`Target::resolve`]
    /// and [`Target::score`]), and the method's own setting errors.
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>>;
}

impl<A: Attribution + ?Sized> Attribution for &A {
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>> {
        (**self).attribute(networks, x, target)
    }
}

/// The gradient of the target's scalar with respect to the input: class
/// saliency `∂S_c/∂x` (Simonyan et al.) or directional saliency `vᵀ ∂Y/∂x`.
///
/// The whole batch costs one forward and one backward pass, without a tape
/// ([`ssne_model::Network::input_vjp`]).
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_saliency::{Attribution, Gradient, Networks, Target};
/// use ssne_tensor::ndarray::Array2;
///
/// let net = Network::init(NetworkSpec::paper(6, 3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let x = Array2::<f32>::ones((5, 6));
/// let maps = Gradient.attribute(Networks::new(&net), x.view(), &Target::unit_direction(&[1.0, 1.0]))?;
/// assert_eq!(maps.dim(), (5, 6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Gradient;

impl Attribution for Gradient {
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>> {
        let plan = Plan::new(target, networks, x)?;
        let seed = plan.seed(0..x.nrows());
        input_gradient_f32(plan.network, x, plan.output, seed.view())
    }
}

/// The gradient times the input, `x ⊙ ∂F/∂x`: a first-order estimate of each
/// pixel's contribution relative to a zero image. Pixels that are zero in the
/// point get zero attribution, whatever their gradient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct InputTimesGradient;

impl Attribution for InputTimesGradient {
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>> {
        let mut maps = Gradient.attribute(networks, x, target)?;
        Zip::from(&mut maps).and(x).for_each(|m, &x| *m *= x);
        Ok(maps)
    }
}

/// The absolute value of another method's maps (the usual way class saliency
/// is shown). Compose it inside [`SmoothGrad`](crate::SmoothGrad) to average
/// magnitudes, outside to take the magnitude of the average.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Absolute<A>(pub A);

impl<A: Attribution> Attribution for Absolute<A> {
    fn attribute(&self, networks: Networks<'_>, x: ArrayView2<'_, f32>, target: &Target) -> Result<Array2<f32>> {
        let mut maps = self.0.attribute(networks, x, target)?;
        maps.mapv_inplace(f32::abs);
        Ok(maps)
    }
}
