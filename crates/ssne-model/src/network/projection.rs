//! The fixed linear input projection of a network (PCA-K of the training
//! inputs): how it is made from a fitted PCA, and a network built on one.

use rand_chacha::ChaCha8Rng;
use ssne_tensor::ndarray::Array2;

use super::{Dense, Network, NetworkSpec};
use crate::Result;
use crate::error::config_error;
use crate::pca::Pca;

impl Dense {
    /// The projection `x -> (x - mean) W` on the principal directions of `pca`
    /// as a fixed layer: `W` has the directions as columns, `[d, K]`, and the
    /// bias is `-mean W` (summed in `f64`). Inputs that `keep` marks `false`
    /// get zero rows (they were constant in the training data, so this changes
    /// nothing there, and their saliency is exactly 0). Without `centred` the
    /// bias is zero, `x -> x W`: a bias-free network stays positively
    /// homogeneous ([`NetworkSpec::is_homogeneous`]).
    ///
    /// ```
    /// use ssne_model::{Dense, pca::Pca};
    /// use ssne_tensor::ndarray::array;
    ///
    /// let x = array![[0.0_f32, 1.0], [1.0, 3.0], [2.0, 5.0], [3.0, 7.0]];
    /// let pca = Pca::fit(x.view(), 1, 7)?;
    /// let projection = Dense::pca_projection(&pca, None, true);
    /// let z = x.dot(&projection.weight) + &projection.bias;
    /// let expected = pca.transform(x.view())?;
    /// assert!(z.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-5));
    /// # Ok::<(), ssne_model::pca::PcaError>(())
    /// ```
    pub fn pca_projection(pca: &Pca, keep: Option<&[bool]>, centred: bool) -> Dense {
        let (k, d) = pca.components.dim();
        let kept = |j: usize| keep.is_none_or(|m| m.get(j).copied().unwrap_or(true));
        let weight = Array2::from_shape_fn((d, k), |(j, c)| if kept(j) { pca.components[[c, j]] } else { 0.0 });
        let bias = Array2::from_shape_fn((1, k), |(_, c)| {
            if !centred {
                return 0.0;
            }
            let dot: f64 = (0..d).map(|j| f64::from(pca.mean[j]) * f64::from(weight[[j, c]])).sum();
            -dot as f32
        });
        Dense { weight, bias }
    }
}

impl Network {
    /// A freshly initialised network (as [`Network::init`], with the same
    /// random draws for the layers) on the fixed input projection
    /// `projection`, whose width must be the spec's `input_projection`.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] when the spec is invalid, has no input
    /// projection, or the projection's shape or values do not fit it.
    pub fn init_projected(spec: NetworkSpec, projection: Dense, rng: &mut ChaCha8Rng) -> Result<Self> {
        spec.validate()?;
        check_projection(&spec, &projection).map_err(|problem| {
            config_error(
                "network.input_projection",
                format!("{:?}", spec.input_projection),
                problem,
            )
        })?;
        Ok(Self::init_layers(spec, Some(projection), rng))
    }
}

/// Why `projection` cannot be the input projection of `spec`, if it cannot.
pub(crate) fn check_projection(spec: &NetworkSpec, projection: &Dense) -> std::result::Result<(), String> {
    let Some(k) = spec.input_projection else {
        return Err("a spec with an input projection width".into());
    };
    let d = spec.n_features();
    if projection.weight.dim() != (d, k) || projection.bias.dim() != (1, k) {
        return Err(format!(
            "a projection of shape ({d}, {k}) with a (1, {k}) offset, not {:?} and {:?}",
            projection.weight.dim(),
            projection.bias.dim()
        ));
    }
    if !projection.weight.iter().chain(&projection.bias).all(|v| v.is_finite()) {
        return Err("a projection of finite values".into());
    }
    if !spec.biases && projection.bias.iter().any(|&v| v != 0.0) {
        return Err("no offset in a bias-free network".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use ssne_autodiff::Tape;
    use ssne_tensor::ndarray::{Array2, array};

    use super::*;
    use crate::activation::Activation;
    use crate::network::{HeadInput, test_network};
    use crate::{ModelError, Trainable};

    fn spec(widths: Vec<usize>, projection: Option<usize>) -> NetworkSpec {
        NetworkSpec {
            layer_widths: widths,
            hidden_activation: Activation::Tanh,
            head_input: HeadInput::Logits,
            feature_activation: Activation::Tanh,
            embedding_dim: 2,
            output_scale: 3.0,
            biases: true,
            input_projection: projection,
        }
    }

    /// `seed · output(x)` summed over rows, on an f64 tape: the function whose
    /// input gradient is checked.
    fn weighted_output(net: &Network, x: &Array2<f64>, seed: &Array2<f64>, map: bool) -> f64 {
        let mut tape = Tape::<f64>::new();
        let bound = net.bind(&mut tape, Trainable::None);
        let xv = tape.constant(x.clone());
        let fwd = net.forward_on(&mut tape, &bound, xv).expect("shapes agree");
        let out = tape
            .value(if map { fwd.embedding } else { fwd.logits })
            .expect("a value");
        out.iter().zip(seed).map(|(a, b)| a * b).sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// The input gradient on an f64 tape, through the projection back to
        /// the inputs, against central finite differences, for the map and the
        /// logits, and the tape-free `input_vjp` against both.
        #[test]
        fn input_gradients_through_the_projection_match_finite_differences(
            k in 1usize..6,
            hidden in 1usize..6,
            sigmoid in any::<bool>(),
            head_on_hidden in any::<bool>(),
            rows in 1usize..4,
            seed in any::<u64>(),
        ) {
            let mut s = spec(vec![9, hidden, 4], Some(k));
            // Smooth activations only: finite differences across a ReLU kink
            // are meaningless (ReLU is covered against the tape in `vjp`).
            if sigmoid {
                s.hidden_activation = Activation::Sigmoid;
            }
            if head_on_hidden {
                s.head_input = HeadInput::Hidden;
            }
            let net = test_network(s, seed);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 3);
            let x = Array2::from_shape_simple_fn((rows, 9), || rng.random_range(-1.0..1.0));
            for (map, width) in [(true, 2), (false, 4)] {
                let w = Array2::from_shape_simple_fn((rows, width), || rng.random_range(-1.0..1.0));
                let mut tape = Tape::<f64>::new();
                let bound = net.bind(&mut tape, Trainable::None);
                let xv = tape.var(x.clone());
                let fwd = net.forward_on(&mut tape, &bound, xv).expect("shapes agree");
                let out = if map { fwd.embedding } else { fwd.logits };
                let grad = tape.vjp(out, w.view()).expect("a seed of the output's shape").take(xv).expect("x is a var");
                let h = 1e-6;
                for r in 0..rows {
                    for c in 0..9 {
                        let (mut plus, mut minus) = (x.clone(), x.clone());
                        plus[[r, c]] += h;
                        minus[[r, c]] -= h;
                        let fd = (weighted_output(&net, &plus, &w, map) - weighted_output(&net, &minus, &w, map)) / (2.0 * h);
                        prop_assert!((fd - grad[[r, c]]).abs() <= 1e-6 * (1.0 + fd.abs()),
                            "row {r} input {c}: tape {} vs finite differences {fd}", grad[[r, c]]);
                    }
                }
                let output = if map { crate::NetworkOutput::Embedding } else { crate::NetworkOutput::Logits };
                let x32 = x.mapv(|v| v as f32);
                let fast = net.input_vjp(x32.view(), output, w.mapv(|v| v as f32).view()).expect("valid shapes");
                let norm = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                for (a, b) in fast.iter().zip(&grad) {
                    prop_assert!((f64::from(*a) - b).abs() <= 1e-4 * (1.0 + norm), "{a} vs {b}");
                }
            }
        }
    }

    /// The input gradient lies in the span of the projection's columns (it is
    /// `W g'` for the gradient `g'` at the projection's output): a backward
    /// pass that skipped the projection could not produce it.
    #[test]
    fn the_gradient_reaches_the_inputs_only_through_the_projection() {
        let net = test_network(spec(vec![6, 5, 3], Some(2)), 11);
        let x = array![[0.3_f32, -0.2, 0.5, 0.1, 0.0, -0.7]];
        let maps = net
            .input_vjp(
                x.view(),
                crate::NetworkOutput::Embedding,
                array![[1.0_f32, -0.5]].view(),
            )
            .expect("valid shapes");
        // The gradient lies in the row space of the projection: W (W^+ g) = g
        // for the [6, 2] weight W, i.e. g is a combination of W's two columns.
        let w = net.input_projection.as_ref().expect("projected").weight.mapv(f64::from);
        let g = maps.row(0).mapv(f64::from);
        let wtw = w.t().dot(&w);
        let det = wtw[[0, 0]] * wtw[[1, 1]] - wtw[[0, 1]] * wtw[[1, 0]];
        let inv = array![[wtw[[1, 1]], -wtw[[0, 1]]], [-wtw[[1, 0]], wtw[[0, 0]]]] / det;
        let coeffs = inv.dot(&w.t().dot(&g));
        let back = w.dot(&coeffs);
        let err = back.iter().zip(&g).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-5, "the input gradient leaves the projection's span by {err}");
        assert!(g.iter().any(|&v| v.abs() > 1e-3), "a zero gradient proves nothing");
    }

    #[test]
    fn a_projection_spec_needs_a_projection_of_its_shape() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let s = spec(vec![6, 5, 3], Some(2));
        assert!(matches!(
            Network::init(s.clone(), &mut rng),
            Err(ModelError::Config { .. })
        ));
        let wrong = Dense {
            weight: Array2::zeros((6, 3)),
            bias: Array2::zeros((1, 3)),
        };
        assert!(matches!(
            Network::init_projected(s.clone(), wrong, &mut rng),
            Err(ModelError::Config { .. })
        ));
        let nan = Dense {
            weight: Array2::from_elem((6, 2), f32::NAN),
            bias: Array2::zeros((1, 2)),
        };
        assert!(Network::init_projected(s.clone(), nan, &mut rng).is_err());
        let too_wide = spec(vec![6, 5, 3], Some(7));
        assert!(matches!(too_wide.validate(), Err(ModelError::Config { .. })));
        // The layers after the projection get the draws of an unprojected network of that width.
        let ok = Dense {
            weight: Array2::ones((6, 2)),
            bias: Array2::zeros((1, 2)),
        };
        let projected = Network::init_projected(s, ok, &mut rand_chacha::ChaCha8Rng::seed_from_u64(4)).expect("fits");
        let plain = Network::init(
            spec(vec![2, 5, 3], None),
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(4),
        )
        .expect("valid");
        assert_eq!(projected.layers, plain.layers);
        assert_eq!(projected.head, plain.head);
    }

    #[test]
    fn a_pca_projection_centres_masks_and_can_stay_homogeneous() {
        // Column 2 is constant (masked); the others vary.
        let x = array![[0.0_f32, 1.0, 0.5], [1.0, 3.0, 0.5], [2.0, 4.0, 0.5], [3.0, 8.0, 0.5]];
        let pca = Pca::fit(x.view(), 2, 3).expect("fits");
        let keep = [true, true, false];
        let p = Dense::pca_projection(&pca, Some(&keep), true);
        assert_eq!(p.weight.row(2).to_vec(), vec![0.0, 0.0]);
        // Centred: the projected training rows have zero mean.
        let z = x.dot(&p.weight) + &p.bias;
        for c in 0..2 {
            let mean = z.column(c).sum() / 4.0;
            assert!(mean.abs() < 1e-5, "component {c} has mean {mean}");
        }
        let expected = pca.transform(x.view()).expect("fits");
        assert!(z.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-5));
        let uncentred = Dense::pca_projection(&pca, Some(&keep), false);
        assert!(uncentred.bias.iter().all(|&v| v == 0.0));
        assert_eq!(uncentred.weight, p.weight);
        // A bias-free network accepts only the uncentred one.
        let mut s = spec(vec![3, 4, 2], Some(2));
        s.biases = false;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        assert!(Network::init_projected(s.clone(), p, &mut rng).is_err());
        let net = Network::init_projected(s, uncentred, &mut rng).expect("fits");
        assert!(net.biases_are_zero());
    }
}
