//! Cluster centres in the map and the pairs of clusters that are neighbours there.

use ssne_tensor::ndarray::ArrayView2;

use crate::{ModelError, Result};

/// The centre (mean position) of one labelled cluster in the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterCentre {
    /// The cluster's label.
    pub label: u32,
    /// Mean 2-D position of its points.
    pub centre: [f32; 2],
    /// Number of points.
    pub size: usize,
}

/// Mean map position of every label present, in label order (sums in `f64`).
///
/// # Errors
/// [`ModelError::CountMismatch`] when labels and rows differ in number or the map is not 2-D.
pub fn map_centres(embedding: ArrayView2<'_, f32>, labels: &[u32]) -> Result<Vec<ClusterCentre>> {
    if embedding.ncols() != 2 {
        return Err(ModelError::CountMismatch {
            what: "cluster centres (columns of the map)",
            expected: 2,
            found: embedding.ncols(),
        });
    }
    if labels.len() != embedding.nrows() {
        return Err(ModelError::CountMismatch {
            what: "cluster centres (one label per map point)",
            expected: embedding.nrows(),
            found: labels.len(),
        });
    }
    let n_labels = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut sums = vec![[0.0_f64; 2]; n_labels];
    let mut counts = vec![0usize; n_labels];
    for (row, &l) in embedding.rows().into_iter().zip(labels) {
        sums[l as usize][0] += f64::from(row[0]);
        sums[l as usize][1] += f64::from(row[1]);
        counts[l as usize] += 1;
    }
    Ok((0..n_labels)
        .filter(|&l| counts[l] > 0)
        .map(|l| ClusterCentre {
            label: l as u32,
            centre: [
                (sums[l][0] / counts[l] as f64) as f32,
                (sums[l][1] / counts[l] as f64) as f32,
            ],
            size: counts[l],
        })
        .collect())
}

/// For every cluster, its `per_cluster` nearest other clusters by centre
/// distance, as unordered pairs `(a, b)` with `a < b`, each listed once, sorted.
pub fn adjacent_pairs(centres: &[ClusterCentre], per_cluster: usize) -> Vec<(u32, u32)> {
    let mut pairs = Vec::new();
    for a in centres {
        let mut others: Vec<(f64, u32)> = centres
            .iter()
            .filter(|b| b.label != a.label)
            .map(|b| {
                let dx = f64::from(a.centre[0]) - f64::from(b.centre[0]);
                let dy = f64::from(a.centre[1]) - f64::from(b.centre[1]);
                (dx * dx + dy * dy, b.label)
            })
            .collect();
        others.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        for &(_, b) in others.iter().take(per_cluster) {
            pairs.push((a.label.min(b), a.label.max(b)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn centres_and_pairs_by_hand() {
        let emb = array![[0.0_f32, 0.0], [2.0, 0.0], [10.0, 0.0], [12.0, 0.0], [30.0, 0.0]];
        let centres = map_centres(emb.view(), &[0, 0, 1, 1, 2]).ok().unwrap_or_default();
        assert_eq!(
            centres.iter().map(|c| c.centre).collect::<Vec<_>>(),
            vec![[1.0, 0.0], [11.0, 0.0], [30.0, 0.0]]
        );
        assert_eq!(centres.iter().map(|c| c.size).collect::<Vec<_>>(), vec![2, 2, 1]);
        // 0's nearest is 1; 1's nearest is 0; 2's nearest is 1.
        assert_eq!(adjacent_pairs(&centres, 1), vec![(0, 1), (1, 2)]);
        assert!(map_centres(emb.view(), &[0, 1]).is_err());
    }
}
