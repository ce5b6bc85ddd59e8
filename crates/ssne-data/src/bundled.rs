//! The bundled sample: 10,000 real MNIST digits compiled into the crate (feature `bundled-mnist`).
//!
//! The first 10,000 images of the MNIST training set (28 x 28, grey levels `v / 255`) with their
//! labels, in a fixed shuffled order so any prefix is a fair sample (see
//! `data/mnist-sample/README.md` for provenance and licence: MNIST by Yann LeCun, Corinna Cortes
//! and Christopher J.C. Burges, CC BY-SA 3.0). The gzip files are embedded with `include_bytes!`,
//! so the sample works from any working directory and from an installed binary.

use std::path::Path;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::idx;

/// Number of digits in the sample.
pub const MNIST_SAMPLE_LEN: usize = 10_000;

const IMAGES_GZ: &[u8] = include_bytes!("../../../data/mnist-sample/images-idx3-ubyte.gz");
const LABELS_GZ: &[u8] = include_bytes!("../../../data/mnist-sample/labels-idx1-ubyte.gz");

/// The pseudo-paths that errors about the sample would carry.
const IMAGES_SOURCE: &str = "<bundled mnist-sample>/images-idx3-ubyte.gz";
const LABELS_SOURCE: &str = "<bundled mnist-sample>/labels-idx1-ubyte.gz";

/// Decodes the sample: `10000 x 784` features in `[0, 1]`, labels `0..=9`, image shape
/// `[28, 28]`, named `mnist-sample`. Takes a few tens of milliseconds (gunzip and convert).
///
/// ```
/// let data = ssne_data::bundled::mnist_sample()?;
/// assert_eq!(data.n_points(), ssne_data::bundled::MNIST_SAMPLE_LEN);
/// assert_eq!(data.class_counts().map(|counts| counts[1]), Some(1127));
/// # Ok::<(), ssne_data::DataError>(())
/// ```
///
/// # Errors
///
/// None in practice: the embedded bytes are fixed at compile time and tested. The `Result`
/// keeps the signature of the file loaders.
pub fn mnist_sample() -> Result<Dataset, DataError> {
    let (features, shape) = idx::read_images_from(IMAGES_GZ, Path::new(IMAGES_SOURCE))?;
    let labels = idx::read_labels_from(LABELS_GZ, Path::new(LABELS_SOURCE))?;
    idx::pair(
        features,
        shape,
        Some((labels, Path::new(LABELS_SOURCE))),
        "mnist-sample".to_owned(),
    )
}
