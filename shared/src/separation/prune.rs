//! Adversarial pruning: remove as few training images as possible so that the rest is
//! r-separated, i.e. every two images with different labels are at distance ≥ 2r.
//!
//! The images closer than 2r to another class form a conflict graph (an edge per
//! cross-class pair closer than 2r); the images to remove are a vertex cover of it.
//! - Two classes: the graph is bipartite, and by König's theorem a minimum vertex cover has
//!   the size of a maximum matching. Hopcroft–Karp finds the matching; the cover is read off
//!   the alternating paths from the unmatched images of the first class. Exact.
//! - More classes: minimum vertex cover is NP-hard in general. The greedy approximation
//!   repeatedly removes the image with the most remaining conflicts (ties: smaller index),
//!   then puts back every removed image whose conflicts are all removed already. Always a
//!   valid cover (the result is r-separated), at most about ln(max degree) + 1 times the
//!   minimum.

use super::{Control, Index, Metric, SearchOptions, SeparationError, check_classes};
use crate::data::Dataset;
use std::collections::{BinaryHeap, VecDeque};

/// How the removal set was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PruneMethod {
    /// Maximum bipartite matching (two classes): a minimum removal set.
    Matching,
    /// Greedy by conflict count (three or more classes): approximate.
    Greedy,
}

/// What pruning removed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PruneReport {
    pub metric: Metric,
    /// The separation r asked for (cross-class pairs must be ≥ 2r apart).
    pub radius: f64,
    pub method: PruneMethod,
    /// True when the removal set is known to be minimum.
    pub optimal: bool,
    /// Cross-class pairs closer than 2r before pruning.
    pub conflicts: usize,
    /// Removed training indices, ascending.
    pub removed: Vec<usize>,
    pub kept: usize,
    /// Images removed from each class.
    pub removed_per_class: Vec<usize>,
}

/// Removes a smallest set of training images (exact for two classes, greedy otherwise) so
/// that the rest is `radius`-separated in `options.metric`.
pub fn prune(
    train: &Dataset,
    radius: f64,
    options: &SearchOptions,
    control: &Control<'_>,
) -> Result<PruneReport, SeparationError> {
    if !radius.is_finite() || radius < 0.0 {
        return Err(SeparationError::Invalid(format!(
            "radius {radius} is not a non-negative number"
        )));
    }
    check_classes(train)?;
    let n = train.len();
    let adjacency = match options.metric.raw_below(2.0 * radius) {
        None => vec![Vec::new(); n],
        Some(max_raw) => {
            let index = Index::for_search(train, options)?;
            index.within_radius(max_raw, options, control)?
        }
    };
    let conflicts = adjacency.iter().map(Vec::len).sum::<usize>() / 2;
    let labels = train.labels();
    let (method, removed) = if train.num_classes() == 2 {
        (PruneMethod::Matching, konig_cover(labels, &adjacency))
    } else {
        (PruneMethod::Greedy, greedy_cover(&adjacency))
    };
    let mut removed_per_class = vec![0; train.num_classes()];
    for &i in &removed {
        removed_per_class[usize::from(labels[i])] += 1;
    }
    Ok(PruneReport {
        metric: options.metric,
        radius,
        method,
        optimal: method == PruneMethod::Matching || conflicts == 0,
        conflicts,
        kept: n - removed.len(),
        removed,
        removed_per_class,
    })
}

/// Minimum vertex cover of the bipartite conflict graph (class 0 on the left).
fn konig_cover(labels: &[u16], adjacency: &[Vec<u32>]) -> Vec<usize> {
    let left: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i] == 0 && !adjacency[i].is_empty())
        .collect();
    const NONE: usize = usize::MAX;
    let n = labels.len();
    let mut mate = vec![NONE; n];
    // Hopcroft–Karp: BFS layers from free left vertices, then vertex-disjoint shortest
    // augmenting paths by DFS, until no augmenting path remains.
    let mut dist = vec![u32::MAX; n];
    loop {
        let mut queue = VecDeque::new();
        for &u in &left {
            if mate[u] == NONE {
                dist[u] = 0;
                queue.push_back(u);
            } else {
                dist[u] = u32::MAX;
            }
        }
        let mut found = false;
        while let Some(u) = queue.pop_front() {
            for &v in &adjacency[u] {
                let w = mate[v as usize];
                if w == NONE {
                    found = true;
                } else if dist[w] == u32::MAX {
                    dist[w] = dist[u] + 1;
                    queue.push_back(w);
                }
            }
        }
        if !found {
            break;
        }
        let mut next = vec![0usize; n];
        for &u in &left {
            if mate[u] == NONE {
                augment(u, adjacency, &mut mate, &mut dist, &mut next);
            }
        }
    }
    // König: Z = vertices reachable from free left vertices by alternating paths; the cover
    // is (left ∖ Z) ∪ (right ∩ Z).
    let mut in_z = vec![false; n];
    let mut queue: VecDeque<usize> = left.iter().copied().filter(|&u| mate[u] == NONE).collect();
    for &u in &queue {
        in_z[u] = true;
    }
    while let Some(u) = queue.pop_front() {
        for &v in &adjacency[u] {
            let v = v as usize;
            if !in_z[v] && mate[u] != v {
                in_z[v] = true;
                let w = mate[v];
                if w != NONE && !in_z[w] {
                    in_z[w] = true;
                    queue.push_back(w);
                }
            }
        }
    }
    let mut cover: Vec<usize> = (0..n)
        .filter(|&i| !adjacency[i].is_empty() && (if labels[i] == 0 { !in_z[i] } else { in_z[i] }))
        .collect();
    cover.sort_unstable();
    cover
}

/// Iterative DFS for one augmenting path from the free left vertex `root` along the BFS
/// layers; flips the path if found.
fn augment(
    root: usize,
    adjacency: &[Vec<u32>],
    mate: &mut [usize],
    dist: &mut [u32],
    next: &mut [usize],
) -> bool {
    const NONE: usize = usize::MAX;
    let mut stack = vec![root];
    // path[k] = right vertex used to leave stack[k].
    let mut path: Vec<usize> = Vec::new();
    while let Some(&u) = stack.last() {
        if next[u] < adjacency[u].len() {
            let v = adjacency[u][next[u]] as usize;
            next[u] += 1;
            let w = mate[v];
            if w == NONE {
                path.push(v);
                // Flip along the path.
                for (k, &left) in stack.iter().enumerate() {
                    let right = path[k];
                    mate[left] = right;
                    mate[right] = left;
                }
                return true;
            }
            if dist[w] == dist[u] + 1 {
                path.push(v);
                stack.push(w);
            }
        } else {
            dist[u] = u32::MAX;
            stack.pop();
            path.pop();
        }
    }
    false
}

/// Greedy vertex cover by remaining degree, then redundant vertices put back.
fn greedy_cover(adjacency: &[Vec<u32>]) -> Vec<usize> {
    let n = adjacency.len();
    let mut degree: Vec<usize> = adjacency.iter().map(Vec::len).collect();
    let mut removed = vec![false; n];
    let mut heap: BinaryHeap<(usize, core::cmp::Reverse<usize>)> = (0..n)
        .filter(|&i| degree[i] > 0)
        .map(|i| (degree[i], core::cmp::Reverse(i)))
        .collect();
    while let Some((d, core::cmp::Reverse(i))) = heap.pop() {
        if removed[i] || d != degree[i] || d == 0 {
            continue;
        }
        removed[i] = true;
        for &j in &adjacency[i] {
            let j = j as usize;
            if !removed[j] {
                degree[j] -= 1;
                if degree[j] > 0 {
                    heap.push((degree[j], core::cmp::Reverse(j)));
                }
            }
        }
    }
    // Put back, in decreasing index order, every removed vertex all of whose neighbours are
    // removed: the cover stays a cover.
    for i in (0..n).rev() {
        if removed[i] && adjacency[i].iter().all(|&j| removed[j as usize]) {
            removed[i] = false;
        }
    }
    (0..n).filter(|&i| removed[i]).collect()
}

/// The minimum cross-class distance (pixel units) of `train` without the images `removed`,
/// found by the separation search itself, and whether it is at least 2·`radius`.
pub fn verify_separated(
    train: &Dataset,
    removed: &[usize],
    radius: f64,
    options: &SearchOptions,
) -> Result<(Option<f64>, bool), SeparationError> {
    let mut drop = vec![false; train.len()];
    for &i in removed {
        if i >= train.len() {
            return Err(SeparationError::Invalid(format!(
                "removed index {i} is out of range"
            )));
        }
        drop[i] = true;
    }
    let keep: Vec<usize> = (0..train.len()).filter(|&i| !drop[i]).collect();
    let kept = train
        .select(&keep)
        .map_err(|e| SeparationError::Invalid(e.to_string()))?;
    if kept.is_empty() {
        return Ok((None, true));
    }
    let index = Index::for_search(&kept, options)?;
    let nearest = index.nearest_within(false, options, &Control::default())?;
    let min = nearest
        .iter()
        .filter_map(|n| n.other)
        .map(|o| o.raw)
        .min()
        .map(|raw| options.metric.to_unit(raw));
    Ok((min, min.is_none_or(|m| m >= 2.0 * radius)))
}
