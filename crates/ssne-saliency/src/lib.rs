#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod additive;
mod attribution;
mod directional;
mod energy;
mod ensemble;
mod error;
pub mod faithfulness;
mod groups;
mod integrated;
mod jacobian;
mod networks;
pub mod picture;
mod smooth;
mod target;
mod vjp;

pub use additive::{Additive, AdditiveMaps, additive_contributions};
pub use attribution::{Absolute, Attribution, Gradient, InputTimesGradient};
pub use directional::{DirectionalMap, EnsembleDirectionalMap, directional, directional_ensemble};
pub use energy::{constant_inputs, energy_share, rarely_lit};
pub use ensemble::{Ensemble, EnsembleMaps};
pub use error::{Result, SaliencyError};
pub use groups::{Centre, Groups, centre, centres};
pub use integrated::{Baseline, IntegratedGradients, IntegratedMaps};
pub use jacobian::{jacobian, jacobians};
pub use networks::Networks;
pub use smooth::{NoiseRange, SmoothGrad};
pub use target::Target;
pub use vjp::{Output, input_gradient};
