#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod atomic;
#[cfg(feature = "bundled-mnist")]
pub mod bundled;
pub mod csv;
mod dataset;
mod error;
mod features;
pub mod idx;
mod labels;
mod load;
pub mod mnist;
pub mod npy;
mod scaling;
mod source;
mod split;
pub mod stream;

pub use atomic::{AtomicFile, write_atomic};
pub use dataset::Dataset;
pub use error::DataError;
pub use features::{ByteDecoding, ByteFeatures, FeatureRows, Features};
pub use labels::compact_labels;
pub use load::{Format, LoadOptions, detect_format, load, load_codes, load_with};
pub use ndarray;
pub use scaling::{Scaling, ScalingKind, ScalingParameters};
pub use split::Split;
