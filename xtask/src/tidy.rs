//! `tidy`: architecture rules checked on the real tree (also run by `cargo test`).
//!
//! - Layering, from `cargo metadata --no-deps`: each library crate depends only on the salient-sne
//!   crates below it ([`LAYERS`]); binary-only crates ([`BINARY_ONLY_DEPS`]) appear only in
//!   [`BINARY_CRATES`]. Normal and build dependencies count; dev-dependencies (tests, benches) do
//!   not, since they never reach a user of the library.
//! - Module docs: every `.rs` file under `crates/*/src` starts with a `//!` line; a crate root may
//!   instead start with `#![doc = include_str!(..)]` (its README is the crate doc).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

/// Each layered crate and the salient-sne crates it may depend on.
pub const LAYERS: &[(&str, &[&str])] = &[
    ("ssne-tensor", &[]),
    ("ssne-data", &[]),
    ("ssne-autodiff", &["ssne-tensor"]),
    ("ssne-affinity", &["ssne-tensor"]),
    (
        "ssne-model",
        &["ssne-tensor", "ssne-autodiff", "ssne-affinity", "ssne-data"],
    ),
    (
        "ssne-saliency",
        &["ssne-tensor", "ssne-autodiff", "ssne-model", "ssne-data"],
    ),
];

/// Crates at the top, free to depend on any salient-sne crate.
pub const UNLAYERED: &[&str] = &["ssne-cli", "ssne-benches", "xtask"];

/// Dependencies reserved for binaries.
pub const BINARY_ONLY_DEPS: &[&str] = &["anyhow", "clap", "indicatif", "plotters", "ureq"];

/// The crates allowed to use [`BINARY_ONLY_DEPS`].
pub const BINARY_CRATES: &[&str] = &["ssne-cli", "xtask"];

/// Runs every check on the workspace at `root` and returns the violations, one line each.
///
/// # Errors
///
/// When `cargo metadata` cannot run or its output is not as expected, or a source folder cannot
/// be read. Violations are not errors: they are returned.
pub fn run(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut violations = check_dependencies(&metadata(root)?)?;
    violations.extend(check_module_docs(root)?);
    Ok(violations)
}

/// The output of `cargo metadata --format-version 1 --no-deps` in `root`.
///
/// # Errors
///
/// When cargo cannot be started, fails, or prints something that is not JSON.
pub fn metadata(root: &Path) -> anyhow::Result<Value> {
    // Under `cargo run` / `cargo test`, CARGO names the cargo that is running us.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    serde_json::from_slice(&output.stdout).context("parsing the output of cargo metadata")
}

/// The layering and binary-only-dependency rules on `cargo metadata` JSON.
///
/// # Errors
///
/// When the JSON lacks `packages`, a package name or a dependency name.
pub fn check_dependencies(metadata: &Value) -> anyhow::Result<Vec<String>> {
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata: no `packages` array")?;
    let mut violations = Vec::new();
    for package in packages {
        let name = package["name"]
            .as_str()
            .context("cargo metadata: a package without a name")?;
        let layer = LAYERS
            .iter()
            .find(|(layered, _)| *layered == name)
            .map(|(_, allowed)| *allowed);
        if layer.is_none() && name.starts_with("ssne-") && !UNLAYERED.contains(&name) {
            violations.push(format!(
                "{name}: no layering rule; add it to LAYERS in xtask/src/tidy.rs"
            ));
        }
        let dependencies = package["dependencies"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for dependency in dependencies {
            let dep = dependency["name"]
                .as_str()
                .context("cargo metadata: a dependency without a name")?;
            if dependency["kind"].as_str() == Some("dev") {
                continue;
            }
            if let Some(allowed) = layer
                && dep.starts_with("ssne-")
                && !allowed.contains(&dep)
            {
                let allowed = if allowed.is_empty() {
                    "no salient-sne crate".to_owned()
                } else {
                    allowed.join(", ")
                };
                violations.push(format!("{name} depends on {dep}; it may depend only on {allowed}"));
            }
            if BINARY_ONLY_DEPS.contains(&dep) && !BINARY_CRATES.contains(&name) {
                violations.push(format!(
                    "{name} depends on {dep}, which only {} may use",
                    BINARY_CRATES.join(" and ")
                ));
            }
        }
    }
    Ok(violations)
}

/// Every `.rs` file under `<root>/crates/*/src` must start with a `//!` line.
///
/// # Errors
///
/// When a folder or file cannot be read.
pub fn check_module_docs(root: &Path) -> anyhow::Result<Vec<String>> {
    let crates_dir = root.join("crates");
    let mut files = Vec::new();
    for entry in read_dir_sorted(&crates_dir)? {
        let src = entry.join("src");
        if src.is_dir() {
            collect_rs_files(&src, &mut files)?;
        }
    }
    let mut violations = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let first_line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
        let is_crate_root = file.parent().is_some_and(|dir| dir.ends_with("src"))
            && matches!(file.file_name().and_then(|n| n.to_str()), Some("lib.rs" | "main.rs"));
        let documented =
            first_line.starts_with("//!") || (is_crate_root && first_line.starts_with("#![doc = include_str!("));
        if !documented {
            let shown = file.strip_prefix(root).unwrap_or(&file);
            violations.push(format!(
                "{}: does not start with a `//!` line saying what it is for",
                shown.display()
            ));
        }
    }
    Ok(violations)
}

fn read_dir_sorted(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("listing {}", dir.display()))?;
    paths.sort();
    Ok(paths)
}

fn collect_rs_files(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for path in read_dir_sorted(dir)? {
        if path.is_dir() {
            collect_rs_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(())
}
