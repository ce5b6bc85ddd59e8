//! Random-projection trees (as pynndescent seeds NN-descent): each tree splits the
//! points recursively by the hyperplane halfway between two random points of the
//! node until at most `leaf_size` remain; points sharing a leaf are likely neighbours.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ssne_tensor::Real;

use crate::distance::{Rows, dot};

/// The `ChaCha8Rng` stream of tree `t` is `TREE_STREAM + t` (an arbitrary tag, "RPT").
const TREE_STREAM: u64 = 0x5250_5400_0000_0000;

/// The leaves of one tree: a permutation of the points, cut into consecutive leaves.
pub(crate) struct Tree {
    /// Every point once, leaf after leaf.
    pub(crate) order: Vec<u32>,
    /// Leaf `l` is `order[bounds[l]..bounds[l + 1]]`.
    pub(crate) bounds: Vec<usize>,
}

impl Tree {
    /// The points of each leaf, in order.
    pub(crate) fn leaves(&self) -> impl Iterator<Item = &[u32]> {
        self.bounds.windows(2).map(|w| &self.order[w[0]..w[1]])
    }
}

/// `n_trees` trees over all rows, each drawn from its own stream of the `seed`'s
/// `ChaCha8Rng`, so the forest is the same on any thread count.
pub(crate) fn forest<R: Real>(
    rows: &Rows<'_, R>,
    n_points: usize,
    n_trees: usize,
    leaf_size: usize,
    seed: u64,
) -> Vec<Tree> {
    (0..n_trees)
        .into_par_iter()
        .map(|t| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(TREE_STREAM + t as u64);
            tree(rows, n_points, leaf_size.max(1), &mut rng)
        })
        .collect()
}

fn tree<R: Real>(rows: &Rows<'_, R>, n_points: usize, leaf_size: usize, rng: &mut ChaCha8Rng) -> Tree {
    let mut order: Vec<u32> = (0..n_points as u32).collect();
    let mut bounds = vec![0];
    // Depth first, left before right, so the leaves come out in `order`'s order.
    let mut stack = vec![(0, n_points)];
    let mut normal = vec![R::zero(); rows.row(0).len()];
    let (mut sides, mut scratch) = (Vec::new(), Vec::new());
    while let Some((start, end)) = stack.pop() {
        if end - start <= leaf_size {
            bounds.push(end);
            continue;
        }
        let mid = start + split(rows, &mut order[start..end], &mut normal, &mut sides, &mut scratch, rng);
        stack.push((mid, end));
        stack.push((start, mid));
    }
    Tree { order, bounds }
}

/// Reorders `node` so that the points on one side of a random hyperplane come
/// first, and returns how many there are (strictly between 0 and `node.len()`).
///
/// The hyperplane is normal to `a - b` through `(a + b) / 2` for two random points
/// `a != b` of the node; a point exactly on it goes to a random side. When every
/// point lands on one side (duplicates), the node is halved as it stands, so
/// every split makes progress and the tree has at most `n` nodes.
fn split<R: Real>(
    rows: &Rows<'_, R>,
    node: &mut [u32],
    normal: &mut [R],
    sides: &mut Vec<bool>,
    scratch: &mut Vec<u32>,
    rng: &mut ChaCha8Rng,
) -> usize {
    let len = node.len();
    let first = rng.random_range(0..len);
    let second = (first + rng.random_range(1..len)) % len;
    let (a, b) = (rows.row(node[first] as usize), rows.row(node[second] as usize));
    let half = R::from_f64(0.5);
    let mut offset = R::zero();
    for ((w, &p), &q) in normal.iter_mut().zip(a).zip(b) {
        *w = p - q;
        offset += *w * (p + q) * half;
    }
    sides.clear();
    sides.extend(node.iter().map(|&i| {
        let margin = dot(normal, rows.row(i as usize)) - offset;
        if margin == R::zero() {
            rng.random::<bool>()
        } else {
            margin > R::zero()
        }
    }));
    let n_left = sides.iter().filter(|&&s| s).count();
    if n_left == 0 || n_left == len {
        return len / 2;
    }
    // A stable partition: the order within each side stays the node's.
    scratch.clear();
    for keep_left in [true, false] {
        scratch.extend(
            node.iter()
                .zip(sides.iter())
                .filter(|(_, s)| **s == keep_left)
                .map(|(&i, _)| i),
        );
    }
    node.copy_from_slice(scratch);
    n_left
}
