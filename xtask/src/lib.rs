//! The tasks behind `cargo xtask`: fetching the MNIST data sets, making a large image set from
//! one, and checking the tree.
//!
//! The binary (`src/main.rs`) only parses arguments and prints; the logic lives here so the
//! tests in `tests/it` can run it in-process against a local HTTP server.

pub mod args;
pub mod fetch;
mod http;
pub mod large;
pub mod tidy;
pub mod verify;

use std::path::{Path, PathBuf};

/// The workspace root: the parent of this crate's manifest folder.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}
