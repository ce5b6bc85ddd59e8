//! The Jacobian `∂Y/∂X` of the map at one point or many, from one VJP.

use ssne_model::Network;
use ssne_tensor::ndarray::{Array2, Array3, ArrayView1, ArrayView2, Axis};

use crate::Result;
use crate::networks::check_features;
use crate::target::repeat_rows;
use crate::vjp::{CHUNK_ROWS, Output, input_gradient_f32};

/// The Jacobian of the map `Y` at the point `x`: `[embedding_dim, features]`,
/// row `d` being `∂Y_d/∂x`.
///
/// The point is repeated once per map dimension and each copy is seeded with
/// one unit vector, so the whole Jacobian costs one forward and one backward
/// pass.
///
/// # Errors
/// [`SaliencyError::FeatureCount`](crate::SaliencyError::FeatureCount) when `x`
/// is not as wide as the network's input.
///
/// # Example
/// ```
/// use rand::SeedableRng;
/// use ssne_model::{Network, NetworkSpec};
/// use ssne_tensor::ndarray::Array1;
///
/// let net = Network::init(NetworkSpec::paper(6, 3), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let jac = ssne_saliency::jacobian(&net, Array1::<f32>::ones(6).view())?;
/// assert_eq!(jac.dim(), (2, 6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn jacobian(map: &Network, x: ArrayView1<'_, f32>) -> Result<Array2<f32>> {
    let point = x.insert_axis(Axis(0));
    let jacs = jacobians(map, point)?;
    let (_, dim, n_features) = jacs.dim();
    // [1, dim, features] holds exactly dim × features values in standard order.
    Ok(jacs
        .into_shape_with_order((dim, n_features))
        .unwrap_or_else(|_| unreachable!("one point's Jacobian")))
}

/// The Jacobians of the map at every row of `x`: `[n, embedding_dim, features]`.
///
/// # Errors
/// As [`jacobian`].
pub fn jacobians(map: &Network, x: ArrayView2<'_, f32>) -> Result<Array3<f32>> {
    check_features(map, x.ncols())?;
    let dim = map.spec.embedding_dim;
    let (n_points, n_features) = x.dim();
    let mut out = Array3::zeros((n_points, dim, n_features));
    let points_per_chunk = (CHUNK_ROWS / dim.max(1)).max(1);
    for (chunk_idx, chunk) in x.axis_chunks_iter(Axis(0), points_per_chunk).enumerate() {
        let repeated = repeat_rows(chunk, dim);
        // Copy `d` of each point is seeded with the unit vector e_d.
        let seed = Array2::from_shape_fn((repeated.nrows(), dim), |(r, d)| if r % dim == d { 1.0 } else { 0.0 });
        let grads = input_gradient_f32(map, repeated.view(), Output::Embedding, seed.view())?;
        let start = chunk_idx * points_per_chunk;
        for (i, mut jac) in out.axis_iter_mut(Axis(0)).skip(start).take(chunk.nrows()).enumerate() {
            jac.assign(&grads.slice(ssne_tensor::ndarray::s![i * dim..(i + 1) * dim, ..]));
        }
    }
    Ok(out)
}
