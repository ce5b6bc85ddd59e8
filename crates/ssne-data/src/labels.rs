//! Class labels as the model sees them: the numbers `0..k`, with the user's own values kept as
//! names.
//!
//! A label's value sizes things downstream (the classifier has one output per class, counts are
//! indexed by label), so a file whose labels are `{3, 7, 1_000_000_000}` must not ask for a
//! billion classes. Every data set therefore carries compact labels: when the distinct values
//! are not already `0..k`, they are renumbered in increasing order and their values (or the names
//! the source gave them) become [`Dataset::label_names`](crate::Dataset::label_names), so every
//! output can still show the user's labels.

/// Renumbers `labels` to `0..k` in increasing order of value when their distinct values are not
/// already exactly `0..k`, and returns the names to show for each new number: `names[value]`
/// where the source named its labels, else the value itself. Labels already compact come back
/// unchanged, with `names` as given.
///
/// Memory and time depend on the number of labels only, never on their values.
///
/// ```
/// # use ssne_data::compact_labels;
/// let (labels, names) = compact_labels(vec![7, 3, 1_000_000_000, 3], None);
/// assert_eq!(labels, vec![1, 0, 2, 0]);
/// assert_eq!(names, Some(vec!["3".to_owned(), "7".to_owned(), "1000000000".to_owned()]));
///
/// let (labels, names) = compact_labels(vec![1, 0, 2], None);
/// assert_eq!((labels, names), (vec![1, 0, 2], None));
/// ```
pub fn compact_labels(labels: Vec<u32>, names: Option<Vec<String>>) -> (Vec<u32>, Option<Vec<String>>) {
    let mut distinct = labels.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let already_compact = distinct.iter().enumerate().all(|(rank, &value)| rank == value as usize);
    if already_compact {
        return (labels, names);
    }
    let compact = labels
        .iter()
        .map(|value| {
            // `distinct` holds every label, so the search always finds it; a rank past u32::MAX
            // would need more than 2^32 distinct labels, which 32-bit labels cannot have.
            let rank = distinct.binary_search(value).unwrap_or_default();
            u32::try_from(rank).unwrap_or(u32::MAX)
        })
        .collect();
    let shown = distinct
        .iter()
        .map(|&value| {
            names
                .as_ref()
                .and_then(|names| names.get(value as usize))
                .cloned()
                .unwrap_or_else(|| value.to_string())
        })
        .collect();
    (compact, Some(shown))
}

#[cfg(test)]
mod tests {
    use super::compact_labels;

    #[test]
    fn compact_labels_keep_their_names() {
        let names = Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]);
        // Class 1 is absent: the labels are renumbered, and the names follow them.
        let (labels, shown) = compact_labels(vec![0, 2, 2], names.clone());
        assert_eq!(labels, vec![0, 1, 1]);
        assert_eq!(shown, Some(vec!["a".to_owned(), "c".to_owned()]));
        let (labels, shown) = compact_labels(vec![0, 1, 1], names.clone());
        assert_eq!((labels, shown), (vec![0, 1, 1], names));
    }

    #[test]
    fn a_huge_label_value_costs_nothing() {
        let (labels, shown) = compact_labels(vec![u32::MAX, 0, u32::MAX], None);
        assert_eq!(labels, vec![1, 0, 1]);
        assert_eq!(shown, Some(vec!["0".to_owned(), u32::MAX.to_string()]));
    }

    #[test]
    fn values_without_a_name_show_as_numbers() {
        let (labels, shown) = compact_labels(vec![5, 1], Some(vec!["zero".to_owned(), "one".to_owned()]));
        assert_eq!(labels, vec![1, 0]);
        assert_eq!(shown, Some(vec!["one".to_owned(), "5".to_owned()]));
    }

    #[test]
    fn no_labels_are_compact() {
        assert_eq!(compact_labels(Vec::new(), None), (Vec::new(), None));
    }
}
