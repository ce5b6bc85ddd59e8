//! `salient-sne embed`: map points to 2-D with a trained model, batch by batch, into CSV or NPY.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use ssne_data::{DataError, Features as _};
use ssne_model::ParametricTsne;
use ssne_model::refine::RefineSummary;

use super::refine_args::{RefineArgs, describe, insert_summary};
use super::{EMBED_BATCH_ROWS, embed_batched, load_finetuned_model, prepare};
use crate::data_args::{DataArgs, Streamed};
use crate::output::{self, TableFormat};
use crate::progress::Ui;

const EXAMPLES: &str = "\
The output format follows the extension: .csv gets a header `x,y` (plus `label`, as the data
writes its labels, when it has them), .npy an n x 2 float32 array (with the labels, one per line,
in a .labels.txt file beside it: test.npy -> test.labels.txt).

Examples:
  salient-sne embed --model m.ssne --rows 8000..10000 --out test.csv
  salient-sne embed --model m.ssne --data data/mnist --split test --out mnist-test.npy
  salient-sne embed --model m.ssne --data new.npy --out new-map.csv
  salient-sne embed --model m.ssne --rows 8000..10000 --refine --out refined.csv --shifts shifts.csv

The data is read, embedded and written 8192 rows at a time, so memory stays bounded whatever the
file's size (NPY and IDX files are streamed, CSV row by row); the output appears, whole, at the end.

With --refine the CSV output also has a `shift` column: how far refinement moved each point from
the network's output, in units of the map's spread (saliency maps explain the network's output).
Refinement places all points together, so --refine loads the whole data set into memory.";

/// `embed` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct EmbedArgs {
    /// The trained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Where to write the coordinates (.csv or .npy)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// With --refine: also write each point's shift (.csv or .npy)
    #[arg(long, value_name = "FILE", requires = "refine")]
    shifts: Option<PathBuf>,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    data: DataArgs,
}

pub(crate) fn run(args: &EmbedArgs, ui: &Ui) -> anyhow::Result<()> {
    // Refuse an unknown extension before any work.
    TableFormat::from_path(&args.out)?;
    if let Some(path) = &args.shifts {
        TableFormat::from_path(path)?;
    }
    let model = load_finetuned_model(&args.model, ui)?;
    let written = if args.refine.refine.is_some() {
        embed_in_memory(args, &model, ui)?
    } else {
        match embed_streamed(&model, &args.data, &args.model, &args.out, EMBED_BATCH_ROWS, false, ui) {
            // A CSV file's labels turned out to be text after integers shown as their values:
            // every label is shown as written, so the output is written again from the start.
            Err(err) if is_labels_reread(&err) => {
                embed_streamed(&model, &args.data, &args.model, &args.out, EMBED_BATCH_ROWS, true, ui)?
            }
            other => other?,
        }
    };
    if ui.json() {
        let mut summary = serde_json::Map::new();
        summary.insert("out".into(), json!(args.out.display().to_string()));
        summary.insert("n_points".into(), json!(written.n_points));
        summary.insert("labels".into(), json!(written.labels));
        if written.labels && TableFormat::from_path(&args.out)? == TableFormat::Npy {
            let beside = output::labels_path_beside(&args.out);
            summary.insert("labels_file".into(), json!(beside.display().to_string()));
        }
        insert_summary(&mut summary, written.refined.as_ref());
        output::print_json(&serde_json::Value::Object(summary));
    } else {
        if let Some(summary) = &written.refined {
            println!("{}", describe(summary));
        }
        println!(
            "wrote {} points of {} to {}",
            written.n_points,
            written.description,
            args.out.display()
        );
    }
    Ok(())
}

/// What an embedding run wrote.
#[derive(Debug)]
struct Written {
    n_points: usize,
    /// E.g. `data.npy, rows 0..100`.
    description: String,
    labels: bool,
    refined: Option<RefineSummary>,
}

/// Loads the whole data set, embeds it (refined when asked) and writes the result: the path
/// `--refine` takes, as refinement works on all points at once.
fn embed_in_memory(args: &EmbedArgs, model: &ParametricTsne, ui: &Ui) -> anyhow::Result<Written> {
    let mut loaded = args.data.load(ui)?;
    prepare(model, &mut loaded, &args.model)?;
    let network_output = embed_batched(model, loaded.data.features.view(), ui)?;
    let placed = args
        .refine
        .place(model, loaded.data.features.view(), network_output, ui)?;
    let embedding = placed.positions;
    output::write_embedding(
        &args.out,
        embedding.view(),
        loaded.data.shown_labels().as_deref(),
        placed.shifts.as_deref(),
    )?;
    if let (Some(path), Some(shifts)) = (&args.shifts, &placed.shifts) {
        output::write_column(path, "shift", shifts)?;
    }
    Ok(Written {
        n_points: embedding.nrows(),
        description: loaded.description,
        labels: loaded.data.labels.is_some(),
        refined: placed.summary,
    })
}

/// Reads the data `chunk_rows` rows at a time, embeds each chunk and appends it to the output,
/// so memory is bounded by the chunk whatever the file's size. The output equals
/// [`embed_in_memory`]'s without refinement bit for bit: `chunk_rows` is a multiple of
/// [`ssne_model::EMBED_BLOCK_ROWS`], so every row is embedded in the same block of rows.
fn embed_streamed(
    model: &ParametricTsne,
    data: &DataArgs,
    model_path: &Path,
    out: &Path,
    chunk_rows: usize,
    text_labels: bool,
    ui: &Ui,
) -> anyhow::Result<Written> {
    anyhow::ensure!(
        chunk_rows > 0 && chunk_rows.is_multiple_of(ssne_model::EMBED_BLOCK_ROWS),
        "chunks of {chunk_rows} rows would change the embedding's last bits; use a multiple of {}",
        ssne_model::EMBED_BLOCK_ROWS
    );
    let mut rows = data.stream(text_labels, ui)?;
    let labels = rows.has_labels();
    let progress = match rows.n_points() {
        Some(n_points) => ui.bar(n_points as u64, "embedding"),
        None => ui.spinner("embedding"),
    };
    let mut writer = output::EmbeddingWriter::create(out, labels, false)?;
    let count_known = rows.n_points().is_some();
    // IDX images and u8 NPY arrays stay u8 codes until each parallel task decodes its block:
    // a quarter of the memory traffic of f32 rows, and the same map bit for bit.
    let as_codes = rows.byte_decoding().is_some();
    let misfit = || format!("{} does not fit the model {}", data.source(), model_path.display());
    // A reading thread reads, checks and scales the next chunk while this one is embedded and
    // written; the channel holds one chunk, so at most three are in memory at once.
    let description = std::thread::scope(|scope| -> anyhow::Result<String> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<anyhow::Result<PreparedChunk>>(1);
        let reader = scope.spawn(move || -> anyhow::Result<Streamed> {
            loop {
                let next = read_chunk(&mut rows, as_codes, chunk_rows, model, misfit);
                let done = !matches!(next, Ok(Some(_)));
                // A closed channel means the embedding side stopped on an error of its own.
                if let Some(message) = next.transpose()
                    && sender.send(message).is_err()
                {
                    break;
                }
                if done {
                    break;
                }
            }
            Ok(rows)
        });
        for message in receiver {
            let chunk = message?;
            let embedding = match &chunk.rows {
                ChunkRows::Codes(set) => model.embed_rows(set.features.feature_rows()),
                ChunkRows::Values(set) => model.embed_rows(set.features.feature_rows()),
            }
            .context("embedding the points")?;
            writer.write(embedding.view(), chunk.labels.as_deref(), None)?;
            progress.inc(embedding.nrows() as u64);
            if !count_known {
                progress.set_message(format!("embedding: {} rows", writer.n_rows()));
            }
        }
        let rows = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the thread reading {} stopped unexpectedly", data.source()))??;
        rows.finish()
    })?;
    progress.finish_and_clear();
    let n_points = writer.n_rows();
    writer.finish()?;
    Ok(Written {
        n_points,
        description,
        labels,
        refined: None,
    })
}

/// A chunk of rows read, checked and scaled as the model's inputs, in the storage it was read in.
struct PreparedChunk {
    rows: ChunkRows,
    labels: Option<Vec<String>>,
}

/// The rows of a [`PreparedChunk`].
enum ChunkRows {
    Codes(ssne_data::Dataset<ssne_data::ByteFeatures>),
    Values(ssne_data::Dataset),
}

/// The next chunk of at most `chunk_rows` rows, as codes when `as_codes`, with the model's own
/// checks and scaling, as for a loaded data set; `None` at the end.
fn read_chunk(
    rows: &mut Streamed,
    as_codes: bool,
    chunk_rows: usize,
    model: &ParametricTsne,
    misfit: impl FnOnce() -> String,
) -> anyhow::Result<Option<PreparedChunk>> {
    let (rows, labels) = if as_codes {
        let Some((features, labels)) = rows.next_codes(chunk_rows)? else {
            return Ok(None);
        };
        let mut set = ssne_data::Dataset::from_codes(features, None)?;
        model.prepare(&mut set).with_context(misfit)?;
        (ChunkRows::Codes(set), labels)
    } else {
        let Some((features, labels)) = rows.next_chunk(chunk_rows)? else {
            return Ok(None);
        };
        let mut set = ssne_data::Dataset::new(features, None)?;
        model.prepare(&mut set).with_context(misfit)?;
        (ChunkRows::Values(set), labels)
    };
    Ok(Some(PreparedChunk { rows, labels }))
}

/// Whether `err` asks for a CSV file to be read again with text labels.
fn is_labels_reread(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| matches!(cause.downcast_ref::<DataError>(), Some(DataError::LabelsReread { .. })))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use clap::Parser;
    use ssne_model::{ParametricTsne, Preset, Scheme, Silent, TrainConfig};

    use super::{EmbedArgs, embed_in_memory, embed_streamed};
    use crate::cli::GlobalArgs;
    use crate::progress::Ui;

    #[derive(Parser)]
    struct TestCli {
        #[command(flatten)]
        args: EmbedArgs,
    }

    fn quiet() -> Ui {
        Ui::new(&GlobalArgs {
            threads: None,
            quiet: true,
            json: false,
        })
    }

    /// A quick model of rows 0..600 of the bundled sample, trained once.
    fn model() -> &'static ParametricTsne {
        static MODEL: OnceLock<ParametricTsne> = OnceLock::new();
        MODEL.get_or_init(|| {
            let data = ssne_data::bundled::mnist_sample()
                .and_then(|d| d.rows(0..600))
                .expect("the bundled sample");
            let mut config = TrainConfig::preset(Preset::Default, 7);
            config.pretrain.epochs = 2;
            config.finetune.scheme = Scheme::Coupled {
                steps: 60,
                edges_per_step: 150,
            };
            ParametricTsne::fit(&data, None, &config, &mut Silent).expect("training the test model")
        })
    }

    /// Rows 600..1600 of the bundled sample (images of other digits than the model's) as an NPY
    /// file, an IDX pair, `u8` NPY files in C and in Fortran order (streamed as codes) and a CSV
    /// file with a label column; the labels are the digits plus 10, so that every reader
    /// renumbers them and must show the values.
    fn inputs(dir: &Path) -> Vec<PathBuf> {
        let data = ssne_data::bundled::mnist_sample()
            .and_then(|d| d.rows(600..1600))
            .expect("the bundled sample");
        let labels: Vec<u32> = data.labels.clone().unwrap_or_default().iter().map(|l| l + 10).collect();
        let npy = dir.join("points.npy");
        ssne_data::npy::write_f32(&npy, &data.features.view()).unwrap();
        let npy_labels = dir.join("points.labels.npy");
        // A 1-D `<i4` array, written by hand: the crate writes only f32 arrays.
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let dict = format!(
            "{{'descr': '<i4', 'fortran_order': False, 'shape': ({},), }}",
            labels.len()
        );
        let padded = format!("{dict:<117}\n");
        bytes.extend(u16::try_from(padded.len()).unwrap().to_le_bytes());
        bytes.extend(padded.as_bytes());
        for &label in &labels {
            bytes.extend(i32::try_from(label).unwrap().to_le_bytes());
        }
        std::fs::write(&npy_labels, bytes).unwrap();

        let idx = dir.join("points-images-idx3-ubyte");
        let mut bytes = ssne_data::idx::IMAGES_MAGIC.to_be_bytes().to_vec();
        for dim in [1000_u32, 28, 28] {
            bytes.extend(dim.to_be_bytes());
        }
        // The bundled values are bytes / 255, so this gives the bytes back.
        bytes.extend(data.features.iter().map(|&v| (v * 255.0).round() as u8));
        std::fs::write(&idx, bytes).unwrap();
        let mut bytes = ssne_data::idx::LABELS_MAGIC.to_be_bytes().to_vec();
        bytes.extend(1000_u32.to_be_bytes());
        bytes.extend(labels.iter().map(|&l| l as u8));
        std::fs::write(dir.join("points-labels-idx1-ubyte"), bytes).unwrap();

        let codes: Vec<u8> = data.features.iter().map(|&v| (v * 255.0).round() as u8).collect();
        let u8_npy = |name: &str, fortran: bool| {
            let order = if fortran { "True" } else { "False" };
            let dict = format!("{{'descr': '|u1', 'fortran_order': {order}, 'shape': (1000, 784), }}");
            let padded = format!("{dict:<117}\n");
            let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
            bytes.extend(u16::try_from(padded.len()).unwrap().to_le_bytes());
            bytes.extend(padded.as_bytes());
            if fortran {
                bytes.extend(
                    (0..784)
                        .flat_map(|col| (0..1000).map(move |row| (row, col)))
                        .map(|(row, col)| codes[row * 784 + col]),
                );
            } else {
                bytes.extend(&codes);
            }
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let u8_c = u8_npy("codes.npy", false);
        let u8_fortran = u8_npy("codes-fortran.npy", true);

        let csv = dir.join("points.csv");
        let mut text = String::new();
        for col in 0..784 {
            text.push_str(&format!("p{col},"));
        }
        text.push_str("label\n");
        for (row, label) in data.features.rows().into_iter().zip(&labels) {
            for value in row {
                text.push_str(&format!("{value},"));
            }
            text.push_str(&format!("{label}\n"));
        }
        std::fs::write(&csv, text).unwrap();
        vec![npy, idx, u8_c, u8_fortran, csv]
    }

    fn args(data: &Path, out: &Path, extra: &[&str]) -> EmbedArgs {
        let mut argv = vec![
            "embed".to_owned(),
            "--model".to_owned(),
            "unused.ssne".to_owned(),
            "--out".to_owned(),
            out.display().to_string(),
            "--data".to_owned(),
            data.display().to_string(),
        ];
        argv.extend(extra.iter().map(|&a| a.to_owned()));
        TestCli::try_parse_from(argv).expect("valid test flags").args
    }

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    #[test]
    fn streamed_output_equals_the_in_memory_output_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let model = model();
        let ui = quiet();
        for input in inputs(dir.path()) {
            // The IDX and u8 NPY inputs take the codes path; the f32 NPY and CSV ones do not.
            let name = input.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let held_as_codes = name.contains("idx") || name.starts_with("codes");
            let probe = args(&input, &dir.path().join("probe.csv"), &[])
                .data
                .stream(false, &ui)
                .unwrap();
            assert_eq!(probe.byte_decoding().is_some(), held_as_codes, "{name}");
            let labels_npy = dir.path().join("points.labels.npy");
            let labels_flag = labels_npy.display().to_string();
            let mut cases: Vec<Vec<&str>> = vec![vec![], vec!["--rows", "37..905"]];
            if input.extension().is_some_and(|e| e == "npy") {
                cases.push(vec!["--labels", &labels_flag]);
            }
            for extra in cases {
                for ext in ["csv", "npy"] {
                    let whole = dir.path().join(format!("whole.{ext}"));
                    let memory = embed_in_memory(&args(&input, &whole, &extra), model, &ui).unwrap();
                    for chunk_rows in [128, 256, 8192] {
                        let streamed_out = dir.path().join(format!("streamed.{ext}"));
                        let streamed_args = args(&input, &streamed_out, &extra);
                        let streamed = embed_streamed(
                            model,
                            &streamed_args.data,
                            Path::new("m.ssne"),
                            &streamed_out,
                            chunk_rows,
                            false,
                            &ui,
                        )
                        .unwrap();
                        let case = format!("{} {extra:?} .{ext} in chunks of {chunk_rows}", input.display());
                        assert_eq!(read(&streamed_out), read(&whole), "{case}");
                        assert_eq!(streamed.n_points, memory.n_points, "{case}");
                        assert_eq!(streamed.description, memory.description, "{case}");
                        assert_eq!(streamed.labels, memory.labels, "{case}");
                        if ext == "npy" && memory.labels {
                            let beside = |p: &Path| crate::output::labels_path_beside(p);
                            assert_eq!(read(&beside(&streamed_out)), read(&beside(&whole)), "{case}");
                        }
                    }
                }
            }
        }
        // The labels are the users' values, and several chunks were used.
        let text = String::from_utf8(read(&dir.path().join("streamed.csv"))).unwrap();
        assert!(text.starts_with("x,y,label\n"));
        assert!(
            text.lines()
                .skip(1)
                .all(|line| line.rsplit(',').next().is_some_and(|l| l.len() == 2))
        );
        assert_eq!(text.lines().count(), 1 + 868);
        // The last case: the CSV input, rows 37..905, as NPY with its labels file.
        let embedding = ssne_data::npy::read_features(&dir.path().join("streamed.npy")).unwrap();
        assert_eq!(embedding.dim(), (868, 2));
        assert!(embedding.iter().all(|v| v.is_finite()));
        let labels = String::from_utf8(read(&dir.path().join("streamed.labels.txt"))).unwrap();
        assert_eq!(labels.lines().count(), 868);
    }

    #[test]
    fn a_csv_file_whose_labels_turn_to_text_is_written_as_loading_shows_them() {
        let dir = tempfile::tempdir().unwrap();
        let data = ssne_data::bundled::mnist_sample()
            .and_then(|d| d.rows(0..300))
            .expect("the bundled sample");
        let csv = dir.path().join("mixed.csv");
        let mut text = String::new();
        for (row_idx, row) in data.features.rows().into_iter().enumerate() {
            for value in row {
                text.push_str(&format!("{value},"));
            }
            // `007` until row 200, then a text label: loading shows every label as written.
            text.push_str(if row_idx < 200 { "007\n" } else { "seven\n" });
        }
        std::fs::write(&csv, text).unwrap();
        let ui = quiet();
        let flags = ["--label-column", "784"];
        let whole = dir.path().join("whole.csv");
        embed_in_memory(&args(&csv, &whole, &flags), model(), &ui).unwrap();
        let out = dir.path().join("streamed.csv");
        let streamed_args = args(&csv, &out, &flags);
        let first = embed_streamed(model(), &streamed_args.data, Path::new("m"), &out, 128, false, &ui);
        assert!(first.as_ref().is_err_and(super::is_labels_reread));
        assert!(!out.exists(), "a failed run leaves nothing");
        embed_streamed(model(), &streamed_args.data, Path::new("m"), &out, 128, true, &ui).unwrap();
        assert_eq!(read(&out), read(&whole));
        assert!(
            String::from_utf8(read(&out))
                .unwrap()
                .lines()
                .nth(1)
                .is_some_and(|l| l.ends_with(",007"))
        );
    }

    #[test]
    fn chunks_off_the_model_blocks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.csv");
        let a = args(Path::new("bundled"), &out, &[]);
        let err = embed_streamed(model(), &a.data, Path::new("m"), &out, 100, false, &quiet()).unwrap_err();
        assert!(err.to_string().contains("multiple of 128"), "{err}");
    }
}
