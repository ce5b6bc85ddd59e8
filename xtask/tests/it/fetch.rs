//! Downloads from the local server: success, checksum fallback, skip-if-present, atomicity, and
//! the error when every mirror fails.

use std::collections::HashMap;
use std::path::Path;

use xtask::fetch::{FetchPlan, Outcome, Source, Ui, run};
use xtask::verify::md5_hex;

use crate::server::{Route, Server};
use crate::{IMAGES_NAME, LABELS_NAME, SAMPLE_IMAGES_GZ, SAMPLE_LABELS_GZ, corrupted, file_names, sample_specs};

/// Good files under `/good/`, corrupted ones under `/corrupt/`, half-sent ones under `/cut/`, a
/// 500 under `/broken/`, the labels served as images under `/swapped/`; anything else is 404.
fn server() -> Server {
    let mut routes = HashMap::new();
    for (name, bytes) in [(IMAGES_NAME, SAMPLE_IMAGES_GZ), (LABELS_NAME, SAMPLE_LABELS_GZ)] {
        routes.insert(format!("/good/{name}"), Route::Body(bytes.to_vec()));
        routes.insert(format!("/corrupt/{name}"), Route::Body(corrupted(bytes)));
        routes.insert(format!("/cut/{name}"), Route::CutShort(bytes.to_vec()));
        routes.insert(format!("/broken/{name}"), Route::Status(500));
    }
    routes.insert(
        format!("/swapped/{IMAGES_NAME}"),
        Route::Body(SAMPLE_LABELS_GZ.to_vec()),
    );
    Server::start(routes)
}

fn plan(dest: &Path, mirrors: Vec<String>) -> FetchPlan {
    FetchPlan {
        files: sample_specs(),
        mirrors,
        dest: dest.to_path_buf(),
        offline_hint: "HINT: use --from DIR".into(),
    }
}

#[test]
fn downloads_and_verifies() {
    let server = server();
    let dest = tempfile::tempdir().unwrap();
    let report = run(
        &plan(dest.path(), vec![server.url("good")]),
        &Source::Mirrors,
        &Ui::silent(),
    )
    .unwrap();
    let urls: Vec<_> = report.files.iter().map(|file| file.outcome.clone()).collect();
    assert_eq!(
        urls,
        [
            Outcome::Downloaded {
                url: format!("{}{IMAGES_NAME}", server.url("good"))
            },
            Outcome::Downloaded {
                url: format!("{}{LABELS_NAME}", server.url("good"))
            },
        ]
    );
    assert_eq!(file_names(dest.path()), [IMAGES_NAME, LABELS_NAME]);
    assert_eq!(
        md5_hex(&std::fs::read(dest.path().join(IMAGES_NAME)).unwrap()),
        md5_hex(SAMPLE_IMAGES_GZ)
    );
    assert_eq!(
        server.requests(),
        [format!("/good/{IMAGES_NAME}"), format!("/good/{LABELS_NAME}")]
    );
    assert_eq!(report.summary(), "2 downloaded");
    // What was fetched is what ssne-data loads.
    let data = ssne_data::idx::load_pair(&dest.path().join(IMAGES_NAME), Some(&dest.path().join(LABELS_NAME))).unwrap();
    assert_eq!(data.features.dim(), (10_000, 784));
}

#[test]
fn checksum_rejection_deletes_and_falls_back_to_the_next_mirror() {
    let server = server();
    let dest = tempfile::tempdir().unwrap();
    let mirrors = vec![server.url("corrupt"), server.url("good")];
    let report = run(&plan(dest.path(), mirrors), &Source::Mirrors, &Ui::silent()).unwrap();
    for file in &report.files {
        assert!(
            matches!(&file.outcome, Outcome::Downloaded { url } if url.contains("/good/")),
            "{file:?}"
        );
    }
    assert_eq!(
        server.requests(),
        [
            format!("/corrupt/{IMAGES_NAME}"),
            format!("/good/{IMAGES_NAME}"),
            format!("/corrupt/{LABELS_NAME}"),
            format!("/good/{LABELS_NAME}"),
        ]
    );
    assert_eq!(file_names(dest.path()), [IMAGES_NAME, LABELS_NAME]);
    assert_eq!(std::fs::read(dest.path().join(LABELS_NAME)).unwrap(), SAMPLE_LABELS_GZ);
}

#[test]
fn verified_files_are_not_downloaded_again() {
    let server = server();
    let dest = tempfile::tempdir().unwrap();
    let plan = plan(dest.path(), vec![server.url("good")]);
    run(&plan, &Source::Mirrors, &Ui::silent()).unwrap();
    let n_requests = server.requests().len();
    let again = run(&plan, &Source::Mirrors, &Ui::silent()).unwrap();
    assert_eq!(server.requests().len(), n_requests, "the second run made requests");
    assert!(again.files.iter().all(|file| file.outcome == Outcome::AlreadyPresent));
    assert_eq!(again.summary(), "2 already present");
}

#[test]
fn a_bad_file_under_the_final_name_is_replaced() {
    let server = server();
    let dest = tempfile::tempdir().unwrap();
    std::fs::write(dest.path().join(IMAGES_NAME), corrupted(SAMPLE_IMAGES_GZ)).unwrap();
    let report = run(
        &plan(dest.path(), vec![server.url("good")]),
        &Source::Mirrors,
        &Ui::silent(),
    )
    .unwrap();
    assert!(matches!(report.files[0].outcome, Outcome::Downloaded { .. }));
    assert_eq!(std::fs::read(dest.path().join(IMAGES_NAME)).unwrap(), SAMPLE_IMAGES_GZ);
}

#[test]
fn an_interrupted_download_leaves_no_file() {
    let server = server();
    let dest = tempfile::tempdir().unwrap();
    let err = run(
        &plan(dest.path(), vec![server.url("cut")]),
        &Source::Mirrors,
        &Ui::silent(),
    )
    .unwrap_err();
    assert!(err.to_string().contains(&server.url("cut")), "{err:#}");
    assert_eq!(server.requests(), [format!("/cut/{IMAGES_NAME}")]);
    assert!(
        file_names(dest.path()).is_empty(),
        "left behind: {:?}",
        file_names(dest.path())
    );
}

#[test]
fn a_file_with_the_wrong_idx_header_is_rejected() {
    let server = server();
    let dest = tempfile::tempdir().unwrap();
    let mut plan = plan(dest.path(), vec![server.url("swapped")]);
    // The checksum table says the labels' bytes are right for the images file...
    plan.files[0].md5 = md5_hex(SAMPLE_LABELS_GZ);
    let err = run(&plan, &Source::Mirrors, &Ui::silent()).unwrap_err();
    // ...but ssne-data reads a labels header where images are expected.
    assert!(err.to_string().contains("IDX header"), "{err:#}");
    assert!(file_names(dest.path()).is_empty());
}

#[test]
fn when_every_mirror_fails_the_error_says_why_for_each_and_how_to_import() {
    let server = server();
    let dest = tempfile::tempdir().unwrap();
    let mirrors = vec![server.url("missing"), server.url("broken"), server.url("corrupt")];
    let err = run(&plan(dest.path(), mirrors), &Source::Mirrors, &Ui::silent()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!("could not fetch {IMAGES_NAME}: every mirror failed")),
        "{message}"
    );
    for (prefix, why) in [("missing", "404"), ("broken", "500"), ("corrupt", "checksum mismatch")] {
        let line = message
            .lines()
            .find(|line| line.contains(&format!("{}{IMAGES_NAME}", server.url(prefix))))
            .unwrap_or_else(|| panic!("no line for the {prefix} mirror in:\n{message}"));
        assert!(line.contains(why), "{line}");
    }
    assert!(message.ends_with("HINT: use --from DIR"), "{message}");
    assert!(file_names(dest.path()).is_empty());
}

#[test]
fn unreachable_mirror_is_reported() {
    // Bind then drop a listener: the port is closed, so connecting fails at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dest = tempfile::tempdir().unwrap();
    let mirror = format!("http://127.0.0.1:{port}/");
    let err = run(
        &plan(dest.path(), vec![mirror.clone()]),
        &Source::Mirrors,
        &Ui::silent(),
    )
    .unwrap_err();
    assert!(err.to_string().contains(&format!("{mirror}{IMAGES_NAME}: ")), "{err:#}");
    assert!(file_names(dest.path()).is_empty());
}

#[test]
fn the_real_plans_point_at_the_published_files() {
    let mnist = FetchPlan::mnist("d".into());
    assert_eq!(mnist.mirrors[0], "https://ossci-datasets.s3.amazonaws.com/mnist/");
    assert_eq!(mnist.files.len(), 4);
    assert!(mnist.offline_hint.contains("cargo xtask fetch-mnist --from"));
    let fashion = FetchPlan::fashion_mnist("d".into());
    assert_eq!(
        fashion.mirrors,
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    );
    assert!(
        fashion
            .offline_hint
            .contains("cargo xtask fetch-fashion-mnist --from /usr/share/datasets/fashion-mnist")
    );
}
