//! `u8` codes ([`ByteFeatures`], [`load_codes`]) against the `f32` loaders: the same values bit
//! for bit, scaled the same way, selected the same way; the reading functions' bad input.

use ndarray::{Array2, Array3, ShapeBuilder};
use proptest::prelude::*;
use ssne_data::idx::{IMAGES_MAGIC, LABELS_MAGIC};
use ssne_data::mnist::SplitName;
use ssne_data::{
    ByteDecoding, ByteFeatures, DataError, Dataset, FeatureRows, Features, Format, LoadOptions, ScalingKind, Split,
    load, load_codes,
};

use crate::{digit_labels, gzip, idx_bytes, pixels, write};

/// Bit patterns, so that `-0.0` and `0.0` (or two NaNs) are told apart.
fn bits(x: &Array2<f32>) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn idx_codes_decode_to_the_loaders_values_with_the_same_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("set-images-idx3-ubyte.gz");
    write(&images, &gzip(&idx_bytes(IMAGES_MAGIC, &[40, 2, 3], &pixels(40, 2, 3))));
    write(
        &dir.path().join("set-labels-idx1-ubyte"),
        &idx_bytes(LABELS_MAGIC, &[40], &digit_labels(40)),
    );
    let floats = load(&images, Format::Auto).unwrap();
    let codes = load_codes(&images, Format::Auto, &LoadOptions::default())
        .unwrap()
        .expect("IDX images are u8");
    assert_eq!(codes.features.decoding(), ByteDecoding::UnitInterval);
    assert_eq!(codes.features.codes().as_slice().unwrap(), pixels(40, 2, 3).as_slice());
    assert_eq!(bits(&codes.features.to_f32()), bits(&floats.features));
    assert_eq!(
        (&codes.labels, &codes.label_names, codes.image_shape, &codes.name),
        (&floats.labels, &floats.label_names, floats.image_shape, &floats.name)
    );
}

#[test]
fn an_mnist_folder_loads_as_codes_with_its_names() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("fashion-small");
    std::fs::create_dir(&folder).unwrap();
    for (prefix, n) in [("train", 30), ("t10k", 10)] {
        write(
            &folder.join(format!("{prefix}-images-idx3-ubyte")),
            &idx_bytes(IMAGES_MAGIC, &[n, 2, 2], &pixels(n as usize, 2, 2)),
        );
        write(
            &folder.join(format!("{prefix}-labels-idx1-ubyte")),
            &idx_bytes(LABELS_MAGIC, &[n], &digit_labels(n as usize)),
        );
    }
    for split in [SplitName::Train, SplitName::Test] {
        let floats = ssne_data::mnist::load_dir(&folder, split).unwrap();
        let codes = ssne_data::mnist::load_dir_codes(&folder, split).unwrap();
        assert_eq!(bits(&codes.features.to_f32()), bits(&floats.features));
        assert_eq!(
            (&codes.labels, &codes.label_names),
            (&floats.labels, &floats.label_names)
        );
        assert_eq!(codes.name, floats.name);
    }
    let auto = load_codes(&folder, Format::Auto, &LoadOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(auto.n_points(), 30, "a folder is its training split");
}

#[test]
fn u8_npy_codes_decode_as_the_npy_loader_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<u8> = (0..60).map(|i| (i * 37 % 256) as u8).collect();
    let c_order = dir.path().join("c.npy");
    ndarray_npy::write_npy(&c_order, &Array3::from_shape_vec((5, 3, 4), values.clone()).unwrap()).unwrap();
    let fortran = dir.path().join("f.npy");
    let logical = Array2::from_shape_vec((6, 10), values).unwrap();
    let mut f_array = Array2::zeros((6, 10).f());
    f_array.assign(&logical);
    ndarray_npy::write_npy(&fortran, &f_array).unwrap();
    for path in [&c_order, &fortran] {
        let floats = load(path, Format::Auto).unwrap();
        let codes = load_codes(path, Format::Npy, &LoadOptions::default())
            .unwrap()
            .expect("u8");
        assert_eq!(codes.features.decoding(), ByteDecoding::Value);
        assert_eq!(
            bits(&codes.features.to_f32()),
            bits(&floats.features),
            "{}",
            path.display()
        );
        assert_eq!((codes.image_shape, &codes.name), (floats.image_shape, &floats.name));
    }
    let codes = load_codes(&fortran, Format::Auto, &LoadOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(
        codes.features.codes(),
        logical.view(),
        "Fortran order read in logical order"
    );
}

#[test]
fn data_of_another_type_is_not_read_as_codes() {
    let dir = tempfile::tempdir().unwrap();
    let floats = dir.path().join("f.npy");
    ndarray_npy::write_npy(&floats, &Array2::<f32>::zeros((3, 2))).unwrap();
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "1,2\n3,4\n").unwrap();
    for path in [&floats, &csv] {
        assert!(
            load_codes(path, Format::Auto, &LoadOptions::default())
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn bad_code_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A u8 NPY file whose header announces more rows than it holds.
    let short = dir.path().join("short.npy");
    ndarray_npy::write_npy(&short, &Array2::<u8>::zeros((4, 5))).unwrap();
    let bytes = std::fs::read(&short).unwrap();
    std::fs::write(&short, &bytes[..bytes.len() - 3]).unwrap();
    assert!(matches!(
        load_codes(&short, Format::Auto, &LoadOptions::default()),
        Err(DataError::Truncated { .. })
    ));
    // An IDX images file cut short, and one with a labels magic.
    let cut = dir.path().join("cut-images-idx3-ubyte");
    write(&cut, &idx_bytes(IMAGES_MAGIC, &[3, 2, 2], &[1, 2, 3]));
    assert!(matches!(
        load_codes(&cut, Format::Idx, &LoadOptions::default()),
        Err(DataError::Truncated { .. })
    ));
    let labels = dir.path().join("l-idx1-ubyte");
    write(&labels, &idx_bytes(LABELS_MAGIC, &[2], &[0, 1]));
    assert!(matches!(
        ssne_data::idx::read_image_codes(&labels),
        Err(DataError::BadMagic { .. })
    ));
    // Labels that do not match the images.
    let images = dir.path().join("x-images-idx3-ubyte");
    write(&images, &idx_bytes(IMAGES_MAGIC, &[3, 1, 1], &[1, 2, 3]));
    write(
        &dir.path().join("x-labels-idx1-ubyte"),
        &idx_bytes(LABELS_MAGIC, &[2], &[0, 1]),
    );
    assert!(matches!(
        load_codes(&images, Format::Auto, &LoadOptions::default()),
        Err(DataError::LabelCount {
            images: 3,
            labels: 2,
            ..
        })
    ));
    assert!(matches!(
        Dataset::from_codes(
            ByteFeatures::new(Array2::zeros((2, 2)), ByteDecoding::Value),
            Some(vec![0])
        ),
        Err(DataError::LabelCount { .. })
    ));
}

#[test]
fn the_memory_check_counts_one_byte_per_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.npy");
    ndarray_npy::write_npy(&path, &Array2::<u8>::zeros((100, 10))).unwrap();
    // 1000 values: 1000 bytes as codes, 4000 as f32.
    let fits_codes = LoadOptions::default().with_memory_limit(1000);
    assert!(load_codes(&path, Format::Auto, &fits_codes).unwrap().is_some());
    assert!(matches!(
        ssne_data::load_with(&path, Format::Auto, &fits_codes),
        Err(DataError::TooLargeForMemory { needed_bytes: 4000, .. })
    ));
    let too_small = LoadOptions::default().with_memory_limit(999);
    assert!(matches!(
        load_codes(&path, Format::Auto, &too_small),
        Err(DataError::TooLargeForMemory {
            needed_bytes: 1000,
            limit_bytes: 999,
            ..
        })
    ));
}

#[test]
fn copy_row_and_chunk_check_their_arguments() {
    let bytes = ByteFeatures::new(
        Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as u8),
        ByteDecoding::Value,
    );
    let rows = FeatureRows::Bytes(&bytes);
    let mut out = [0.0_f32; 2];
    rows.copy_row(2, &mut out).unwrap();
    assert_eq!(out, [4.0, 5.0]);
    assert!(matches!(
        rows.copy_row(3, &mut out),
        Err(DataError::RowIndex { index: 3, n_points: 3 })
    ));
    assert!(matches!(
        rows.copy_row(0, &mut [0.0; 3]),
        Err(DataError::RowWidth { expected: 2, found: 3 })
    ));
    // A chunk past the end is cut at the end, one starting past it is empty.
    assert_eq!(rows.chunk(1..10).nrows(), 2);
    assert_eq!(rows.chunk(7..10).nrows(), 0);
    let chunks: Vec<usize> = rows
        .chunks(2)
        .map(|(start, chunk)| start * 10 + chunk.nrows())
        .collect();
    assert_eq!(chunks, vec![2, 21]);
    assert_eq!(rows.value_range(), Some((0.0, 5.0)));
}

#[test]
fn rows_select_and_split_keep_codes_and_values_together() {
    let codes = Array2::from_shape_fn((10, 3), |(i, j)| (i * 3 + j) as u8 * 5);
    let bytes = Dataset::from_codes(
        ByteFeatures::new(codes, ByteDecoding::UnitInterval),
        Some((0..10).collect()),
    )
    .unwrap();
    let floats = Dataset::new(bytes.features.to_f32(), bytes.labels.clone()).unwrap();
    let same = |b: &Dataset<ByteFeatures>, f: &Dataset| {
        assert_eq!(bits(&b.features.to_f32()), bits(&f.features));
        assert_eq!(b.labels, f.labels);
    };
    same(&bytes.rows(2..7).unwrap(), &floats.rows(2..7).unwrap());
    same(&bytes.select(&[9, 0, 9]).unwrap(), &floats.select(&[9, 0, 9]).unwrap());
    let (a, b) = bytes.split(Split::Fraction(0.3), Some(4)).unwrap();
    let (fa, fb) = floats.split(Split::Fraction(0.3), Some(4)).unwrap();
    same(&a, &fa);
    same(&b, &fb);
    assert!(matches!(
        bytes.select(&[10]),
        Err(DataError::RowIndex { index: 10, .. })
    ));
    assert!(matches!(bytes.rows(3..11), Err(DataError::RowRange { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Fitting and applying each scaling to codes gives the parameters and, row by row, the
    /// values of the same on the `f32` data, bit for bit.
    #[test]
    fn scaling_codes_equals_scaling_their_values(
        n in 1usize..40,
        d in 1usize..6,
        seed in any::<u64>(),
        unit in any::<bool>(),
    ) {
        let codes = Array2::from_shape_fn((n, d), |(i, j)| {
            (seed.wrapping_mul(6364136223846793005).wrapping_add((i * 31 + j * 7) as u64) >> 56) as u8
        });
        let decoding = if unit { ByteDecoding::UnitInterval } else { ByteDecoding::Value };
        let decoded = codes.mapv(|c| decoding.decode(c));
        for kind in [ScalingKind::None, ScalingKind::UnitRange, ScalingKind::Standardize] {
            let mut bytes = Dataset::from_codes(ByteFeatures::new(codes.clone(), decoding), None).unwrap();
            let mut floats = Dataset::new(decoded.clone(), None).unwrap();
            let scaling = bytes.fit_scaling(kind);
            prop_assert_eq!(&scaling, &floats.fit_scaling(kind));
            bytes.apply_scaling(&scaling).unwrap();
            floats.apply_scaling(&scaling).unwrap();
            prop_assert_eq!(bits(&bytes.features.to_f32()), bits(&floats.features));
            let rows = bytes.features.feature_rows();
            let mut row = vec![0.0_f32; d];
            for i in 0..n {
                rows.copy_row(i, &mut row).unwrap();
                let expected: Vec<u32> = floats.features.row(i).iter().map(|v| v.to_bits()).collect();
                prop_assert_eq!(row.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), expected);
            }
            prop_assert_eq!(rows.value_range(), floats.features.feature_rows().value_range());
        }
    }
}
