//! `salient-sne report` in a real browser: headless Chromium loads the page offline, and the
//! page's numbers are checked against the CLI's `embed` and `saliency` and the Rust library.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use ssne_data::ndarray::{Array2, Axis};
use ssne_model::{ParametricTsne, clusters, model_file};
use ssne_saliency::{Attribution, Gradient, Networks, Target};

use super::browser::Browser;
use super::{QUICK_TRAINING, ok, path_arg, run, shared_model};

/// The rows shown over the shared model's map (trained on rows 0..600).
const SHOWN: &str = "600..800";
const N_SHOWN: usize = 200;
const N_TRAIN: usize = 600;

/// The page of the shared model: rows 600..800 over the map of 0..600, refined.
fn shared_report(dir: &Path) -> PathBuf {
    report_of(shared_model(), dir)
}

/// The page of `model` (trained on rows 0..600): rows 600..800 over its map, refined.
fn report_of(model: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("report.html");
    let model = path_arg(model);
    ok(&run([
        "--quiet",
        "report",
        "--model",
        &model,
        "--rows",
        SHOWN,
        "--train-rows",
        "0..600",
        "--refine",
        "10",
        "--out",
        &path_arg(&out),
    ]));
    out
}

fn npy(path: &Path) -> Array2<f32> {
    ssne_data::npy::read_features(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The largest value minus the smallest.
fn spread(values: impl IntoIterator<Item = f32>) -> f64 {
    let (lo, hi) = values
        .into_iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(f64::from(v)), hi.max(f64::from(v)))
        });
    hi - lo
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

/// Asserts that `page` equals `rust` to `1e-5` of `rust`'s spread (or of `scale` when larger).
fn assert_close(what: &str, page: &[f64], rust: &[f32], scale: f64) {
    assert_eq!(page.len(), rust.len(), "{what}: lengths");
    let tolerance = 1e-5 * spread(rust.iter().copied()).max(scale);
    let worst = page
        .iter()
        .zip(rust)
        .map(|(a, &b)| (a - f64::from(b)).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= tolerance,
        "{what}: the page is {worst:e} from Rust, more than {tolerance:e} (1e-5 of the spread)"
    );
}

fn load_model() -> ParametricTsne {
    model_file::load(shared_model()).expect("the shared model loads")
}

/// The shown rows as the model sees them (scaled).
fn shown_rows(model: &ParametricTsne) -> ssne_data::Dataset {
    let mut data = ssne_data::bundled::mnist_sample()
        .expect("the bundled sample")
        .rows(N_TRAIN..N_TRAIN + N_SHOWN)
        .expect("rows");
    model.prepare(&mut data).expect("prepared");
    data
}

#[test]
fn the_report_loads_offline_draws_every_point_and_has_its_parts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = shared_report(dir.path());
    let mut browser = Browser::launch(1400, 900);
    let url = browser.open(&page);
    assert_eq!(browser.eval("__report.drawnPoints"), json!(N_SHOWN));
    assert_eq!(browser.eval("__report.drawnTrain"), json!(N_TRAIN));
    // The legend counts each class, the centres are labelled, the pairs and metrics are there.
    let legend = browser.eval("document.getElementById('legend').textContent");
    let legend = legend.as_str().expect("text");
    assert_eq!(
        browser.eval("document.querySelectorAll('#legend div').length"),
        json!(10)
    );
    let sample = ssne_data::bundled::mnist_sample().expect("sample");
    let labels = sample.labels.as_deref().expect("labelled");
    let shown_threes = labels[N_TRAIN..N_TRAIN + N_SHOWN].iter().filter(|&&l| l == 3).count();
    let train_threes = labels[..N_TRAIN].iter().filter(|&&l| l == 3).count();
    assert!(
        legend.contains(&format!("3: {shown_threes} shown, {train_threes} in training")),
        "{legend}"
    );
    assert_eq!(browser.eval("__report.data.centres.length"), json!(10));
    let pairs = browser.eval("document.querySelectorAll('#pairs figure').length");
    assert!(
        pairs.as_u64().is_some_and(|n| n >= 10 && n.is_multiple_of(2)),
        "{pairs}"
    );
    let metrics = browser.eval("document.getElementById('metrics').textContent");
    assert!(
        metrics
            .as_str()
            .is_some_and(|m| m.contains("k-NN accuracy (k=10)") && m.contains("refined"))
    );
    // Clicking a cluster's label on the map picks its pair maps.
    let centre = browser.eval("__report.centreScreen(4)");
    let (x, y) = (centre["x"].as_f64().expect("x"), centre["y"].as_f64().expect("y"));
    browser.mouse("mousePressed", x, y, true);
    browser.mouse("mouseReleased", x, y, true);
    browser.wait_for("__report.chosenPairs >= 1");
    // The refinement toggle draws the shifts.
    browser.eval("document.getElementById('shift-toggle').click()");
    browser.wait_for("__report.shiftsShown === true");
    // Zooming in at the centre of the map leaves fewer points in view.
    browser.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseWheel", "x": 480, "y": 450, "deltaX": 0, "deltaY": -900 }),
    );
    browser.wait_for(&format!("__report.drawnPoints < {N_SHOWN}"));
    browser.eval("document.getElementById('reset-view').click()");
    browser.wait_for(&format!("__report.drawnPoints === {N_SHOWN}"));

    // The screenshot in docs/ shows a hovered point's panel.
    let at = browser.eval("__report.toScreen(17)");
    browser.mouse(
        "mouseMoved",
        at["x"].as_f64().expect("x"),
        at["y"].as_f64().expect("y"),
        false,
    );
    browser.wait_for("__report.shown && __report.shown.set === 'points'");
    let png = browser.screenshot();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG screenshot");
    if let Ok(path) = std::env::var("SSNE_REPORT_SCREENSHOT") {
        std::fs::write(&path, &png).expect("writing the screenshot");
    }
    assert_eq!(browser.problems(), Vec::<Value>::new(), "the page reported problems");
    let requests = browser.requests();
    assert!(
        requests.iter().all(|r| *r == url),
        "the page requested more than itself: {requests:?}"
    );
}

#[test]
fn hovering_a_point_shows_its_image_and_the_saliency_the_cli_and_library_compute() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = shared_report(dir.path());
    let model_path = path_arg(shared_model());
    let embedded = dir.path().join("embedded.npy");
    ok(&run([
        "--quiet",
        "embed",
        "--model",
        &model_path,
        "--rows",
        SHOWN,
        "--out",
        &path_arg(&embedded),
    ]));
    let cli_map = npy(&embedded);
    let map_spread = spread(cli_map.iter().copied());
    let model = load_model();
    let data = shown_rows(&model);
    let raw = ssne_data::bundled::mnist_sample()
        .expect("sample")
        .rows(N_TRAIN..N_TRAIN + N_SHOWN)
        .expect("rows");
    let centres = clusters::map_centres(
        model.reference.embedding.view(),
        model.reference.labels.as_deref().expect("labelled"),
    )
    .expect("centres");

    let mut browser = Browser::launch(1400, 900);
    browser.open(&page);
    for i in [0usize, 17, 64, 123, 199] {
        let at = browser.eval(&format!("__report.toScreen({i})"));
        let (x, y) = (at["x"].as_f64().expect("x"), at["y"].as_f64().expect("y"));
        let before = browser.eval("__report.shownCount || 0").as_u64().expect("count");
        browser.mouse("mouseMoved", x, y, false);
        browser.wait_for(&format!("(__report.shownCount || 0) > {before}"));
        let shown = browser.eval("__report.shown");
        assert_eq!(shown["set"], json!("points"), "{shown}");
        let index = shown["index"].as_u64().expect("index") as usize;
        // Another point may lie under the cursor within a pixel; check whichever is shown.
        let here = cli_map.row(index);
        let there = cli_map.row(i);
        assert!(
            f64::from((here[0] - there[0]).hypot(here[1] - there[1])) <= 2.0 * map_spread / 900.0,
            "hovered point {i} at {x},{y} showed point {index}"
        );
        // The panel's coordinates are the CLI's `embed`, to 1e-5 of the map's spread
        // (printed with five decimals).
        let mut text = |id: &str| -> f64 {
            let text = format!("document.getElementById('{id}').textContent");
            browser.eval(&text).as_str().expect("text").parse().expect("a number")
        };
        let (px, py) = (text("coord-x"), text("coord-y"));
        let tolerance = 1e-5 * map_spread + 5e-6;
        assert!(
            (px - f64::from(here[0])).abs() <= tolerance && (py - f64::from(here[1])).abs() <= tolerance,
            "point {index}: the panel shows ({px}, {py}), embed gives ({}, {})",
            here[0],
            here[1]
        );
        // The image panel shows the point's own pixels.
        let pixels = browser.eval(
            "Array.from(document.getElementById('point-image').getContext('2d').getImageData(0, 0, 28, 28).data)\
             .filter((_, k) => k % 4 === 0)",
        );
        let expected: Vec<f64> = raw
            .features
            .row(index)
            .iter()
            .map(|&v| (v * 255.0).round().into())
            .collect();
        assert_eq!(floats(&pixels), expected, "the image of point {index}");
        // Its class saliency (of the predicted class) and its directional saliency toward the
        // default cluster are the library's gradients at the row.
        let x_row = data.features.row(index).insert_axis(Axis(0)).to_owned();
        let predicted = model.classify(x_row.view()).expect("classified")[0];
        assert_eq!(shown["prediction"], json!(predicted));
        let networks = Networks::from(&model);
        let class_map = Gradient
            .attribute(networks, x_row.view(), &Target::Class(predicted))
            .expect("class saliency");
        let class_map = class_map.row(0).to_vec();
        assert_close("class saliency", &floats(&shown["classMap"]), &class_map, 0.0);
        let target = shown["target"].as_u64().expect("a target cluster") as u32;
        let centre = centres.iter().find(|c| c.label == target).expect("the target's centre");
        let (dx, dy) = (centre.centre[0] - here[0], centre.centre[1] - here[1]);
        let norm = dx.hypot(dy);
        let direction = Target::direction(&[dx / norm, dy / norm]);
        let dir_map = Gradient
            .attribute(networks, x_row.view(), &direction)
            .expect("directional saliency");
        assert_close(
            "directional saliency",
            &floats(&shown["dirMap"]),
            &dir_map.row(0).to_vec(),
            0.0,
        );
        // ... and the heatmaps are drawn: some pixel of each is not white.
        for id in ["class-saliency", "dir-saliency"] {
            let coloured = browser.eval(&format!(
                "Array.from(document.getElementById('{id}').getContext('2d').getImageData(0, 0, 28, 28).data)\
                 .some((v, k) => k % 4 !== 3 && v < 250)"
            ));
            assert_eq!(coloured, json!(true), "{id} of point {index} is blank");
        }
    }
    // Class saliency at a class centre, as `salient-sne saliency --kind class` writes it.
    let maps = dir.path().join("maps");
    ok(&run([
        "--quiet",
        "saliency",
        "--model",
        &model_path,
        "--rows",
        SHOWN,
        "--kind",
        "class",
        "--class",
        "3",
        "--method",
        "gradient",
        "--out",
        &path_arg(&maps),
    ]));
    let cli_class = npy(&maps.join("class-3.npy"));
    let labels = raw.labels.as_deref().expect("labelled");
    let threes: Vec<usize> = (0..N_SHOWN).filter(|&i| labels[i] == 3).collect();
    let centre_raw: Vec<f64> = (0..raw.n_features())
        .map(|j| threes.iter().map(|&i| f64::from(raw.features[[i, j]])).sum::<f64>() / threes.len() as f64)
        .map(|v| f64::from(v as f32))
        .collect();
    let explained = browser.eval(&format!("__report.explainRaw({}, null, null, 3)", json!(centre_raw)));
    assert_close(
        "class saliency of 3 at its centre",
        &floats(&explained["classMap"]),
        &cli_class.row(0).to_vec(),
        0.0,
    );
    assert_eq!(browser.problems(), Vec::<Value>::new(), "the page reported problems");
}

#[test]
fn the_javascript_networks_equal_the_rust_networks_on_every_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = shared_report(dir.path());
    javascript_equals_rust(&page, &load_model());
}

/// The same on a model whose network starts with a PCA-20 input projection and draws its map
/// from the last of two hidden layers: the page projects, and takes gradients back through
/// the projection, as the Rust network does.
#[test]
fn the_javascript_networks_equal_the_rust_networks_with_an_input_projection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model_path = dir.path().join("projected.ssne");
    let mut args = vec!["train", "--rows", "0..600", "--model"];
    let model_arg = path_arg(&model_path);
    args.push(&model_arg);
    args.extend_from_slice(QUICK_TRAINING);
    args.extend_from_slice(&[
        "--input-pca",
        "20",
        "--hidden-widths",
        "50,50",
        "--head-input",
        "hidden",
    ]);
    ok(&run(&args));
    let model = model_file::load(&model_path).expect("the projected model loads");
    assert!(model.network.input_projection.is_some());
    let page = report_of(&model_path, dir.path());
    javascript_equals_rust(&page, &model);
}

fn javascript_equals_rust(page: &Path, model: &ParametricTsne) {
    let data = shown_rows(model);
    let rust_map = model.embed(data.features.view()).expect("embedded");
    let rust_classes = model.classify(data.features.view()).expect("classified");
    let mut browser = Browser::launch(1000, 700);
    browser.open(page);
    // Every shown row through the page's decoding, scaling, network and classifier.
    let page_rows = browser.eval(&format!(
        "Array.from({{ length: {N_SHOWN} }}, (_, i) => {{ const e = __report.explainRaw(__report.pointRaw(i)); \
         return [e.y[0], e.y[1], e.prediction]; }})"
    ));
    let page_rows = page_rows.as_array().expect("rows");
    let page_map: Vec<f64> = page_rows.iter().flat_map(|r| floats(r)[..2].to_vec()).collect();
    assert_close(
        "the map of 200 rows",
        &page_map,
        &rust_map.iter().copied().collect::<Vec<_>>(),
        0.0,
    );
    let page_classes: Vec<u32> = page_rows.iter().map(|r| floats(r)[2] as u32).collect();
    assert_eq!(page_classes, rust_classes);
    // The map's vector-Jacobian product for both axes on 40 rows.
    let networks = Networks::from(model);
    for i in (0..N_SHOWN).step_by(5) {
        let x_row = data.features.row(i).insert_axis(Axis(0)).to_owned();
        for v in [[1.0f32, 0.0], [0.0, 1.0]] {
            let rust = Gradient
                .attribute(networks, x_row.view(), &Target::direction(&v))
                .expect("gradient");
            let axis = browser.eval(&format!("__report.axisVjp({i}, {}, {})", v[0], v[1]));
            assert_close(
                &format!("d(v.y)/dx of row {i}"),
                &floats(&axis),
                &rust.row(0).to_vec(),
                0.0,
            );
        }
    }
    assert_eq!(browser.problems(), Vec::<Value>::new(), "the page reported problems");
}

#[test]
fn a_digit_drawn_on_the_pad_lands_where_embed_puts_its_pixels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = shared_report(dir.path());
    let mut browser = Browser::launch(1400, 900);
    browser.open(&page);
    browser.eval("document.getElementById('pad').scrollIntoView()");
    let rect = browser.eval(
        "(() => { const r = document.getElementById('pad').getBoundingClientRect(); \
         return [r.left, r.top, r.width, r.height]; })()",
    );
    let rect = floats(&rect);
    let at = |u: f64, v: f64| (rect[0] + u * rect[2], rect[1] + v * rect[3]);
    // A "7": a bar across the top, then a stroke down to the bottom left.
    let stroke = [(0.25, 0.22), (0.75, 0.22), (0.6, 0.5), (0.45, 0.82)];
    let (x0, y0) = at(stroke[0].0, stroke[0].1);
    browser.mouse("mousePressed", x0, y0, true);
    for pair in stroke.windows(2) {
        for k in 1..=12 {
            let t = f64::from(k) / 12.0;
            let (x, y) = at(
                pair[0].0 + t * (pair[1].0 - pair[0].0),
                pair[0].1 + t * (pair[1].1 - pair[0].1),
            );
            browser.mouse("mouseMoved", x, y, true);
        }
    }
    let (x1, y1) = at(stroke[3].0, stroke[3].1);
    browser.mouse("mouseReleased", x1, y1, true);
    browser.wait_for("__report.pad.y !== null");
    let levels = floats(&browser.eval("__report.pad.pixels()"));
    let lit = levels.iter().filter(|&&v| v > 0.0).count();
    assert!((40..400).contains(&lit), "the stroke lit {lit} pixels");
    assert_eq!(
        browser.eval("__report.shown.set"),
        json!("pad"),
        "the drawing is explained"
    );
    let placed = floats(&browser.eval("__report.pad.y"));
    // The same pixels through the CLI.
    let pixels = Array2::from_shape_fn((1, 784), |(_, j)| levels[j] as f32 / 255.0);
    let drawing = dir.path().join("drawing.npy");
    ssne_data::npy::write_f32(&drawing, &pixels.view()).expect("written");
    let embedded = dir.path().join("drawing-map.npy");
    ok(&run([
        "--quiet",
        "embed",
        "--model",
        &path_arg(shared_model()),
        "--data",
        &path_arg(&drawing),
        "--out",
        &path_arg(&embedded),
    ]));
    let cli = npy(&embedded);
    let model = load_model();
    let map_spread = spread(model.reference.embedding.iter().copied());
    for axis in 0..2 {
        assert!(
            (placed[axis] - f64::from(cli[[0, axis]])).abs() <= 1e-5 * map_spread,
            "the page placed the drawing at {placed:?}, embed at {:?}",
            cli.row(0)
        );
    }
    assert_eq!(browser.problems(), Vec::<Value>::new(), "the page reported problems");
}

#[test]
fn data_without_images_gets_bar_charts_instead_of_image_panels() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 300 rows of 6 features in three labelled blobs, as NPY without an image shape.
    let n = 300;
    let features = Array2::from_shape_fn((n, 6), |(i, j)| {
        let class = i % 3;
        (class * 4) as f32 + ((i * 7 + j * 13) % 11) as f32 * 0.1 + j as f32 * 0.5
    });
    let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
    let x_path = dir.path().join("x.npy");
    ssne_data::npy::write_f32(&x_path, &features.view()).expect("written");
    let labels_path = dir.path().join("y.npy");
    write_labels_npy(&labels_path, &labels);
    let model = dir.path().join("m.ssne");
    let mut args = vec![
        "--quiet".to_owned(),
        "train".to_owned(),
        "--data".to_owned(),
        path_arg(&x_path),
        "--labels".to_owned(),
        path_arg(&labels_path),
        "--model".to_owned(),
        path_arg(&model),
    ];
    args.extend(QUICK_TRAINING.iter().map(|s| (*s).to_owned()));
    ok(&run(&args));
    let page = dir.path().join("report.html");
    ok(&run([
        "--quiet",
        "report",
        "--model",
        &path_arg(&model),
        "--data",
        &path_arg(&x_path),
        "--labels",
        &path_arg(&labels_path),
        "--out",
        &path_arg(&page),
    ]));
    let mut browser = Browser::launch(1200, 800);
    browser.open(&page);
    assert_eq!(browser.eval("__report.drawnPoints"), json!(n));
    assert_eq!(
        browser.eval("getComputedStyle(document.getElementById('pad-panel')).display"),
        json!("none")
    );
    let at = browser.eval("__report.toScreen(5)");
    browser.mouse(
        "mouseMoved",
        at["x"].as_f64().expect("x"),
        at["y"].as_f64().expect("y"),
        false,
    );
    browser.wait_for("__report.shown && __report.shown.set === 'points'");
    assert_eq!(
        browser.eval("document.querySelectorAll('#class-bars .bar').length"),
        json!(6)
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('#dir-bars .bar').length"),
        json!(6)
    );
    assert_eq!(
        browser.eval("getComputedStyle(document.querySelector('.maps')).display"),
        json!("none")
    );
    assert_eq!(browser.problems(), Vec::<Value>::new(), "the page reported problems");
}

/// A 1-D little-endian `i32` NPY file of `labels`.
fn write_labels_npy(path: &Path, labels: &[u32]) {
    let header = format!(
        "{{'descr': '<i4', 'fortran_order': False, 'shape': ({},), }}",
        labels.len()
    );
    let mut header = header.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header);
    for l in labels {
        bytes.extend(l.to_le_bytes());
    }
    std::fs::write(path, bytes).expect("written");
}
