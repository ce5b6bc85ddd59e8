//! `tidy`: architecture rules checked on the real tree (also run by `cargo test`).
//!
//! - Layering, from `cargo metadata --no-deps`: each library crate depends only on the salient-sne
//!   crates below it ([`LAYERS`]); binary-only crates ([`BINARY_ONLY_DEPS`]) appear only in
//!   [`BINARY_CRATES`]. Normal and build dependencies count; dev-dependencies (tests, benches) do
//!   not, since they never reach a user of the library.
//! - One PNG encoder: only [`PNG_CRATES`] (`ssne-saliency`, whose `picture::RgbImage::to_png` every
//!   picture goes through) depend on `png`; dev-dependencies may (tests decode what was written).
//! - No system font libraries: no crate enables a plotters feature in [`REFUSED_PLOTTERS_FEATURES`]
//!   (`ttf` links fontconfig and freetype; `bitmap_encoder` is a second PNG encoder), neither in a
//!   dependency (dev-dependencies too: tests must build on a bare machine as well), nor through
//!   plotters' default features, nor from the crate's own `[features]`.
//! - Module docs: every `.rs` file under `crates/*/src` starts with a `//!` line; a crate root may
//!   instead start with `#![doc = include_str!(..)]` (its README is the crate doc).
//! - One definition of each thing ([`SOURCE_RULES`]), on the code (comments left out) of every
//!   `.rs` file under `crates/*/{src,examples,benches}` and `benches/{src,benches,examples}`
//!   (tests may build fixtures by hand): the sparse matrix type is `ssne_tensor::Csr` (no `struct
//!   Csr` and no CSR row-pointer field elsewhere), the IDX reader is `ssne_data::idx` (no IDX
//!   magic number elsewhere), and the Student-t kernel is `ssne_autodiff::kernel` (no `1 / (1 +
//!   x)` weight, and no `ln_1p` or `powf` of a `dof`, elsewhere).

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
    ("ssne-onnx", &["ssne-model", "ssne-data"]),
    ("ssne-report", &["ssne-model", "ssne-saliency", "ssne-data"]),
    (
        "ssne-py",
        &["ssne-tensor", "ssne-data", "ssne-model", "ssne-saliency", "ssne-onnx"],
    ),
];

/// The crates that bind the library to a user (the command line, Python): nothing may depend on
/// them, so that no library feature is reachable only through one binding.
pub const BINDING_CRATES: &[&str] = &["ssne-cli", "ssne-py"];

/// Crates at the top, free to depend on any salient-sne crate.
pub const UNLAYERED: &[&str] = &["ssne-cli", "ssne-benches", "xtask"];

/// Dependencies reserved for binaries.
pub const BINARY_ONLY_DEPS: &[&str] = &["anyhow", "clap", "indicatif", "plotters", "plotters-backend", "ureq"];

/// The crates allowed to use [`BINARY_ONLY_DEPS`].
pub const BINARY_CRATES: &[&str] = &["ssne-cli", "xtask"];

/// The crates that may depend on `png`: the one PNG encoder lives in `ssne-saliency`
/// (`picture::RgbImage::to_png`), so every picture the project writes is encoded the same way.
pub const PNG_CRATES: &[&str] = &["ssne-saliency"];

/// plotters features no crate may enable, each with the reason given in the violation.
pub const REFUSED_PLOTTERS_FEATURES: &[(&str, &str)] = &[
    (
        "ttf",
        "it links the system's fontconfig and freetype, so a fresh clone would not build on a bare \
         machine; plots draw text in ssne_saliency::picture::font",
    ),
    (
        "bitmap_encoder",
        "it is a second PNG encoder (through `image`); encode with ssne_saliency::picture::RgbImage::to_png",
    ),
];

/// A rule that keeps a piece of code in one place: lines matching it may appear only in files
/// whose path (from the workspace root, with `/`) starts with one of `homes`.
#[derive(Debug, Clone, Copy)]
pub struct SourceRule {
    /// What the line is, for the violation ("a CSR type").
    pub what: &'static str,
    /// Where the one definition lives.
    pub homes: &'static [&'static str],
    /// Whether a line of code (comments removed, whitespace removed) is one.
    pub matches: fn(&str) -> bool,
    /// What to use instead, for the violation.
    pub instead: &'static str,
}

/// The one-definition rules checked by [`check_sources`].
pub const SOURCE_RULES: &[SourceRule] = &[
    SourceRule {
        what: "a CSR sparse matrix type",
        homes: &["crates/ssne-tensor/src/sparse.rs"],
        matches: is_csr_definition,
        instead: "ssne_tensor::Csr (from_dense, from_sorted_rows, transpose_into)",
    },
    SourceRule {
        what: "an IDX magic number (a second IDX reader)",
        homes: &["crates/ssne-data/src/"],
        matches: has_idx_magic,
        instead: "ssne_data::idx (read_images, read_labels, inspect) or ssne_data::bundled",
    },
    SourceRule {
        what: "a Student-t kernel formula",
        homes: &["crates/ssne-autodiff/src/kernel.rs"],
        matches: is_student_t_formula,
        instead: "ssne_autodiff::kernel (StudentT, Cauchy, General, cauchy)",
    },
];

/// `struct Csr…`, or a struct field / binding typed as CSR row pointers (`indptr:`, `row_ptr:`).
fn is_csr_definition(code: &str) -> bool {
    code.contains("structCsr") || code.contains("indptr:") || code.contains("row_ptr:")
}

/// A hexadecimal literal worth `0x803` or `0x801` (any zeros and underscores), or the magic's
/// bytes spelled out (`[0, 0, 8, 3`, `[0, 0, 8, 1`).
fn has_idx_magic(code: &str) -> bool {
    if code.contains("[0,0,8,3") || code.contains("[0,0,8,1") {
        return true;
    }
    code.match_indices("0x").any(|(at, _)| {
        let digits: String = code[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '_')
            .filter(|c| *c != '_')
            .collect();
        matches!(digits.trim_start_matches('0'), "803" | "801")
    })
}

/// `1.0 / (1.0 + …` (the Cauchy weight, in any float type), or a line that takes `ln_1p` or
/// `powf` and names `dof` (the general weight or its logarithm).
fn is_student_t_formula(code: &str) -> bool {
    let code = code.replace("_f32", "").replace("_f64", "");
    code.contains("1.0/(1.0+") || (code.contains("dof") && (code.contains("ln_1p") || code.contains("powf")))
}

/// The code of a line: without its `//` comment (a `//` inside a string literal is rare enough
/// in this tree that cutting there only ever hides code, never invents a match) and without
/// whitespace.
fn code_of(line: &str) -> String {
    let code = line.find("//").map_or(line, |at| &line[..at]);
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The [`SOURCE_RULES`] violations in one file's text; `path` is from the workspace root.
pub fn check_source_text(path: &str, text: &str) -> Vec<String> {
    let mut violations = Vec::new();
    for rule in SOURCE_RULES {
        if rule.homes.iter().any(|home| path.starts_with(home)) {
            continue;
        }
        for (number, line) in text.lines().enumerate() {
            if (rule.matches)(&code_of(line)) {
                violations.push(format!(
                    "{path}:{}: {} outside {}; use {}",
                    number + 1,
                    rule.what,
                    rule.homes.join(", "),
                    rule.instead
                ));
            }
        }
    }
    violations
}

/// [`check_source_text`] on every `.rs` file under `<root>/crates/*/{src,examples,benches}` and
/// `<root>/benches/{src,benches,examples}`.
///
/// # Errors
///
/// When a folder or file cannot be read.
pub fn check_sources(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut folders = Vec::new();
    for krate in read_dir_sorted(&root.join("crates"))? {
        folders.extend(["src", "examples", "benches"].map(|sub| krate.join(sub)));
    }
    folders.extend(["src", "benches", "examples"].map(|sub| root.join("benches").join(sub)));
    let mut files = Vec::new();
    for folder in folders.into_iter().filter(|folder| folder.is_dir()) {
        collect_rs_files(&folder, &mut files)?;
    }
    let mut violations = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let shown = file.strip_prefix(root).unwrap_or(&file);
        let shown: Vec<String> = shown
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        violations.extend(check_source_text(&shown.join("/"), &text));
    }
    Ok(violations)
}

/// Runs every check on the workspace at `root` and returns the violations, one line each.
///
/// # Errors
///
/// When `cargo metadata` cannot run or its output is not as expected, or a source folder cannot
/// be read. Violations are not errors: they are returned.
pub fn run(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut violations = check_dependencies(&metadata(root)?)?;
    violations.extend(check_module_docs(root)?);
    violations.extend(check_sources(root)?);
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

/// The layering, binary-only-dependency, PNG-encoder and plotters-feature rules on
/// `cargo metadata` JSON.
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
            if dep == "plotters" {
                violations.extend(check_plotters_dependency(name, dependency));
            }
            if dependency["kind"].as_str() == Some("dev") {
                continue;
            }
            if BINDING_CRATES.contains(&dep) {
                violations.push(format!(
                    "{name} depends on {dep}, a binding crate; nothing may depend on {}",
                    BINDING_CRATES.join(" or ")
                ));
            }
            if dep == "png" && !PNG_CRATES.contains(&name) {
                violations.push(format!(
                    "{name} depends on png; only {} may (the one PNG encoder is \
                     ssne_saliency::picture::RgbImage::to_png)",
                    PNG_CRATES.join(" and ")
                ));
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
        violations.extend(check_plotters_features_table(name, package, dependencies));
    }
    Ok(violations)
}

/// The refused plotters features that one dependency on plotters turns on, directly or through
/// plotters' default features (which include them all). Fields cargo always writes but a fixture
/// may leave out count as absent.
fn check_plotters_dependency(package: &str, dependency: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    if dependency["uses_default_features"].as_bool() == Some(true) {
        let refused: Vec<&str> = REFUSED_PLOTTERS_FEATURES.iter().map(|(feature, _)| *feature).collect();
        violations.push(format!(
            "{package} uses plotters' default features, which include {}; set default-features = false",
            refused.join(" and ")
        ));
    }
    let features = dependency["features"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (feature, why) in REFUSED_PLOTTERS_FEATURES {
        if features.iter().any(|f| f.as_str() == Some(feature)) {
            violations.push(format!("{package} enables plotters' `{feature}` feature: {why}"));
        }
    }
    violations
}

/// The refused plotters features that a package's own `[features]` table turns on
/// (`"plotters/ttf"`, `"plotters?/ttf"`, under the name the package gives plotters).
fn check_plotters_features_table(package: &str, metadata: &Value, dependencies: &[Value]) -> Vec<String> {
    let plotters_names: Vec<&str> = dependencies
        .iter()
        .filter(|d| d["name"].as_str() == Some("plotters"))
        .filter_map(|d| d["rename"].as_str().or(d["name"].as_str()))
        .collect();
    let Some(table) = metadata["features"].as_object() else {
        return Vec::new();
    };
    let mut violations = Vec::new();
    for (own_feature, enables) in table {
        for enabled in enables.as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some((dep, feature)) = enabled.as_str().and_then(|e| e.split_once('/')) else {
                continue;
            };
            let dep = dep.strip_suffix('?').unwrap_or(dep);
            if let Some((feature, why)) = REFUSED_PLOTTERS_FEATURES
                .iter()
                .find(|(refused, _)| *refused == feature)
                && plotters_names.contains(&dep)
            {
                violations.push(format!(
                    "{package}'s feature `{own_feature}` enables plotters' `{feature}` feature: {why}"
                ));
            }
        }
    }
    violations
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dep(name: &str, kind: Option<&str>) -> Value {
        json!({ "name": name, "kind": kind })
    }

    fn plotters(features: &[&str], default_features: bool) -> Value {
        json!({ "name": "plotters", "kind": null, "features": features, "uses_default_features": default_features })
    }

    #[test]
    fn nothing_depends_on_a_binding_crate() {
        let metadata = json!({ "packages": [
            { "name": "ssne-py", "dependencies": [dep("ssne-model", None), dep("ssne-saliency", None)] },
            { "name": "ssne-benches", "dependencies": [dep("ssne-py", None)] },
            { "name": "ssne-cli", "dependencies": [dep("ssne-py", Some("build"))] },
            { "name": "ssne-onnx", "dependencies": [dep("ssne-cli", None)] },
        ]});
        let violations = check_dependencies(&metadata).unwrap();
        assert_eq!(
            violations,
            [
                "ssne-benches depends on ssne-py, a binding crate; nothing may depend on ssne-cli or ssne-py",
                "ssne-cli depends on ssne-py, a binding crate; nothing may depend on ssne-cli or ssne-py",
                "ssne-onnx depends on ssne-cli, a binding crate; nothing may depend on ssne-cli or ssne-py",
                "ssne-onnx depends on ssne-cli; it may depend only on ssne-model, ssne-data",
            ]
        );
    }

    #[test]
    fn only_ssne_saliency_depends_on_png() {
        let metadata = json!({ "packages": [
            { "name": "ssne-saliency", "dependencies": [dep("png", None)] },
            { "name": "ssne-cli", "dependencies": [dep("png", None), dep("ssne-saliency", None)] },
            // A renamed dependency is still named by its package.
            { "name": "ssne-benches", "dependencies": [
                { "name": "png", "kind": "build", "rename": "encoder" },
            ] },
            // Tests may decode what was written.
            { "name": "xtask", "dependencies": [dep("png", Some("dev"))] },
        ]});
        let violations = check_dependencies(&metadata).unwrap();
        assert_eq!(
            violations,
            [
                "ssne-cli depends on png; only ssne-saliency may (the one PNG encoder is \
                 ssne_saliency::picture::RgbImage::to_png)",
                "ssne-benches depends on png; only ssne-saliency may (the one PNG encoder is \
                 ssne_saliency::picture::RgbImage::to_png)",
            ]
        );
    }

    #[test]
    fn a_second_csr_type_is_refused_outside_ssne_tensor() {
        let text = "/// Not a `struct Csr` in a comment.\npub struct Csr<R> {\n    indptr: Vec<usize>,\n}\nstruct P { row_ptr : Vec<usize> }\nlet ptr = p.csr().row_ptr();\n";
        let violations = check_source_text("crates/ssne-affinity/src/csr.rs", text);
        assert_eq!(violations.len(), 3, "{violations:#?}");
        assert!(violations[0].starts_with("crates/ssne-affinity/src/csr.rs:2: a CSR sparse matrix type outside crates/ssne-tensor/src/sparse.rs; use ssne_tensor::Csr"));
        assert!(violations[1].starts_with("crates/ssne-affinity/src/csr.rs:3: "));
        assert!(violations[2].starts_with("crates/ssne-affinity/src/csr.rs:5: "));
        assert!(check_source_text("crates/ssne-tensor/src/sparse.rs", text).is_empty());
    }

    #[test]
    fn an_idx_magic_is_refused_outside_ssne_data() {
        for (line, found) in [
            ("assert_eq!(header(0), 0x0000_0803, \"not IDX\");", true),
            ("const MAGIC: u32 = 0x801;", true),
            ("if magic == 0x00000801 {", true),
            ("let header = [0, 0, 8, 3, 0, 0, 0, 2];", true),
            ("let mask = 0x8030;", false),
            ("let x = 0x0801_u16 + 1; // not a u32, still a magic", true),
            ("// the magic 0x00000803, in a comment", false),
        ] {
            let violations = check_source_text("benches/src/lib.rs", line);
            assert_eq!(violations.len(), usize::from(found), "{line}: {violations:#?}");
        }
        let violations = check_source_text("benches/src/lib.rs", "let m = 0x0000_0803;");
        assert!(violations[0].starts_with("benches/src/lib.rs:1: an IDX magic number (a second IDX reader) outside crates/ssne-data/src/; use ssne_data::idx"));
        assert!(check_source_text("crates/ssne-data/src/idx.rs", "const M: u32 = 0x0000_0803;").is_empty());
    }

    #[test]
    fn a_second_student_t_formula_is_refused_outside_the_kernel_module() {
        for (line, found) in [
            ("let w = 1.0 / (1.0 + dx * dx + dy * dy);", true),
            ("let w = 1.0_f32 / (1.0_f32 + d);", true),
            ("let u = 1.0/(1.0 + d2 / dof);", true),
            ("attraction += exponent * (sq_dist / kernel.dof).ln_1p();", true),
            ("let w = u.powf((dof + 1.0) / 2.0);", true),
            ("let c = (1.0 + t * t).sqrt().recip();", false),
            ("let w = cauchy(dx * dx + dy * dy);", false),
            ("let y = x.ln_1p(); // no dof here", false),
            ("/// w = 1.0 / (1.0 + d²), in a comment", false),
        ] {
            let violations = check_source_text("crates/ssne-model/src/refine.rs", line);
            assert_eq!(violations.len(), usize::from(found), "{line}: {violations:#?}");
        }
        let kernel = "fn textbook(dof: f64, d: f64) -> f64 { (1.0 + d / dof).powf(-(dof + 1.0) / 2.0) }";
        assert!(check_source_text("crates/ssne-autodiff/src/kernel.rs", kernel).is_empty());
        assert_eq!(
            check_source_text("crates/ssne-autodiff/src/ops/tsne_kl.rs", kernel).len(),
            1
        );
    }

    #[test]
    fn plotters_ttf_and_bitmap_encoder_are_refused() {
        let mut dev_ttf = plotters(&["ttf"], false);
        dev_ttf["kind"] = json!("dev");
        let metadata = json!({ "packages": [
            { "name": "ssne-cli", "dependencies": [plotters(&["bitmap_backend", "point_series"], false)] },
            { "name": "xtask", "dependencies": [plotters(&["bitmap_backend", "ttf", "bitmap_encoder"], false)] },
            { "name": "ssne-benches", "dependencies": [dev_ttf] },
            { "name": "ssne-cli", "dependencies": [plotters(&[], true)] },
            {
                "name": "ssne-cli",
                "dependencies": [{ "name": "plotters", "kind": null, "rename": "plot", "optional": true }],
                "features": { "fonts": ["plot?/ttf", "dep:plot"], "plain": ["plot/bitmap_backend"] },
            },
        ]});
        let violations = check_dependencies(&metadata).unwrap();
        assert_eq!(violations.len(), 5, "{violations:#?}");
        assert!(violations[0].starts_with("xtask enables plotters' `ttf` feature: it links the system's fontconfig"));
        assert!(violations[1].starts_with("xtask enables plotters' `bitmap_encoder` feature: it is a second PNG"));
        assert!(violations[2].starts_with("ssne-benches enables plotters' `ttf` feature: "));
        assert_eq!(
            violations[3],
            "ssne-cli uses plotters' default features, which include ttf and bitmap_encoder; \
             set default-features = false"
        );
        // Through the crate's own feature table, under the name it gives plotters.
        assert!(
            violations[4].starts_with("ssne-cli's feature `fonts` enables plotters' `ttf` feature: "),
            "{violations:#?}"
        );
    }
}
