//! `salient-sne eval`: the quality of a model on a data set, as a table or one JSON object.
//!
//! k-NN accuracy places each embedded point among the model's stored training map (the
//! reference); trustworthiness compares the embedding with the inputs of the same points; the KL
//! is the t-SNE objective of the embedding at the model's perplexity; classifier accuracy is the
//! pretrained classifier's. The metrics themselves are `ssne_model::metrics`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};
use ssne_affinity::AffinityError;
use ssne_data::Dataset;
use ssne_data::ndarray::{ArrayView2, s};
use ssne_model::{ModelError, ParametricTsne, metrics};

use super::refine_args::{RefineArgs, describe, insert_summary};
use super::{embed_batched, figure, load_finetuned_model, prepare_labelled};
use crate::data_args::{DataArgs, Loaded};
use crate::output;
use crate::progress::Ui;

/// Neighbours of the trustworthiness measure (the usual choice in the parametric t-SNE literature).
const TRUSTWORTHINESS_K: usize = 12;
/// The k of the two k-NN accuracies.
const KNN_KS: [usize; 2] = [1, 10];
/// Up to this many points trustworthiness is exact; above, it is estimated on this many
/// seeded rows unless `--trust-sample` says otherwise (the exact figure is `O(n^2 d)`).
const TRUST_EXACT_UP_TO: usize = 10_000;
/// The seed of the sampled trustworthiness rows: fixed, so that one model and one data set
/// always give one figure.
const TRUST_SAMPLE_SEED: u64 = 0;

const EXAMPLES: &str = "\
KL uses dense affinities (memory grows with the square of the points), so it is measured on
the first --kl-points rows; its perplexity is the model's, lowered to n - 1 for fewer points.
Trustworthiness is exact up to 10,000 points; above, it is estimated on 10,000 seeded rows,
each ranked among all points (--trust-sample). train_map_knn10_loo is the 10-NN accuracy of
the model's own training map, each point classified by its 10 nearest other training points:
beside knn10_accuracy it tells a map that fits badly from one that generalises badly.

Examples:
  salient-sne eval --model m.ssne --rows 8000..10000
  salient-sne eval --model m.ssne --data data/mnist --split test --json
  salient-sne eval --model m.ssne --rows 8000..10000 --refine --json
  salient-sne eval --model m.ssne --rows 8000..10000 --out metrics.json  # the --json object, to a file";

/// `eval` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct EvalArgs {
    /// The trained model file
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Rows (from the first) on which the KL is measured
    #[arg(long, value_name = "N", default_value_t = 5000)]
    kl_points: usize,
    /// Estimate trustworthiness on M seeded rows (each ranked among all the points) instead of
    /// all of them; 0 = always exact [default: exact up to 10000 points, else 10000 rows]
    #[arg(long, value_name = "M")]
    trust_sample: Option<usize>,
    /// Also write the metrics to FILE: the JSON object that --json prints (replaced atomically)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    refine: RefineArgs,
    #[command(flatten)]
    data: DataArgs,
}

/// The figures of one evaluation; `None` where a figure does not apply (e.g. no labels).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metrics {
    pub(crate) n_points: usize,
    pub(crate) knn: [Option<f64>; 2],
    pub(crate) trustworthiness: Option<f64>,
    /// The rows trustworthiness was estimated on, `None` when it is exact.
    pub(crate) trust_rows: Option<usize>,
    /// Leave-one-out 10-NN accuracy of the model's training map.
    pub(crate) train_map_knn10_loo: Option<f64>,
    pub(crate) kl: Option<f64>,
    pub(crate) kl_perplexity: Option<f64>,
    pub(crate) kl_points: usize,
    pub(crate) classifier_accuracy: Option<f64>,
}

impl Metrics {
    /// The JSON object of `eval --json` (and the core of `demo --json`).
    pub(crate) fn to_json(&self) -> serde_json::Map<String, Value> {
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or(Value::Null, |v| json!(v));
        let mut map = serde_json::Map::new();
        map.insert("knn1_accuracy".into(), finite(self.knn[0]));
        map.insert("knn10_accuracy".into(), finite(self.knn[1]));
        map.insert("trustworthiness".into(), finite(self.trustworthiness));
        map.insert("trustworthiness_rows".into(), json!(self.trust_rows));
        map.insert("train_map_knn10_loo".into(), finite(self.train_map_knn10_loo));
        map.insert("kl".into(), finite(self.kl));
        map.insert("classifier_accuracy".into(), finite(self.classifier_accuracy));
        map.insert("n_points".into(), json!(self.n_points));
        map.insert("kl_perplexity".into(), finite(self.kl_perplexity));
        map.insert("kl_points".into(), json!(self.kl_points));
        map
    }

    /// The human table, one figure a line.
    pub(crate) fn table(&self) -> Vec<(String, String)> {
        let kl_label = match self.kl_perplexity {
            Some(p) => format!("KL (perplexity {p}, {} points)", self.kl_points),
            None => "KL".to_owned(),
        };
        vec![
            ("points".to_owned(), self.n_points.to_string()),
            (format!("k-NN accuracy (k={})", KNN_KS[0]), figure(self.knn[0])),
            (format!("k-NN accuracy (k={})", KNN_KS[1]), figure(self.knn[1])),
            (
                match self.trust_rows {
                    None => format!("trustworthiness (k={TRUSTWORTHINESS_K})"),
                    Some(m) => format!("trustworthiness (k={TRUSTWORTHINESS_K}, {m} sampled rows)"),
                },
                figure(self.trustworthiness),
            ),
            (
                format!("training map k-NN (k={}, leave-one-out)", KNN_KS[1]),
                figure(self.train_map_knn10_loo),
            ),
            (kl_label, figure(self.kl)),
            ("classifier accuracy".to_owned(), figure(self.classifier_accuracy)),
        ]
    }
}

pub(crate) fn run(args: &EvalArgs, ui: &Ui) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        let mut inputs = args.data.input_paths();
        inputs.push(args.model.clone());
        output::check_not_input("the metrics", out, &inputs)?;
    }
    let model = load_finetuned_model(&args.model, ui)?;
    let mut loaded = args.data.load(ui)?;
    prepare_labelled(&model, &mut loaded, &args.model)?;
    let network_output = embed_batched(&model, loaded.data.features.view(), ui)?;
    let placed = args
        .refine
        .place(&model, loaded.data.features.view(), network_output, ui)?;
    let metrics = evaluate_with(
        &model,
        &loaded,
        placed.positions.view(),
        args.kl_points,
        args.trust_sample,
        ui,
    )?;
    let mut map = metrics.to_json();
    insert_summary(&mut map, placed.summary.as_ref());
    let summary = Value::Object(map);
    if let Some(out) = &args.out {
        output::write_json(out, &summary).with_context(|| format!("writing the metrics to {}", out.display()))?;
    }
    if ui.json() {
        output::print_json(&summary);
    } else {
        println!("model of {} on {}", args.model.display(), loaded.description);
        if let Some(summary) = &placed.summary {
            println!("  {}", describe(summary));
        }
        print_table(&metrics.table());
        if let Some(out) = &args.out {
            println!("metrics written to {}", out.display());
        }
    }
    Ok(())
}

/// Prints label/value rows aligned.
pub(crate) fn print_table(rows: &[(String, String)]) {
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in rows {
        println!("  {label:<width$}  {value}");
    }
}

/// Measures `embedding` (the model's map of `data`, already prepared), with trustworthiness
/// sampled by the default rule.
pub(crate) fn evaluate(
    model: &ParametricTsne,
    loaded: &Loaded,
    embedding: ArrayView2<'_, f32>,
    kl_points: usize,
    ui: &Ui,
) -> anyhow::Result<Metrics> {
    evaluate_with(model, loaded, embedding, kl_points, None, ui)
}

/// [`evaluate`] with trustworthiness on `trust_sample` rows (`Some(0)`: exact; `None`: the
/// default rule, exact up to [`TRUST_EXACT_UP_TO`] points).
pub(crate) fn evaluate_with(
    model: &ParametricTsne,
    loaded: &Loaded,
    embedding: ArrayView2<'_, f32>,
    kl_points: usize,
    trust_sample: Option<usize>,
    ui: &Ui,
) -> anyhow::Result<Metrics> {
    let data = &loaded.data;
    let n_points = data.n_points();
    let labels = data.labels.as_deref();
    let reference = &model.reference;
    let mut knn = [None, None];
    if let (Some(labels), Some(reference_labels)) = (labels, reference.labels.as_deref()) {
        for (slot, k) in knn.iter_mut().zip(KNN_KS) {
            if k <= reference.embedding.nrows() {
                *slot = Some(ui.step(format!("{k}-NN accuracy"), || {
                    metrics::knn_accuracy(reference.embedding.view(), reference_labels, embedding, labels, k)
                        .context("k-NN accuracy")
                })?);
            }
        }
    } else if labels.is_none() {
        ui.note("the data has no labels: no k-NN or classifier accuracy");
        if let Some(hint) = &loaded.missing_labels {
            ui.note(hint);
        }
    }
    let train_map_knn10_loo = match reference.labels.as_deref() {
        Some(reference_labels) if KNN_KS[1] < reference.embedding.nrows() => {
            Some(ui.step("training map k-NN (leave-one-out)", || {
                metrics::knn_accuracy_leave_one_out(reference.embedding.view(), reference_labels, KNN_KS[1])
                    .context("leave-one-out k-NN accuracy of the training map")
            })?)
        }
        _ => None,
    };
    let trust_rows = match trust_sample {
        Some(0) => None,
        Some(m) => (m < n_points).then_some(m),
        None => (n_points > TRUST_EXACT_UP_TO).then_some(TRUST_EXACT_UP_TO),
    };
    let trustworthiness = if 2 * TRUSTWORTHINESS_K < n_points {
        Some(ui.step("trustworthiness", || {
            let (x, k) = (data.features.view(), TRUSTWORTHINESS_K);
            match trust_rows {
                None => metrics::trustworthiness(x, embedding, k),
                Some(m) => metrics::trustworthiness_sampled(x, embedding, k, m, TRUST_SAMPLE_SEED),
            }
            .context("trustworthiness")
        })?)
    } else {
        ui.note(format!(
            "trustworthiness needs more than {} points",
            2 * TRUSTWORTHINESS_K
        ));
        None
    };
    let kl_points = kl_points.min(n_points);
    let (kl, kl_perplexity) = ui.step("KL divergence", || {
        kl_at_model_perplexity(model, data, embedding, kl_points)
    })?;
    let classifier_accuracy = match (labels, &model.classifier) {
        (Some(labels), Some(_)) => {
            let predicted = ui.step("classifier accuracy", || model.classify(data.features.view()))?;
            Some(metrics::accuracy(&predicted, labels))
        }
        _ => None,
    };
    Ok(Metrics {
        n_points,
        knn,
        trustworthiness,
        trust_rows,
        train_map_knn10_loo,
        kl,
        kl_perplexity,
        kl_points,
        classifier_accuracy,
    })
}

/// The KL of the first `n` points at the model's perplexity, or at the largest the library
/// accepts for `n` points when that is lower.
fn kl_at_model_perplexity(
    model: &ParametricTsne,
    data: &Dataset,
    embedding: ArrayView2<'_, f32>,
    n: usize,
) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    if n < 2 {
        return Ok((None, None));
    }
    let x = data.features.slice(s![..n, ..]);
    let y = embedding.slice(s![..n, ..]);
    let finetune = &model.config.finetune;
    match metrics::tsne_kl(x, y, finetune.perplexity, finetune.dof) {
        Ok(kl) => Ok((Some(kl), Some(finetune.perplexity))),
        // The library knows the largest perplexity n points allow; use it.
        Err(ModelError::Affinity(AffinityError::PerplexityTooLarge { max, .. })) => {
            let kl = metrics::tsne_kl(x, y, max, finetune.dof).context("KL divergence")?;
            Ok((Some(kl), Some(max)))
        }
        Err(err) => Err(err).context("KL divergence"),
    }
}
