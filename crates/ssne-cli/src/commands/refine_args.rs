//! The `--refine` flags shared by `embed` and `eval`: refined placement of new points
//! against the model's frozen training map (`ssne_model::refine`).

use clap::Args;
use serde_json::{Value, json};
use ssne_data::ndarray::{Array2, ArrayView2};
use ssne_model::ParametricTsne;
use ssne_model::refine::{RefineConfig, RefineSummary};

use crate::progress::Ui;

/// Steps when `--refine` is given without a number (chosen on a validation split; see docs/QUALITY.md).
pub(crate) const DEFAULT_REFINE_STEPS: &str = "50";

/// `--refine [STEPS]` and its perplexity.
#[derive(Debug, Args)]
pub(crate) struct RefineArgs {
    /// Gradient steps of refined placement, when asked for (the help text is in `help`:
    /// clap shows no default for a value that may be left out, so the help says it).
    #[arg(
        long,
        value_name = "STEPS",
        num_args = 0..=1,
        default_missing_value = DEFAULT_REFINE_STEPS,
        help = format!(
            "Refine each point's position against the training map after the network places it \
             (slower, closer to non-parametric t-SNE); STEPS gradient steps per point \
             [default STEPS: {DEFAULT_REFINE_STEPS}]"
        )
    )]
    pub(crate) refine: Option<usize>,
    /// Perplexity of each new point's affinities to its training neighbours [default: 50]
    #[arg(long, value_name = "P", requires = "refine")]
    pub(crate) refine_perplexity: Option<f64>,
}

/// Positions after optional refinement, with the per-point shifts and the summary when refined.
pub(crate) struct Placed {
    pub(crate) positions: Array2<f32>,
    pub(crate) shifts: Option<Vec<f32>>,
    pub(crate) summary: Option<RefineSummary>,
}

impl RefineArgs {
    /// `--refine` with its default steps, for commands that always refine (the demo).
    pub(crate) fn with_default_steps() -> Self {
        RefineArgs {
            refine: Some(RefineConfig::default().steps),
            refine_perplexity: None,
        }
    }

    /// Refines `network_output` (the model's map of `x`) when `--refine` was given.
    pub(crate) fn place(
        &self,
        model: &ParametricTsne,
        x: ArrayView2<'_, f32>,
        network_output: Array2<f32>,
        ui: &Ui,
    ) -> anyhow::Result<Placed> {
        let Some(steps) = self.refine else {
            return Ok(Placed {
                positions: network_output,
                shifts: None,
                summary: None,
            });
        };
        let mut config = model.refine_config(steps);
        if let Some(perplexity) = self.refine_perplexity {
            config.perplexity = perplexity;
        }
        let refined = ui.step(format!("refining {} points ({steps} steps)", x.nrows()), || {
            model
                .refine_from(x, network_output.view(), &config)
                .map_err(anyhow::Error::from)
        })?;
        Ok(Placed {
            positions: refined.positions,
            shifts: Some(refined.shifts),
            summary: Some(refined.summary),
        })
    }
}

/// The `refine_*` keys of the JSON summaries (only present when refining).
pub(crate) fn insert_summary(map: &mut serde_json::Map<String, Value>, summary: Option<&RefineSummary>) {
    if let Some(s) = summary {
        map.insert("refine_steps".into(), json!(s.steps));
        map.insert("refine_mean_shift".into(), json!(s.mean_shift));
        map.insert(
            "refine_label_change".into(),
            s.label_change.map_or(Value::Null, |v| json!(v)),
        );
    }
}

/// The human lines describing a refinement.
pub(crate) fn describe(summary: &RefineSummary) -> String {
    let change = summary
        .label_change
        .map_or("n/a (no labels)".to_owned(), |v| format!("{:.1}%", 100.0 * v));
    format!(
        "refined {} steps: mean shift {:.3} of the map's spread, 10-NN label changed for {change}",
        summary.steps, summary.mean_shift
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_defaults_are_the_library_defaults() {
        // clap needs the default steps as text; it must not drift from the library's.
        assert_eq!(
            DEFAULT_REFINE_STEPS.parse::<usize>().ok(),
            Some(RefineConfig::default().steps)
        );
        assert_eq!(
            RefineArgs::with_default_steps().refine,
            Some(RefineConfig::default().steps)
        );
    }
}
