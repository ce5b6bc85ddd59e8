//! The same seed gives the same bits on one thread and on two.

use ssne_saliency::{Attribution, Baseline, Gradient, IntegratedGradients, SmoothGrad, Target};

use crate::common::{mnist, tiny};

#[test]
fn maps_are_identical_on_one_and_two_threads() {
    let networks = tiny();
    let x = mnist(300).features;
    let target = Target::Classes(mnist(300).labels.unwrap());
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let smooth = SmoothGrad::new(Gradient, 4, 0.1, 3)
                .unwrap()
                .attribute(networks, x.view(), &target)
                .unwrap();
            let ig = IntegratedGradients::new(Baseline::Zeros, 4)
                .unwrap()
                .attribute(networks, x.view(), &target)
                .unwrap();
            (smooth, ig)
        })
    };
    assert_eq!(run(1), run(2));
}
