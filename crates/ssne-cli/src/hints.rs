//! What to do about an error: a short fix appended to the error line, chosen from the typed
//! library error found in the chain (the libraries say what went wrong, the CLI knows the flags).

use std::io::ErrorKind;

use ssne_affinity::AffinityError;
use ssne_data::DataError;
use ssne_model::ModelError;
use ssne_saliency::SaliencyError;

/// The error chain on one line, `context: cause: cause`. Library errors that print their source
/// inside their own message (`path: io error`) also return it as `source()`; a cause already
/// shown is not repeated.
pub(crate) fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The fix for the first library error in the chain that has one.
pub(crate) fn fix_for(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<ModelError>() {
            model_fix(e)
        } else if let Some(e) = cause.downcast_ref::<DataError>() {
            data_fix(e)
        } else if let Some(e) = cause.downcast_ref::<AffinityError>() {
            affinity_fix(e)
        } else if let Some(e) = cause.downcast_ref::<SaliencyError>() {
            saliency_fix(e)
        } else {
            None
        }
    })
}

fn model_fix(err: &ModelError) -> Option<&'static str> {
    match err {
        ModelError::Io { source, .. } if source.kind() == ErrorKind::NotFound => {
            Some("check the --model path, or train a model with `salient-sne train --model PATH`")
        }
        ModelError::BadModelFile { .. } => {
            Some("the model file is damaged or not a salient-sne model: train it again with `salient-sne train`")
        }
        ModelError::BadTrainingState { .. } => Some(
            "the training state is damaged, from another release or not a salient-sne training state: \
             run `salient-sne train` again without --resume (--checkpoint keeps a new one)",
        ),
        ModelError::FeatureCount { .. } => {
            Some("give data with the same features (image size, columns) as the data the model was trained on")
        }
        ModelError::NoLabels { .. } => Some("give labelled data (--labels FILE, or --label-column for CSV)"),
        ModelError::TooFewPoints { .. } => Some("select more rows (--rows) or use a larger data set"),
        ModelError::PerplexityTooLargeForRows { .. } => {
            Some("lower --perplexity, or train on more rows (--rows); the batch schemes need it of each --batch-size")
        }
        ModelError::Data(inner) => data_fix(inner),
        ModelError::Affinity(inner) => affinity_fix(inner),
        _ => None,
    }
}

fn data_fix(err: &DataError) -> Option<&'static str> {
    match err {
        DataError::Io { source, .. } if source.kind() == ErrorKind::NotFound => {
            Some("check the path; --data also accepts `bundled` for the MNIST sample in the binary")
        }
        DataError::BadMagic { .. }
        | DataError::Truncated { .. }
        | DataError::TrailingData { .. }
        | DataError::TooLarge { .. }
        | DataError::Decompress { .. }
        | DataError::BadDimensions { .. } => Some(
            "the file is damaged or not in the format it seems to be: fetch it again (`cargo xtask fetch-mnist`) or set --format",
        ),
        DataError::UnknownFormat { .. } => Some("name the format with --format idx, npy or csv"),
        DataError::TooLargeForMemory { .. } => Some(
            "this command loads the whole file first: give it a smaller file (a sample of the rows), or map this one with `salient-sne embed --model MODEL`, which streams it in bounded memory",
        ),
        DataError::LabelCount { .. } => Some("give the labels file that belongs to these points with --labels"),
        DataError::MissingFile { .. } => {
            Some("fetch the MNIST files with `cargo xtask fetch-mnist`, or give one file with --data")
        }
        DataError::RowRange { .. } => Some("choose --rows inside the data"),
        DataError::NonFinite { .. } => Some("remove or fill in the missing values before training"),
        DataError::Ragged { .. } | DataError::NotNumeric { .. } => {
            Some("fix the CSV; a text label column is named with --label-column")
        }
        DataError::ColumnNotFound { .. } => Some("check --label-column against the file's header"),
        _ => None,
    }
}

fn affinity_fix(err: &AffinityError) -> Option<&'static str> {
    match err {
        AffinityError::PerplexityTooLarge { .. } | AffinityError::PerplexityNotBelowK { .. } => {
            Some("lower --perplexity or use more points")
        }
        _ => None,
    }
}

fn saliency_fix(err: &SaliencyError) -> Option<&'static str> {
    match err {
        SaliencyError::UnknownGroup { .. } => Some("name the clusters by a label or a class name the data has"),
        SaliencyError::EmptyGroup { .. } => Some("select rows (--rows) that include that class"),
        SaliencyError::Model(inner) => model_fix(inner),
        SaliencyError::Data(inner) => data_fix(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn a_fix_is_found_under_context_and_inside_model_errors() {
        let missing = DataError::Io {
            path: "x.idx".into(),
            source: std::io::Error::from(ErrorKind::NotFound),
        };
        let err = Err::<(), _>(ModelError::Data(missing)).context("loading").err();
        assert!(
            err.as_ref()
                .and_then(fix_for)
                .is_some_and(|fix| fix.contains("check the path"))
        );
        let err = anyhow::anyhow!("nothing typed");
        assert_eq!(fix_for(&err), None);
    }

    #[test]
    fn a_cause_printed_inside_its_parent_is_not_repeated() {
        let missing = DataError::Io {
            path: "x.idx".into(),
            source: std::io::Error::other("gone"),
        };
        let err = Err::<(), _>(missing)
            .context("loading")
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("?"));
        assert_eq!(one_line(&err), "loading: x.idx: gone");
    }
}
