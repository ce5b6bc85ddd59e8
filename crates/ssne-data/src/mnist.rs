//! MNIST-style folders: the four standard IDX files, and what is published about them.
//!
//! A folder such as the one `cargo xtask fetch-mnist` fills (or Debian's
//! `/usr/share/datasets/fashion-mnist`) holds `train-images-idx3-ubyte`,
//! `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each either
//! gzip-compressed with a `.gz` suffix or raw. Fashion-MNIST uses the same names and format.

use std::path::{Path, PathBuf};

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::idx;

/// Which half of an MNIST-style folder to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SplitName {
    /// The 60,000 training images (`train-*`).
    Train,
    /// The 10,000 test images (`t10k-*`).
    Test,
}

impl SplitName {
    /// The file-name prefix of this split: `train` or `t10k`.
    pub fn prefix(self) -> &'static str {
        match self {
            SplitName::Train => "train",
            SplitName::Test => "t10k",
        }
    }
}

/// Whether a standard file holds images or labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// An `idx3-ubyte` images file.
    Images,
    /// An `idx1-ubyte` labels file.
    Labels,
}

/// One of the four files of an MNIST-style release, with its published checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardFile {
    /// The published (gzip-compressed) file name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: &'static str,
    /// Which split it belongs to.
    pub split: SplitName,
    /// Images or labels.
    pub kind: FileKind,
    /// Lower-case hex MD5 of the published `.gz` file (the sums torchvision checks).
    pub gz_md5: &'static str,
    /// Lower-case hex MD5 of the decompressed file, which identifies the data whatever gzip
    /// wrapper it comes in (Debian's package recompresses the files, for instance).
    pub raw_md5: &'static str,
    /// Size in bytes of the decompressed file.
    pub raw_len: u64,
}

impl StandardFile {
    /// The decompressed file name: [`name`](Self::name) without `.gz`.
    pub fn raw_name(&self) -> &'static str {
        self.name.strip_suffix(".gz").unwrap_or(self.name)
    }
}

/// The MNIST files. `gz_md5` as in torchvision's `torchvision/datasets/mnist.py` (class `MNIST`);
/// `raw_md5` as published for the decompressed files.
pub const MNIST_FILES: [StandardFile; 4] = [
    StandardFile {
        name: "train-images-idx3-ubyte.gz",
        split: SplitName::Train,
        kind: FileKind::Images,
        gz_md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        raw_md5: "6bbc9ace898e44ae57da46a324031adb",
        raw_len: 47_040_016,
    },
    StandardFile {
        name: "train-labels-idx1-ubyte.gz",
        split: SplitName::Train,
        kind: FileKind::Labels,
        gz_md5: "d53e105ee54ea40749a09fcbcd1e9432",
        raw_md5: "a25bea736e30d166cdddb491f175f624",
        raw_len: 60_008,
    },
    StandardFile {
        name: "t10k-images-idx3-ubyte.gz",
        split: SplitName::Test,
        kind: FileKind::Images,
        gz_md5: "9fb629c4189551a2d022fa330f9573f3",
        raw_md5: "2646ac647ad5339dbf082846283269ea",
        raw_len: 7_840_016,
    },
    StandardFile {
        name: "t10k-labels-idx1-ubyte.gz",
        split: SplitName::Test,
        kind: FileKind::Labels,
        gz_md5: "ec29112dd5afa0611ce80d1b7f02629c",
        raw_md5: "27ae3e4e09519cfbb04c329615203637",
        raw_len: 10_008,
    },
];

/// The Fashion-MNIST files. `gz_md5` as in torchvision's `torchvision/datasets/mnist.py` (class
/// `FashionMNIST`); `raw_md5` as published for the decompressed files (and matched by the files
/// of Debian's `dataset-fashion-mnist` package, whose `.gz` wrappers differ).
pub const FASHION_FILES: [StandardFile; 4] = [
    StandardFile {
        name: "train-images-idx3-ubyte.gz",
        split: SplitName::Train,
        kind: FileKind::Images,
        gz_md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        raw_md5: "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        raw_len: 47_040_016,
    },
    StandardFile {
        name: "train-labels-idx1-ubyte.gz",
        split: SplitName::Train,
        kind: FileKind::Labels,
        gz_md5: "25c81989df183df01b3e8a0aad5dffbe",
        raw_md5: "9018921c3c673c538a1fc5bad174d6f9",
        raw_len: 60_008,
    },
    StandardFile {
        name: "t10k-images-idx3-ubyte.gz",
        split: SplitName::Test,
        kind: FileKind::Images,
        gz_md5: "bef4ecab320f06d8554ea6380940ec79",
        raw_md5: "8181f5470baa50b63fa0f6fddb340f0a",
        raw_len: 7_840_016,
    },
    StandardFile {
        name: "t10k-labels-idx1-ubyte.gz",
        split: SplitName::Test,
        kind: FileKind::Labels,
        gz_md5: "bb300cfdad3c16e7a12a480ee83cd310",
        raw_md5: "15d484375f8d13e6eb1aabb0c3f46965",
        raw_len: 10_008,
    },
];

/// The ten Fashion-MNIST class names, index = label (`"T-shirt/top"`, `"Trouser"`, ...).
pub fn fashion_label_names() -> Vec<String> {
    [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    .map(String::from)
    .to_vec()
}

/// Loads one split of an MNIST-style folder as a [`Dataset`] named `<folder>-<train|t10k>`,
/// with labels and image shape. When the folder's name contains `fashion` the data set gets
/// [`fashion_label_names`].
///
/// For each file the first of these names that exists is used: `<stem>.gz`, `<stem>`, and the
/// dotted variant `train-images.idx3-ubyte[.gz]` some mirrors use.
///
/// # Errors
///
/// [`DataError::MissingFile`] when the folder lacks a file, and the errors of
/// [`idx::load_pair`].
pub fn load_dir(dir: &Path, split: SplitName) -> Result<Dataset, DataError> {
    let images = find(dir, split, FileKind::Images)?;
    let labels = find(dir, split, FileKind::Labels)?;
    let folder_name = folder_name(dir);
    let mut data = idx::load_pair(&images, Some(&labels))?.with_name(format!("{folder_name}-{}", split.prefix()));
    if is_fashion_name(&folder_name) {
        data.set_label_names(fashion_label_names());
    }
    Ok(data)
}

/// [`load_dir`] keeping the images as `u8` codes ([`crate::ByteFeatures`]): a quarter of the
/// memory, the same values once decoded.
///
/// # Errors
///
/// As [`load_dir`].
pub fn load_dir_codes(dir: &Path, split: SplitName) -> Result<Dataset<crate::ByteFeatures>, DataError> {
    let images = find(dir, split, FileKind::Images)?;
    let labels = find(dir, split, FileKind::Labels)?;
    let folder_name = folder_name(dir);
    let mut data = idx::load_codes_pair(&images, Some(&labels))?.with_name(format!("{folder_name}-{}", split.prefix()));
    if is_fashion_name(&folder_name) {
        data.set_label_names(fashion_label_names());
    }
    Ok(data)
}

/// The folder's own name (after resolving `.` and links), `mnist` when it has none.
fn folder_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|dir| dir.file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "mnist".to_owned())
}

fn is_fashion_name(folder_name: &str) -> bool {
    folder_name.to_lowercase().contains("fashion")
}

/// Whether [`load_dir`] gives the folder's labels [`fashion_label_names`].
pub(crate) fn is_fashion_folder(dir: &Path) -> bool {
    is_fashion_name(&folder_name(dir))
}

/// The candidate names of one file, in the order they are tried.
pub fn candidate_names(split: SplitName, kind: FileKind) -> [String; 4] {
    let prefix = split.prefix();
    let (what, idx) = match kind {
        FileKind::Images => ("images", "idx3"),
        FileKind::Labels => ("labels", "idx1"),
    };
    [
        format!("{prefix}-{what}-{idx}-ubyte.gz"),
        format!("{prefix}-{what}-{idx}-ubyte"),
        format!("{prefix}-{what}.{idx}-ubyte.gz"),
        format!("{prefix}-{what}.{idx}-ubyte"),
    ]
}

/// The first existing file of [`candidate_names`] in `dir`.
pub(crate) fn find(dir: &Path, split: SplitName, kind: FileKind) -> Result<PathBuf, DataError> {
    let names = candidate_names(split, kind);
    names
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| DataError::MissingFile {
            path: dir.to_path_buf(),
            tried: names.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::{FASHION_FILES, FileKind, MNIST_FILES, SplitName, candidate_names};

    #[test]
    fn tables_agree_with_the_naming_scheme() {
        for files in [MNIST_FILES, FASHION_FILES] {
            for file in files {
                assert_eq!(candidate_names(file.split, file.kind)[0], file.name);
                assert_eq!(file.raw_name(), candidate_names(file.split, file.kind)[1]);
                assert_eq!(file.gz_md5.len(), 32);
                assert_eq!(file.raw_md5.len(), 32);
                let n_items = if file.split == SplitName::Train { 60_000 } else { 10_000 };
                let expected_len = match file.kind {
                    FileKind::Images => 16 + n_items * 28 * 28,
                    FileKind::Labels => 8 + n_items,
                };
                assert_eq!(file.raw_len, expected_len);
            }
        }
    }
}
