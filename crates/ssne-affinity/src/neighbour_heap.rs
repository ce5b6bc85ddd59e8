//! The NN-descent graph: for every point a bounded max-heap of its `k` best
//! neighbours so far, in flat arrays (row `i` is `i * k .. (i + 1) * k`), with a
//! flag per slot saying whether the neighbour is new since it was last joined.

use ssne_tensor::Real;

/// Index of an empty slot; it ranks after every real neighbour.
pub(crate) const EMPTY: u32 = u32::MAX;

/// `k` neighbour slots per point; the root of each row's heap is its worst neighbour.
pub(crate) struct NeighbourHeaps<R> {
    k: usize,
    pub(crate) dist: Vec<R>,
    pub(crate) idx: Vec<u32>,
    pub(crate) fresh: Vec<bool>,
    /// Each row's worst distance (its heap root), apart from the slots: the joins
    /// read it for every pair, and a compact array stays in cache.
    worst: Vec<R>,
}

/// Whether `(d, i)` ranks before `(e, j)`: nearer first, equal distances by smaller index.
#[inline(always)]
fn before<R: Real>(d: R, i: u32, e: R, j: u32) -> bool {
    d < e || (d == e && i < j)
}

impl<R: Real> NeighbourHeaps<R> {
    /// `n_points` rows of `k` empty slots.
    pub(crate) fn new(n_points: usize, k: usize) -> Self {
        Self {
            k,
            dist: vec![R::infinity(); n_points * k],
            idx: vec![EMPTY; n_points * k],
            fresh: vec![false; n_points * k],
            worst: vec![R::infinity(); n_points],
        }
    }

    /// Rows (points).
    pub(crate) fn n_points(&self) -> usize {
        self.worst.len()
    }

    /// Slots per row.
    pub(crate) fn k(&self) -> usize {
        self.k
    }

    /// The distance of row `i`'s worst neighbour (infinite while a slot is empty):
    /// a candidate must be nearer to enter.
    #[inline(always)]
    pub(crate) fn threshold(&self, i: usize) -> R {
        self.worst[i]
    }

    /// Whether `j` is among row `i`'s neighbours.
    #[inline(always)]
    pub(crate) fn contains(&self, i: usize, j: u32) -> bool {
        row_contains(&self.idx[i * self.k..(i + 1) * self.k], j)
    }

    /// Offers `j` at squared distance `d` to row `i`; returns whether it entered.
    ///
    /// The row ends as the `k` best distinct candidates ever offered (in
    /// `(distance, index)` order), whatever the order of the offers, and a
    /// neighbour that entered is flagged new.
    pub(crate) fn push(&mut self, i: usize, d: R, j: u32) -> bool {
        HeapBlock {
            k: self.k,
            first: 0,
            dist: &mut self.dist,
            idx: &mut self.idx,
            fresh: &mut self.fresh,
            worst: &mut self.worst,
        }
        .push(i, d, j)
    }

    /// The rows cut into consecutive blocks of `rows_per_block` rows (the last one
    /// shorter), each of which can take offers independently of the others.
    pub(crate) fn blocks_mut(&mut self, rows_per_block: usize) -> Vec<HeapBlock<'_, R>> {
        let k = self.k;
        let slots = rows_per_block * k;
        self.dist
            .chunks_mut(slots)
            .zip(self.idx.chunks_mut(slots))
            .zip(self.fresh.chunks_mut(slots))
            .zip(self.worst.chunks_mut(rows_per_block))
            .enumerate()
            .map(|(b, (((dist, idx), fresh), worst))| HeapBlock {
                k,
                first: b * rows_per_block,
                dist,
                idx,
                fresh,
                worst,
            })
            .collect()
    }

    /// Row `i`'s slots as `(distance, index)`, nearest first (empty slots last).
    pub(crate) fn sorted_row(&self, i: usize, out: &mut Vec<(R, u32)>) {
        let base = i * self.k;
        out.clear();
        out.extend((base..base + self.k).map(|s| (self.dist[s], self.idx[s])));
        out.sort_unstable_by(|a, b| {
            if before(a.0, a.1, b.0, b.1) {
                std::cmp::Ordering::Less
            } else if before(b.0, b.1, a.0, a.1) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
    }
}

/// Rows `first .. first + worst.len()` of a [`NeighbourHeaps`], borrowed mutably.
pub(crate) struct HeapBlock<'a, R> {
    k: usize,
    first: usize,
    dist: &'a mut [R],
    idx: &'a mut [u32],
    fresh: &'a mut [bool],
    worst: &'a mut [R],
}

impl<R: Real> HeapBlock<'_, R> {
    /// Whether row `i` (a global row index) lies in this block.
    #[inline(always)]
    pub(crate) fn owns(&self, i: usize) -> bool {
        i.wrapping_sub(self.first) < self.worst.len()
    }

    /// Offers `j` at squared distance `d` to row `i` (which must lie in the block);
    /// returns whether it entered.
    ///
    /// The row ends as the `k` best distinct candidates ever offered (in
    /// `(distance, index)` order), whatever the order of the offers, and a
    /// neighbour that entered is flagged new.
    pub(crate) fn push(&mut self, i: usize, d: R, j: u32) -> bool {
        let k = self.k;
        let row = i - self.first;
        let base = row * k;
        if !before(d, j, self.dist[base], self.idx[base]) {
            return false;
        }
        if row_contains(&self.idx[base..base + k], j) {
            return false;
        }
        // Replace the root and sift it down.
        let mut at = 0;
        loop {
            let left = 2 * at + 1;
            if left >= k {
                break;
            }
            let right = left + 1;
            let mut child = left;
            if right < k
                && before(
                    self.dist[base + left],
                    self.idx[base + left],
                    self.dist[base + right],
                    self.idx[base + right],
                )
            {
                child = right;
            }
            if !before(d, j, self.dist[base + child], self.idx[base + child]) {
                break;
            }
            self.dist[base + at] = self.dist[base + child];
            self.idx[base + at] = self.idx[base + child];
            self.fresh[base + at] = self.fresh[base + child];
            at = child;
        }
        self.dist[base + at] = d;
        self.idx[base + at] = j;
        self.fresh[base + at] = true;
        self.worst[row] = self.dist[base];
        true
    }
}

/// Whether `j` is among the indices of `row`.
#[inline(always)]
fn row_contains(row: &[u32], j: u32) -> bool {
    // Branch-free over groups of 16, so the scan vectorises: it runs for most
    // candidate pairs, and `[u32]::contains` stops to test every element.
    let (groups, rest) = row.as_chunks::<16>();
    groups
        .iter()
        .any(|g| g.iter().fold(false, |found, &x| found | (x == j)))
        || rest.contains(&j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_distinct_whatever_the_order() {
        let offers = [(5.0_f32, 1), (1.0, 2), (3.0, 3), (1.0, 2), (0.5, 4), (3.0, 0), (9.0, 5)];
        // Every rotation of the offers leaves the same row, all of it new.
        for r in 0..offers.len() {
            let mut heaps = NeighbourHeaps::<f32>::new(1, 3);
            for &(d, j) in offers.iter().cycle().skip(r).take(offers.len()) {
                heaps.push(0, d, j);
            }
            let mut row = Vec::new();
            heaps.sorted_row(0, &mut row);
            assert_eq!(row, vec![(0.5, 4), (1.0, 2), (3.0, 0)], "rotation {r}");
            assert!(heaps.fresh.iter().all(|&f| f));
            assert_eq!(heaps.threshold(0), 3.0);
        }
        let mut heaps = NeighbourHeaps::<f32>::new(1, 2);
        assert!(heaps.push(0, 1.0, 7));
        assert!(!heaps.push(0, 1.0, 7), "a duplicate never enters");
        assert!(heaps.contains(0, 7) && !heaps.contains(0, 6));
        assert_eq!(heaps.threshold(0), f32::INFINITY, "one slot is still empty");
    }
}
