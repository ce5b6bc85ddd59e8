//! What the user sees while work runs: indicatif bars and notes on stderr, and the training
//! observer that also records the JSON-lines training log.

use std::fmt::Display;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use ssne_model::{EpochSummary, Stage, TrainObserver};

use crate::cli::GlobalArgs;

/// How often bars redraw; enough to look live without costing time in tight loops.
const REFRESH_HZ: u8 = 10;
const BAR_TEMPLATE: &str = "{prefix:>12.bold} [{bar:32.cyan/blue}] {pos:>6}/{len:6} {msg} ({elapsed} < {eta})";
const SPINNER_TEMPLATE: &str = "{spinner:>12.bold} {msg} ({elapsed})";

/// The progress display and the output mode of one run.
pub(crate) struct Ui {
    multi: MultiProgress,
    quiet: bool,
    json: bool,
}

impl Ui {
    /// Bars go to stderr; indicatif hides them itself when stderr is not a terminal.
    pub(crate) fn new(global: &GlobalArgs) -> Self {
        let target = if global.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr_with_hz(REFRESH_HZ)
        };
        Ui {
            multi: MultiProgress::with_draw_target(target),
            quiet: global.quiet,
            json: global.json,
        }
    }

    /// Whether stdout gets JSON instead of the human summary.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// A bar over `len` units, labelled `prefix`.
    pub(crate) fn bar(&self, len: u64, prefix: &str) -> ProgressBar {
        let style = ProgressStyle::with_template(BAR_TEMPLATE)
            // The template is a literal checked by the unit test below, so this fallback never runs.
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        self.multi
            .add(ProgressBar::new(len).with_style(style).with_prefix(prefix.to_owned()))
    }

    /// A spinner for a step of unknown length (loading, writing).
    pub(crate) fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        let style = ProgressStyle::with_template(SPINNER_TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_spinner());
        let spinner = self.multi.add(
            ProgressBar::new_spinner()
                .with_style(style)
                .with_message(message.into()),
        );
        spinner.enable_steady_tick(Duration::from_millis(100));
        spinner
    }

    /// A note on stderr (above the bars), unless `--quiet`.
    pub(crate) fn note(&self, message: impl Display) {
        if self.quiet {
            return;
        }
        if self.multi.is_hidden() {
            // No bars to keep clean (stderr is not a terminal): plain lines, so logs keep them.
            eprintln!("{message}");
        } else {
            self.multi.suspend(|| eprintln!("{message}"));
        }
    }

    /// Runs `work` under a spinner that says what is happening.
    pub(crate) fn step<T>(&self, message: impl Into<String>, work: impl FnOnce() -> T) -> T {
        let spinner = self.spinner(message);
        let out = work();
        spinner.finish_and_clear();
        out
    }
}

/// The training observer: one bar per stage, a note per finished stage, and the log lines.
pub(crate) struct TrainProgress<'a> {
    ui: &'a Ui,
    bar: Option<ProgressBar>,
    last: Option<EpochSummary>,
    log: Vec<serde_json::Value>,
    /// Steps per pass over the kNN graph of the running edge-sampling fine-tuning.
    graph_epoch_steps: Option<f64>,
    /// Steps of the running stage.
    total: usize,
}

impl<'a> TrainProgress<'a> {
    pub(crate) fn new(ui: &'a Ui) -> Self {
        TrainProgress {
            ui,
            bar: None,
            last: None,
            log: Vec::new(),
            graph_epoch_steps: None,
            total: 0,
        }
    }

    /// Writes the training log (one JSON object per line) atomically.
    pub(crate) fn write_log(&self, path: &Path) -> anyhow::Result<()> {
        ssne_data::write_atomic(path, |out| {
            for line in &self.log {
                writeln!(out, "{line}")?;
            }
            Ok(())
        })
        .context("writing the training log")
    }
}

fn stage_label(stage: Stage) -> &'static str {
    match stage {
        Stage::Affinities => "affinities",
        Stage::Pretrain => "pretraining",
        Stage::Finetune => "fine-tuning",
    }
}

/// `NaN` (e.g. an empty validation set) becomes JSON `null`, like a missing value.
fn finite(value: Option<f64>) -> serde_json::Value {
    match value {
        Some(v) if v.is_finite() => json!(v),
        _ => serde_json::Value::Null,
    }
}

/// `steps` in passes over a kNN graph of `steps_per_epoch` steps.
fn graph_epochs(steps: usize, steps_per_epoch: f64) -> f64 {
    if steps_per_epoch > 0.0 {
        steps as f64 / steps_per_epoch
    } else {
        0.0
    }
}

/// A recall of the approximate neighbours below which training warns (pynndescent aims at 0.9 to 0.99).
const LOW_KNN_RECALL: f64 = 0.9;

impl TrainObserver for TrainProgress<'_> {
    fn stage_started(&mut self, stage: Stage, total: usize) {
        if let Some(old) = self.bar.take() {
            old.finish_and_clear();
        }
        self.last = None;
        self.graph_epoch_steps = None;
        self.total = total;
        let bar = self.ui.bar(total as u64, stage_label(stage));
        if stage == Stage::Affinities {
            bar.set_message("input affinities of the training points");
        }
        self.bar = Some(bar);
    }

    fn progress(&mut self, _stage: Stage, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
        }
    }

    fn graph_epoch_steps(&mut self, steps_per_epoch: f64) {
        self.graph_epoch_steps = Some(steps_per_epoch);
        self.ui.note(format!(
            "fine-tuning: {} steps, {:.2} epochs over the kNN graph ({steps_per_epoch:.0} steps an epoch)",
            self.total,
            graph_epochs(self.total, steps_per_epoch)
        ));
    }

    fn epoch_finished(&mut self, summary: &EpochSummary) {
        let mut line = json!({
            "stage": summary.stage.name(),
            "epoch": summary.epoch,
            "loss": finite(Some(summary.loss)),
            "accuracy": finite(summary.accuracy),
            "val_accuracy": finite(summary.val_accuracy),
            "kl": finite(summary.kl),
            "seconds": summary.seconds,
        });
        // The edge-sampling loops report every period of steps; the graph epochs done say how far.
        let graph_epoch = self
            .graph_epoch_steps
            .zip(self.bar.as_ref())
            .map(|(per_epoch, bar)| graph_epochs(bar.position() as usize, per_epoch));
        if let (Some(done), Some(per_epoch), Some(object)) = (graph_epoch, self.graph_epoch_steps, line.as_object_mut())
        {
            object.insert("graph_epochs".into(), json!(done));
            object.insert("steps_per_graph_epoch".into(), json!(per_epoch));
        }
        self.log.push(line);
        if let Some(bar) = &self.bar {
            let mut message = format!("loss {:.4}", summary.loss);
            if let (Some(done), Some(per_epoch)) = (graph_epoch, self.graph_epoch_steps) {
                message = format!("epoch {done:.2}/{:.2}  {message}", graph_epochs(self.total, per_epoch));
            }
            if let Some(acc) = summary.accuracy {
                message.push_str(&format!("  acc {acc:.3}"));
            }
            if let Some(kl) = summary.kl {
                message.push_str(&format!("  KL {kl:.3}"));
            }
            bar.set_message(message);
        }
        self.last = Some(summary.clone());
    }

    fn unconverged_rows(&mut self, n_rows: usize, n_total: usize) {
        self.ui.note(format!(
            "warning: the perplexity search did not converge for {n_rows} of {n_total} points \
             (their affinities are approximate; duplicate points or a very large perplexity cause this)"
        ));
    }

    fn knn_recall(&mut self, recall: f64, sample_rows: usize) {
        self.log
            .push(json!({ "stage": "affinities", "knn_recall": recall, "sample_rows": sample_rows }));
        self.ui.note(format!(
            "approximate neighbours: recall {recall:.4} of the exact ones on {sample_rows} sampled points"
        ));
        if recall < LOW_KNN_RECALL {
            self.ui.note(format!(
                "warning: the approximate neighbours miss {:.0}% of the exact ones (duplicates or \
                 uniform data do this); --knn exact gives the exact P",
                100.0 * (1.0 - recall)
            ));
        }
    }

    fn stage_finished(&mut self, stage: Stage) {
        let elapsed = self.bar.take().map(|bar| {
            bar.finish_and_clear();
            bar.elapsed()
        });
        let seconds = elapsed.map_or(0.0, |e| e.as_secs_f64());
        let mut message = format!("{} done in {seconds:.1} s", stage_label(stage));
        if let Some(last) = &self.last {
            message.push_str(&format!(": loss {:.4}", last.loss));
            if let Some(acc) = last.accuracy {
                message.push_str(&format!(", training accuracy {acc:.3}"));
            }
        }
        self.ui.note(message);
    }

    fn should_stop(&mut self) -> bool {
        crate::interrupt::requested()
    }
}

impl Drop for TrainProgress<'_> {
    /// A stage cut short (an error, Ctrl-C) leaves no half-drawn bar above the message.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use indicatif::ProgressStyle;

    #[test]
    fn the_bar_templates_parse() {
        assert!(ProgressStyle::with_template(super::BAR_TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(super::SPINNER_TEMPLATE).is_ok());
    }

    #[test]
    fn steps_become_graph_epochs() {
        assert_eq!(super::graph_epochs(1200, 600.0), 2.0);
        assert_eq!(super::graph_epochs(0, 600.0), 0.0);
        assert_eq!(super::graph_epochs(5, 0.0), 0.0);
    }

    #[test]
    fn non_finite_figures_become_null() {
        assert_eq!(super::finite(Some(f64::NAN)), serde_json::Value::Null);
        assert_eq!(super::finite(None), serde_json::Value::Null);
        assert_eq!(super::finite(Some(0.5)), serde_json::json!(0.5));
    }
}
