//! The embedded MNIST sample decodes to the documented shape, classes and value range.

use ssne_data::bundled::{MNIST_SAMPLE_LEN, mnist_sample};
use ssne_data::{Scaling, Split};

#[test]
fn sample_has_the_documented_shape_and_classes() {
    let data = mnist_sample().unwrap();
    assert_eq!(data.features.dim(), (10_000, 784));
    assert_eq!(data.n_points(), MNIST_SAMPLE_LEN);
    assert_eq!(data.image_shape, Some([28, 28]));
    assert_eq!(data.name, "mnist-sample");
    assert_eq!(data.scaling, Scaling::None);
    assert!(data.features.is_standard_layout());
    assert_eq!(data.n_classes(), Some(10));
    assert_eq!(
        data.class_counts(),
        Some(vec![1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978])
    );
}

#[test]
fn sample_values_are_grey_levels_in_unit_range() {
    let data = mnist_sample().unwrap();
    assert!(data.features.iter().all(|&v| (0.0..=1.0).contains(&v)));
    // Real digits: mostly background, some full-ink pixels, and every value a multiple of 1/255.
    let n_zero = data.features.iter().filter(|&&v| v == 0.0).count();
    let n_ink = data.features.iter().filter(|&&v| v == 1.0).count();
    assert!(
        n_zero > data.features.len() / 2 && n_ink > 0,
        "{n_zero} zeros, {n_ink} full-ink pixels"
    );
    assert!(
        data.features
            .iter()
            .all(|&v| ((v * 255.0).round() / 255.0 - v).abs() < 1e-7)
    );
}

#[test]
fn sample_prefix_split_is_the_documented_one() {
    let data = mnist_sample().unwrap();
    let (train, test) = data.split(Split::Count(8_000), None).unwrap();
    assert_eq!((train.n_points(), test.n_points()), (8_000, 2_000));
    assert_eq!(train.features.row(0), data.features.row(0));
    assert_eq!(test.features.row(0), data.features.row(8_000));
    assert_eq!(test.image_shape, Some([28, 28]));
}
