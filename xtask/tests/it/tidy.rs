//! The tidy rules on fixtures, and on this workspace (so `cargo test --workspace` enforces them).

use serde_json::json;
use xtask::tidy::{check_dependencies, check_module_docs, run};

#[test]
fn this_workspace_is_tidy() {
    let violations = run(&xtask::workspace_root()).unwrap();
    assert!(
        violations.is_empty(),
        "cargo xtask tidy found:\n{}",
        violations.join("\n")
    );
}

fn dep(name: &str, kind: Option<&str>) -> serde_json::Value {
    json!({ "name": name, "kind": kind })
}

#[test]
fn layering_and_binary_only_dependencies() {
    let metadata = json!({ "packages": [
        { "name": "ssne-tensor", "dependencies": [dep("ndarray", None)] },
        { "name": "ssne-data", "dependencies": [dep("ssne-tensor", None), dep("proptest", Some("dev"))] },
        { "name": "ssne-autodiff", "dependencies": [dep("ssne-tensor", None), dep("ssne-model", Some("dev"))] },
        { "name": "ssne-model", "dependencies": [dep("ssne-data", None), dep("anyhow", None), dep("clap", Some("dev"))] },
        { "name": "ssne-saliency", "dependencies": [dep("ssne-affinity", Some("build"))] },
        { "name": "ssne-cli", "dependencies": [dep("ssne-model", None), dep("anyhow", None), dep("plotters", None)] },
        { "name": "ssne-benches", "dependencies": [dep("ssne-model", None), dep("indicatif", None)] },
        { "name": "ssne-new", "dependencies": [] },
        { "name": "xtask", "dependencies": [dep("ureq", None), dep("ssne-data", None)] },
    ]});
    let violations = check_dependencies(&metadata).unwrap();
    assert_eq!(
        violations,
        [
            "ssne-data depends on ssne-tensor; it may depend only on no salient-sne crate",
            "ssne-model depends on anyhow, which only ssne-cli and xtask may use",
            "ssne-saliency depends on ssne-affinity; it may depend only on ssne-tensor, ssne-autodiff, ssne-model, ssne-data",
            "ssne-benches depends on indicatif, which only ssne-cli and xtask may use",
            "ssne-new: no layering rule; add it to LAYERS in xtask/src/tidy.rs",
        ]
    );
    assert!(check_dependencies(&json!({ "nope": [] })).is_err());
}

#[test]
fn module_docs() {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("crates/demo/src");
    std::fs::create_dir_all(src.join("ops")).unwrap();
    std::fs::write(src.join("lib.rs"), "#![doc = include_str!(\"../README.md\")]\nmod a;\n").unwrap();
    std::fs::write(src.join("a.rs"), "\n//! Documented.\n").unwrap();
    std::fs::write(src.join("ops/b.rs"), "use std::fmt;\n//! too late\n").unwrap();
    std::fs::write(src.join("ops/c.rs"), "#![doc = include_str!(\"x.md\")]\n").unwrap();
    std::fs::write(src.join("notes.txt"), "not rust").unwrap();
    let violations = check_module_docs(root.path()).unwrap();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(
        violations[0].starts_with("crates/demo/src/ops/b.rs: "),
        "{violations:?}"
    );
    assert!(
        violations[1].starts_with("crates/demo/src/ops/c.rs: "),
        "{violations:?}"
    );
}
