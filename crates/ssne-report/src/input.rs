//! What a report is made of: the model, the rows to show, and the figures to print.

use ssne_data::Dataset;
use ssne_data::ndarray::ArrayView2;
use ssne_model::ParametricTsne;

/// Everything one report shows. Build it with [`ReportInput::new`] and the `with_` methods.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    /// The fine-tuned model; its network, classifier and scaling are written into the page.
    pub model: &'a ParametricTsne,
    /// The page's title.
    pub title: String,
    /// The rows drawn over the training map, as loaded (not yet scaled: the page shows them as
    /// given and applies the model's scaling itself), labels numbered as the model's classes
    /// (`ParametricTsne::align_labels`).
    pub points: &'a Dataset,
    /// The rows the model was trained on, as loaded, one per point of its reference map: the
    /// images of a point's nearest training neighbours come from them, and the cluster-pair maps
    /// are taken at their class centres. Without them the pairs use the labelled `points`.
    pub training: Option<&'a Dataset>,
    /// The points' positions refined against the training map (`[n, 2]`), when refined: the page
    /// can show each point's shift from the network's position.
    pub refined: Option<ArrayView2<'a, f32>>,
    /// The metrics table.
    pub metrics: Option<MetricsTable>,
    /// Path points of the integrated gradients of the cluster-pair maps (32, as the demo's).
    pub pair_steps: usize,
}

impl<'a> ReportInput<'a> {
    /// A report of `points` over the map of `model`, without training images, refined positions
    /// or metrics.
    pub fn new(model: &'a ParametricTsne, points: &'a Dataset, title: impl Into<String>) -> Self {
        ReportInput {
            model,
            title: title.into(),
            points,
            training: None,
            refined: None,
            metrics: None,
            pair_steps: 32,
        }
    }

    /// Adds the training rows (as loaded).
    pub fn with_training(mut self, training: &'a Dataset) -> Self {
        self.training = Some(training);
        self
    }

    /// Adds the refined positions of the points.
    pub fn with_refined(mut self, refined: ArrayView2<'a, f32>) -> Self {
        self.refined = Some(refined);
        self
    }

    /// Adds the metrics table.
    pub fn with_metrics(mut self, metrics: MetricsTable) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

/// A table of figures: one column per placement (e.g. "network", "refined"), one row per metric.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsTable {
    /// Column headings after the metric's name.
    pub columns: Vec<String>,
    /// Each metric's name and its value in each column (as text, "-" where it does not apply).
    pub rows: Vec<(String, Vec<String>)>,
}
