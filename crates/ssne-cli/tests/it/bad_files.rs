//! Hostile and surprising data files: a gzip bomb and a header announcing an enormous size are
//! refused quickly with a message naming the file and the problem; a CSV whose label column is
//! called `target` is read with its labels.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::{QUICK_TRAINING, fails_with, json, labelled_csv, listing, ok, path_arg, run, stderr};

/// An IDX images header: magic `0x00000803` and three big-endian dimensions.
fn images_header(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3];
    for dim in [n, rows, cols] {
        bytes.extend_from_slice(&dim.to_be_bytes());
    }
    bytes
}

/// A bit stream as deflate writes it: values least significant bit first, Huffman codes most
/// significant bit first.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    pending: u64,
    n_pending: u32,
}

impl Bits {
    fn value(&mut self, value: u32, n_bits: u32) {
        self.pending |= u64::from(value) << self.n_pending;
        self.n_pending += n_bits;
        while self.n_pending >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.n_pending -= 8;
        }
    }

    fn code(&mut self, code: u32, n_bits: u32) {
        self.value(code.reverse_bits() >> (32 - n_bits), n_bits);
    }

    /// A literal byte in the fixed Huffman code of RFC 1951, 3.2.6.
    fn literal(&mut self, byte: u8) {
        match u32::from(byte) {
            byte @ 0..=143 => self.code(0x30 + byte, 8),
            byte => self.code(0x190 + byte - 144, 9),
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n_pending > 0 {
            self.bytes.push(self.pending as u8);
        }
        self.bytes
    }
}

/// The reflected CRC-32 polynomial of gzip.
const CRC_POLY: u32 = 0xedb8_8320;

fn crc_times(matrix: &[u32; 32], mut vector: u32) -> u32 {
    let mut sum = 0;
    let mut row = 0;
    while vector != 0 {
        if vector & 1 == 1 {
            sum ^= matrix[row];
        }
        vector >>= 1;
        row += 1;
    }
    sum
}

/// The CRC register after `n_zeros` more zero bytes, in O(log n): feeding zeros is a linear map
/// of the register, raised to the n-th power by squaring (as zlib's `crc32_combine`).
fn crc_after_zeros(mut register: u32, mut n_zeros: u64) -> u32 {
    let square = |m: &[u32; 32]| -> [u32; 32] { std::array::from_fn(|i| crc_times(m, m[i])) };
    // One zero bit, then squared three times: one zero byte.
    let mut op: [u32; 32] = std::array::from_fn(|i| if i == 0 { CRC_POLY } else { 1 << (i - 1) });
    for _ in 0..3 {
        op = square(&op);
    }
    while n_zeros > 0 {
        if n_zeros & 1 == 1 {
            register = crc_times(&op, register);
        }
        op = square(&op);
        n_zeros >>= 1;
    }
    register
}

/// A valid gzip file of `prefix` followed by `n_zeros` zero bytes, built by hand (this crate
/// does not depend on a compressor): one fixed-Huffman deflate block in which the zeros are
/// back-references of 258 bytes at distance 1, 13 bits each, so 1 GiB of zeros takes 6.6 MB.
fn gzip_zeros(prefix: &[u8], n_zeros: u64) -> Vec<u8> {
    let mut bits = Bits::default();
    // BFINAL, then BTYPE 01: fixed Huffman codes.
    bits.value(1, 1);
    bits.value(1, 2);
    for &byte in prefix {
        bits.literal(byte);
    }
    if n_zeros > 0 {
        bits.literal(0);
        for _ in 0..(n_zeros - 1) / 258 {
            // Length 258 is code 285, distance 1 is distance code 0; neither has extra bits.
            bits.code(0b1100_0101, 8);
            bits.code(0, 5);
        }
        for _ in 0..(n_zeros - 1) % 258 {
            bits.literal(0);
        }
    }
    // End of block.
    bits.code(0, 7);
    let mut register = u32::MAX;
    for &byte in prefix {
        register ^= u32::from(byte);
        for _ in 0..8 {
            register = if register & 1 == 1 {
                (register >> 1) ^ CRC_POLY
            } else {
                register >> 1
            };
        }
    }
    let crc = !crc_after_zeros(register, n_zeros);
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend(bits.finish());
    gz.extend_from_slice(&crc.to_le_bytes());
    // ISIZE is the length modulo 2^32.
    gz.extend_from_slice(&((prefix.len() as u64 + n_zeros) as u32).to_le_bytes());
    gz
}

#[test]
fn the_hand_made_gzip_files_are_valid() {
    // If the writer were wrong the refusals below could be for a corrupt stream instead.
    for n_zeros in [0, 1, 258, 259, 7840, 100_000] {
        let images = ssne_data::idx::read_images_from(
            gzip_zeros(&images_header(1, 1, n_zeros as u32), n_zeros).as_slice(),
            Path::new("<test>"),
        );
        match images {
            Ok((features, _)) => assert_eq!(features.len() as u64, n_zeros),
            // A header with no pixels is refused for that, after the stream was read whole.
            Err(ssne_data::DataError::BadDimensions { .. }) if n_zeros == 0 => {}
            Err(err) => panic!("{n_zeros} zeros: {err}"),
        }
    }
    let bytes: Vec<u8> = (0..=255).collect();
    let mut header = images_header(1, 1, 256);
    header.extend(&bytes);
    let (features, _) =
        ssne_data::idx::read_images_from(gzip_zeros(&header, 0).as_slice(), Path::new("<test>")).expect("valid");
    assert_eq!(features[[0, 255]], 1.0);
}

/// Runs `train` on `data` into a model in `dir`, and how long it took.
fn train_on(data: &Path, dir: &Path) -> (Output, Duration) {
    let model = dir.join("m.ssne");
    let started = Instant::now();
    let output = run(["train", "--data", &path_arg(data), "--model", &path_arg(&model)]);
    (output, started.elapsed())
}

#[test]
fn a_gzip_bomb_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bomb = dir.path().join("bomb.idx.gz");
    // A valid header for ten 28 x 28 images, then 2 GiB of zeros (13 MB on disk): inflating it
    // all would take 2 GB of memory and seconds.
    std::fs::write(&bomb, gzip_zeros(&images_header(10, 28, 28), 2 << 30)).expect("fixture");
    let (output, took) = train_on(&bomb, dir.path());
    fails_with(&output, &["bomb.idx.gz", "more data than the header declares"]);
    assert!(took < Duration::from_secs(10), "refusing the bomb took {took:?}");
    // Named as MNIST images, and through --format idx: the same refusal.
    let named = dir.path().join("train-images-idx3-ubyte.gz");
    std::fs::rename(&bomb, &named).expect("rename");
    let model = dir.path().join("m.ssne");
    let output = run([
        "train",
        "--data",
        &path_arg(&named),
        "--format",
        "idx",
        "--model",
        &path_arg(&model),
    ]);
    fails_with(
        &output,
        &["train-images-idx3-ubyte.gz", "more data than the header declares"],
    );
    assert_eq!(listing(dir.path()), ["train-images-idx3-ubyte.gz"]);
}

#[test]
fn a_header_announcing_an_enormous_size_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let huge = dir.path().join("huge.idx.gz");
    // 10^12 pixels announced (4 TB as f32), a few present: a damaged file, not an allocation.
    let header = images_header(1_000_000, 1000, 1000);
    let mut short = header.clone();
    short.extend_from_slice(&[9; 100]);
    std::fs::write(&huge, gzip_zeros(&short, 0)).expect("fixture");
    let (output, took) = train_on(&huge, dir.path());
    fails_with(&output, &["huge.idx.gz", "truncated", "1000000000016"]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // The same header with a gigabyte of zeros behind it: refused after a short look.
    std::fs::write(&huge, gzip_zeros(&header, 1 << 30)).expect("fixture");
    let (output, took) = train_on(&huge, dir.path());
    fails_with(
        &output,
        &["huge.idx.gz", "[1000000, 1000, 1000]", "the most this reader accepts"],
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(listing(dir.path()), ["huge.idx.gz"]);
}

#[test]
fn a_csv_with_a_target_column_is_read_with_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = labelled_csv(dir.path(), "target", "points.csv", ["0", "1"]);
    let model = dir.path().join("m.ssne");
    let mut args = vec![
        "--json".to_owned(),
        "train".to_owned(),
        "--data".to_owned(),
        path_arg(&csv),
        "--model".to_owned(),
        path_arg(&model),
    ];
    args.extend(QUICK_TRAINING.iter().map(|&flag| flag.to_owned()));
    let output = run(&args);
    let report = json(&output);
    let notes = stderr(&output);
    // Three features and two classes: `target` is the labels, not a fourth feature.
    assert!(notes.contains("120 points x 3 features, 2 classes"), "{notes}");
    assert!(!notes.contains("no labels"), "{notes}");
    assert!(report["classifier_train_accuracy"].is_number(), "{report}");
    // The labels go through to the embedding.
    let out = dir.path().join("e.csv");
    ok(&run([
        "embed",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&csv),
        "--out",
        &path_arg(&out),
    ]));
    let embedding = std::fs::read_to_string(&out).expect("embedding");
    assert_eq!(embedding.lines().next(), Some("x,y,label"));
}

#[test]
fn a_file_too_large_for_memory_is_refused_before_loading_naming_embed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let huge = dir.path().join("huge.npy");
    // 10^8 images of 784 bytes: 78.4 GB on disk but sparse (nothing stored), and as the u8 codes
    // that `train` keeps, more than any memory this machine could have available.
    let dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (100000000, 784), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{dict:<117}\n");
    bytes.extend(u16::try_from(padded.len()).expect("short header").to_le_bytes());
    bytes.extend(padded.as_bytes());
    std::fs::write(&huge, &bytes).expect("fixture");
    let file = std::fs::OpenOptions::new().write(true).open(&huge).expect("fixture");
    file.set_len(bytes.len() as u64 + 78_400_000_000)
        .expect("a sparse file");
    drop(file);
    let (output, took) = train_on(&huge, dir.path());
    fails_with(
        &output,
        &[
            "huge.npy",
            "100000000 x 784",
            "78400000000 bytes in memory as u8 codes",
            "salient-sne embed",
        ],
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let model = crate::shared_model();
    let output = run(["eval", "--model", &path_arg(model), "--data", &path_arg(&huge)]);
    fails_with(&output, &["huge.npy", "salient-sne embed"]);
    assert_eq!(listing(dir.path()), ["huge.npy"]);
}
