//! The search index over a training set and the exact branch-and-bound search.
//!
//! Building: the pixel dimensions are reordered by decreasing variance (so the pixels most
//! likely to reveal a large difference come first) and padded to whole 64-byte chunks with
//! zeros (which changes no distance). The first chunks of all images are stored chunk by
//! chunk (contiguous per chunk, small enough to stay in cache), the rest image by image.
//! Each class is split by k-means on the leading pixels into groups of about 96 similar
//! images, and each group into leaves of about 12; every group and leaf keeps its bounding
//! box (per-pixel minimum and maximum), and, for ℓ2, the box of its 4×4 block sums.
//!
//! Searching one query, exactly:
//! 1. A lower bound on the distance to every group from its box's first chunks (and for ℓ2
//!    its block-sum box): no image inside a box can be closer than the box itself.
//! 2. Groups are visited nearest bound first, so a close candidate, and with it a small
//!    "best so far", is found early. The visit stops at the first group whose bound exceeds
//!    the best so far (every later group is at least as far).
//! 3. A group that survives its bound is checked against the rest of its box; then each
//!    leaf against the first chunks of its box; then the leaf's images: their first chunks
//!    (contiguous), the other leading chunks of those that pass, and the full rows of the
//!    few left, fetched ahead, abandoning an image at the first chunk that exceeds the best
//!    so far (ℓ∞ is a running maximum, ℓ2 a running sum).
//!
//! Ties are broken by the smaller training index, so the result is a function of the data
//! alone, whatever the kernel, the order of the visit or the number of threads.

use super::dist::{
    BLOCK_PIXELS, Dist, L2, Linf, block_bound_raw, block_box_bound, block_sum_bound,
};
use super::simd::{CHUNK, Portable, Simd};
use super::{Control, Isa, Metric, Nearest, Neighbor, SearchOptions, SeparationError};
use crate::data::{Dataset, ImageShape};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Leading chunks stored chunk by chunk (see [`Index`]).
const HEAD_CHUNKS: usize = 3;
/// Leading chunks used for the group bounds that order the visit.
const BOUND_CHUNKS: usize = 2;
/// Leading bytes used to cluster a class into groups.
const CLUSTER_BYTES: usize = 256;
/// Leading chunks of a leaf's box checked before its images (the images' own first chunks
/// follow at once, so more would cost more than it saves).
const LEAF_BOUND_CHUNKS: usize = 2;
/// Queries per parallel task.
const BLOCK: usize = 64;
/// k-means rounds when grouping a class.
const KMEANS_ROUNDS: usize = 3;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Chunk(pub(crate) [u8; CHUNK]);

const ZERO_CHUNK: Chunk = Chunk([0; CHUNK]);

/// A group of images of one class (positions `start..end`), split into the leaves
/// `leaf_start..leaf_end`.
#[derive(Clone, Copy, Debug)]
struct Group {
    start: u32,
    end: u32,
    leaf_start: u32,
    leaf_end: u32,
    label: u16,
}

/// A leaf: a few similar images, positions `start..end`.
#[derive(Clone, Copy, Debug)]
struct Leaf {
    start: u32,
    end: u32,
}

/// A training set prepared for exact nearest-neighbour search (ℓ∞ or ℓ2) on its bytes.
///
/// Holds one reordered copy of the images (padded to 64-byte chunks), plus a few bytes per
/// image and per group: no matrix over pairs of images is ever formed.
pub struct Index {
    shape: ImageShape,
    dims: usize,
    chunks: usize,
    /// Stored position `k` holds pixel `perm[k]`.
    perm: Vec<u32>,
    /// Leading chunks kept chunk by chunk: chunk `c < heads` of position `p` is
    /// `head[c * n + p]`, so a leaf's chunks are contiguous and these arrays stay in cache.
    heads: usize,
    head: Vec<Chunk>,
    /// Remaining `chunks − heads` chunks of every image, position by position.
    rest: Vec<Chunk>,
    pos_to_index: Vec<u32>,
    index_to_pos: Vec<u32>,
    labels: Vec<u16>,
    num_classes: usize,
    groups: Vec<Group>,
    box_lo: Vec<Chunk>,
    box_hi: Vec<Chunk>,
    leaves: Vec<Leaf>,
    leaf_lo: Vec<Chunk>,
    leaf_hi: Vec<Chunk>,
    /// ℓ2 bound: pixel blocks of `BLOCK_PIXELS` pixels (indices into an image)…
    blocks: Vec<u32>,
    /// …and the block sums over them, made by the first ℓ2 search: an ℓ∞ search, the
    /// paper's, never holds them.
    block_sums: OnceLock<BlockSums>,
}

/// The block sums of every image (`width` per position, zero padded), with their
/// per-group and per-leaf minimum and maximum.
struct BlockSums {
    width: usize,
    rows: Vec<u16>,
    group_lo: Vec<u16>,
    group_hi: Vec<u16>,
    leaf_lo: Vec<u16>,
    leaf_hi: Vec<u16>,
}

impl BlockSums {
    fn row(&self, p: usize) -> &[u16] {
        &self.rows[p * self.width..(p + 1) * self.width]
    }

    fn group(&self, g: usize) -> (&[u16], &[u16]) {
        let w = self.width;
        (
            &self.group_lo[g * w..(g + 1) * w],
            &self.group_hi[g * w..(g + 1) * w],
        )
    }

    fn leaf(&self, l: usize) -> (&[u16], &[u16]) {
        let w = self.width;
        (
            &self.leaf_lo[l * w..(l + 1) * w],
            &self.leaf_hi[l * w..(l + 1) * w],
        )
    }

    fn heap_bytes(&self) -> usize {
        (self.rows.len()
            + self.group_lo.len()
            + self.group_hi.len()
            + self.leaf_lo.len()
            + self.leaf_hi.len())
            * 2
    }
}

/// Sums per image for `blocks`: whole blocks, rounded up to a multiple of 16 lanes.
fn block_sum_width(blocks: &[u32]) -> usize {
    (blocks.len() / BLOCK_PIXELS as usize).div_ceil(16) * 16
}

/// How to group the training set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexOptions {
    /// Target images per group: every query computes a bound for every group.
    pub group_size: usize,
    /// Target images per leaf inside a group: smaller leaves have tighter boxes.
    pub leaf_size: usize,
    /// Worker threads for building; `None` uses rayon's global pool.
    pub threads: Option<usize>,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            group_size: 96,
            leaf_size: 12,
            threads: None,
        }
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn sad(a: &[u8], b: &[u8]) -> u32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| u32::from(x.abs_diff(y)))
        .sum()
}

/// Splits the images `members` (rows of `prefix`, `width` bytes each) into groups of about
/// `size` similar images: k-means in ℓ1 from deterministic seeds, then oversized clusters
/// are cut into pieces.
fn cluster(members: &[u32], prefix: &[u8], width: usize, size: usize, seed: u64) -> Vec<Vec<u32>> {
    let n = members.len();
    let k = n.div_ceil(size).max(1);
    if k == 1 {
        return vec![members.to_vec()];
    }
    let row = |i: u32| &prefix[i as usize * width..(i as usize + 1) * width];
    // Seeds: k distinct members chosen by a partial Fisher–Yates shuffle.
    let mut pick: Vec<u32> = members.to_vec();
    let mut state = seed;
    for i in 0..k {
        let j = i + (splitmix(&mut state) % (n - i) as u64) as usize;
        pick.swap(i, j);
    }
    let mut centers: Vec<u8> = Vec::with_capacity(k * width);
    for &m in &pick[..k] {
        centers.extend_from_slice(row(m));
    }
    let mut assign = vec![0u32; n];
    for round in 0..KMEANS_ROUNDS {
        let nearest = |m: u32| -> u32 {
            let r = row(m);
            let mut best = (u32::MAX, 0u32);
            for (c, center) in centers.chunks_exact(width).enumerate() {
                let d = sad(r, center);
                if d < best.0 {
                    best = (d, c as u32);
                }
            }
            best.1
        };
        #[cfg(feature = "std")]
        {
            use rayon::prelude::*;
            assign
                .par_iter_mut()
                .zip(members.par_iter())
                .for_each(|(a, &m)| *a = nearest(m));
        }
        #[cfg(not(feature = "std"))]
        for (a, &m) in assign.iter_mut().zip(members) {
            *a = nearest(m);
        }
        if round + 1 == KMEANS_ROUNDS {
            break;
        }
        let mut sums = vec![0u32; k * width];
        let mut counts = vec![0u32; k];
        for (&a, &m) in assign.iter().zip(members) {
            counts[a as usize] += 1;
            let s = &mut sums[a as usize * width..(a as usize + 1) * width];
            for (s, &x) in s.iter_mut().zip(row(m)) {
                *s += u32::from(x);
            }
        }
        for c in 0..k {
            if counts[c] > 0 {
                let (cnt, s) = (counts[c], &sums[c * width..(c + 1) * width]);
                for (dst, &v) in centers[c * width..(c + 1) * width].iter_mut().zip(s) {
                    *dst = ((v + cnt / 2) / cnt) as u8;
                }
            }
        }
    }
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); k];
    for (&a, &m) in assign.iter().zip(members) {
        groups[a as usize].push(m);
    }
    let mut out = Vec::with_capacity(k);
    for g in groups.into_iter().filter(|g| !g.is_empty()) {
        if g.len() > 2 * size {
            out.extend(g.chunks(size).map(<[u32]>::to_vec));
        } else {
            out.push(g);
        }
    }
    out
}

impl core::fmt::Debug for Index {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Index")
            .field("shape", &self.shape)
            .field("images", &self.len())
            .field("classes", &self.num_classes)
            .field("groups", &self.groups.len())
            .field("leaves", &self.leaves.len())
            .finish_non_exhaustive()
    }
}

/// Blocks of `BLOCK_PIXELS` pixels for the ℓ2 bound: 4×4 squares in each channel (the
/// border rows and columns that do not fill a square are left out, which keeps the bound
/// valid), or, for images under 4×4, runs of 16 consecutive values.
fn pixel_blocks(shape: ImageShape) -> Vec<u32> {
    let k = BLOCK_PIXELS as usize;
    let (h, w) = (shape.height, shape.width);
    let mut out = Vec::new();
    if h >= 4 && w >= 4 {
        for c in 0..shape.channels {
            for by in 0..h / 4 {
                for bx in 0..w / 4 {
                    for y in 0..4 {
                        for x in 0..4 {
                            out.push(((c * h + by * 4 + y) * w + bx * 4 + x) as u32);
                        }
                    }
                }
            }
        }
    } else {
        out.extend(0..(shape.len() / k * k) as u32);
    }
    out
}

/// Block sums of one image into `out` (the rest of `out` is zeroed).
fn block_sums(image: &[u8], blocks: &[u32], out: &mut [u16]) {
    out.fill(0);
    for (dst, block) in out
        .iter_mut()
        .zip(blocks.chunks_exact(BLOCK_PIXELS as usize))
    {
        *dst = block.iter().map(|&i| u16::from(image[i as usize])).sum();
    }
}

/// Per-chunk minimum and maximum over each range of positions.
fn boxes<'a>(
    ranges: impl Iterator<Item = (u32, u32)>,
    chunks: usize,
    row_chunk: impl Fn(usize, usize) -> &'a Chunk,
) -> (Vec<Chunk>, Vec<Chunk>) {
    let mut lo_all = Vec::new();
    let mut hi_all = Vec::new();
    for (start, end) in ranges {
        for c in 0..chunks {
            let mut lo = Chunk([u8::MAX; CHUNK]);
            let mut hi = ZERO_CHUNK;
            for p in start as usize..end as usize {
                let src = row_chunk(p, c);
                for ((l, h), &x) in lo.0.iter_mut().zip(hi.0.iter_mut()).zip(&src.0) {
                    *l = (*l).min(x);
                    *h = (*h).max(x);
                }
            }
            lo_all.push(lo);
            hi_all.push(hi);
        }
    }
    (lo_all, hi_all)
}

impl Index {
    /// The index with the default grouping, built on the search's threads.
    pub fn for_search(train: &Dataset, options: &SearchOptions) -> Result<Self, SeparationError> {
        Self::build(
            train,
            IndexOptions {
                threads: options.threads,
                ..IndexOptions::default()
            },
        )
    }

    /// Prepares `train` for search. Fails on an empty set.
    pub fn build(train: &Dataset, options: IndexOptions) -> Result<Self, SeparationError> {
        super::with_threads(options.threads, || Self::build_here(train, options))?
    }

    fn build_here(train: &Dataset, options: IndexOptions) -> Result<Self, SeparationError> {
        if train.is_empty() {
            return Err(SeparationError::EmptySet { what: "training" });
        }
        let shape = train.shape();
        let dims = shape.len();
        let n = train.len();
        if n > u32::MAX as usize - 1 {
            return Err(SeparationError::Invalid(format!(
                "{n} images are more than the index supports"
            )));
        }
        let chunks = dims.div_ceil(CHUNK);
        let padded = chunks * CHUNK;

        // Pixel order: decreasing variance over the training set, ties by pixel index.
        let mut sum = vec![0u64; dims];
        let mut sum_sq = vec![0u64; dims];
        for img in train.images().chunks_exact(dims) {
            for ((s, q), &x) in sum.iter_mut().zip(sum_sq.iter_mut()).zip(img) {
                *s += u64::from(x);
                *q += u64::from(x) * u64::from(x);
            }
        }
        // n² · variance = n · Σx² − (Σx)², exact in integers.
        let spread: Vec<u128> = sum
            .iter()
            .zip(&sum_sq)
            .map(|(&s, &q)| u128::from(q) * n as u128 - u128::from(s) * u128::from(s))
            .collect();
        let mut perm: Vec<u32> = (0..dims as u32).collect();
        perm.sort_by(|&a, &b| spread[b as usize].cmp(&spread[a as usize]).then(a.cmp(&b)));

        // Leading permuted bytes of every image, for clustering.
        let width = CLUSTER_BYTES.min(dims);
        let mut prefix = vec![0u8; n * width];
        for (i, row) in prefix.chunks_exact_mut(width).enumerate() {
            let img = train.image(i);
            for (dst, &p) in row.iter_mut().zip(&perm) {
                *dst = img[p as usize];
            }
        }

        let num_classes = train.num_classes();
        let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); num_classes];
        for (i, &l) in train.labels().iter().enumerate() {
            by_class[usize::from(l)].push(i as u32);
        }
        let size = options.group_size.max(1);
        let leaf_size = options.leaf_size.clamp(1, size);
        let mut members_in_order: Vec<u32> = Vec::with_capacity(n);
        let mut groups = Vec::new();
        let mut leaves = Vec::new();
        for (class, members) in by_class.iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            let seed = 0x5EED_0000_u64 + class as u64;
            for (k, g) in cluster(members, &prefix, width, size, seed)
                .into_iter()
                .enumerate()
            {
                let start = members_in_order.len() as u32;
                let leaf_start = leaves.len() as u32;
                for leaf in cluster(&g, &prefix, width, leaf_size, seed ^ ((k as u64 + 1) << 20)) {
                    let leaf_begin = members_in_order.len() as u32;
                    members_in_order.extend_from_slice(&leaf);
                    leaves.push(Leaf {
                        start: leaf_begin,
                        end: members_in_order.len() as u32,
                    });
                }
                groups.push(Group {
                    start,
                    end: members_in_order.len() as u32,
                    leaf_start,
                    leaf_end: leaves.len() as u32,
                    label: class as u16,
                });
            }
        }
        drop(prefix);

        let mut index_to_pos = vec![0u32; n];
        for (p, &i) in members_in_order.iter().enumerate() {
            index_to_pos[i as usize] = p as u32;
        }

        let heads = HEAD_CHUNKS.min(chunks);
        let tail = chunks - heads;
        let mut head = vec![ZERO_CHUNK; n * heads];
        let mut rest = vec![ZERO_CHUNK; n * tail];
        let mut row = vec![0u8; padded];
        for (p, &i) in members_in_order.iter().enumerate() {
            let img = train.image(i as usize);
            for (dst, &k) in row.iter_mut().zip(&perm) {
                *dst = img[k as usize];
            }
            for c in 0..chunks {
                let dst = if c < heads {
                    &mut head[c * n + p]
                } else {
                    &mut rest[p * tail + c - heads]
                };
                dst.0.copy_from_slice(&row[c * CHUNK..(c + 1) * CHUNK]);
            }
        }

        let row_chunk = |p: usize, c: usize| {
            if c < heads {
                &head[c * n + p]
            } else {
                &rest[p * tail + c - heads]
            }
        };
        let (box_lo, box_hi) = boxes(groups.iter().map(|g| (g.start, g.end)), chunks, row_chunk);
        let (leaf_lo, leaf_hi) = boxes(
            leaves.iter().map(|l| (l.start, l.end)),
            LEAF_BOUND_CHUNKS.min(chunks),
            row_chunk,
        );

        let labels = members_in_order
            .iter()
            .map(|&i| train.labels()[i as usize])
            .collect();
        Ok(Self {
            shape,
            dims,
            chunks,
            perm,
            heads,
            head,
            rest,
            pos_to_index: members_in_order,
            index_to_pos,
            labels,
            num_classes,
            groups,
            box_lo,
            box_hi,
            leaves,
            leaf_lo,
            leaf_hi,
            blocks: pixel_blocks(shape),
            block_sums: OnceLock::new(),
        })
    }

    /// The ℓ2 block sums, computed from the stored rows on first use.
    fn block_sums(&self) -> &BlockSums {
        self.block_sums.get_or_init(|| {
            let n = self.len();
            let width = block_sum_width(&self.blocks);
            let mut rows = vec![0u16; n * width];
            let mut image = vec![0u8; self.dims];
            for p in 0..n {
                self.unpermuted_row(p, &mut image);
                block_sums(&image, &self.blocks, &mut rows[p * width..(p + 1) * width]);
            }
            let sum_box = |ranges: &mut dyn Iterator<Item = (u32, u32)>| {
                let (mut lo, mut hi) = (Vec::new(), Vec::new());
                for (start, end) in ranges {
                    let (mut l, mut h) = (vec![u16::MAX; width], vec![0u16; width]);
                    for p in start as usize..end as usize {
                        let row = &rows[p * width..(p + 1) * width];
                        for ((l, h), &v) in l.iter_mut().zip(h.iter_mut()).zip(row) {
                            *l = (*l).min(v);
                            *h = (*h).max(v);
                        }
                    }
                    lo.extend(l);
                    hi.extend(h);
                }
                (lo, hi)
            };
            let (group_lo, group_hi) = sum_box(&mut self.groups.iter().map(|g| (g.start, g.end)));
            let (leaf_lo, leaf_hi) = sum_box(&mut self.leaves.iter().map(|l| (l.start, l.end)));
            BlockSums {
                width,
                rows,
                group_lo,
                group_hi,
                leaf_lo,
                leaf_hi,
            }
        })
    }

    /// The image stored at position `p`, in the dataset's pixel order.
    fn unpermuted_row(&self, p: usize, image: &mut [u8]) {
        let n = self.len();
        let tail = self.chunks - self.heads;
        for (k, &pixel) in self.perm.iter().enumerate() {
            let c = k / CHUNK;
            let chunk = if c < self.heads {
                &self.head[c * n + p]
            } else {
                &self.rest[p * tail + c - self.heads]
            };
            image[pixel as usize] = chunk.0[k % CHUNK];
        }
    }

    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// Training images in the index.
    pub fn len(&self) -> usize {
        self.pos_to_index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pos_to_index.is_empty()
    }

    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of groups with a bounding box.
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// Number of leaves (small groups inside the groups) with a bounding box.
    pub fn num_leaves(&self) -> usize {
        self.leaves.len()
    }

    /// Bytes held by the index (the reordered copy of the images dominates).
    pub fn heap_bytes(&self) -> usize {
        (self.head.len()
            + self.rest.len()
            + self.box_lo.len()
            + self.box_hi.len()
            + self.leaf_lo.len()
            + self.leaf_hi.len())
            * CHUNK
            + (self.perm.len() + self.pos_to_index.len() + self.index_to_pos.len()) * 4
            + self.labels.len() * 2
            + self.groups.len() * core::mem::size_of::<Group>()
            + self.leaves.len() * core::mem::size_of::<Leaf>()
            + self.block_sums.get().map_or(0, BlockSums::heap_bytes)
            + self.blocks.len() * 4
    }

    /// Label of training image `index` (in the dataset's own order).
    pub fn label(&self, index: usize) -> u16 {
        self.labels[self.index_to_pos[index] as usize]
    }

    fn check_queries(&self, images: &[u8], labels: &[u16]) -> Result<(), SeparationError> {
        if images.len() != labels.len() * self.dims {
            return Err(SeparationError::Invalid(format!(
                "{} query bytes do not make {} images of {} bytes",
                images.len(),
                labels.len(),
                self.dims
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| usize::from(l) >= self.num_classes) {
            return Err(SeparationError::Invalid(format!(
                "query label {bad} is out of range for {} classes",
                self.num_classes
            )));
        }
        Ok(())
    }

    /// Checks that a query set is compatible with the index.
    pub fn check_dataset(&self, queries: &Dataset) -> Result<(), SeparationError> {
        if queries.shape() != self.shape {
            return Err(SeparationError::ShapeMismatch {
                train: self.shape,
                test: queries.shape(),
            });
        }
        if queries.num_classes() != self.num_classes {
            return Err(SeparationError::Invalid(format!(
                "the queries have {} classes but the training set has {}",
                queries.num_classes(),
                self.num_classes
            )));
        }
        Ok(())
    }

    /// For each training image, its nearest training image of another class (and, when
    /// `same_class`, its nearest other training image of its own class), in dataset order.
    /// An image never matches itself; exact duplicates at other indices do count.
    pub fn nearest_within(
        &self,
        same_class: bool,
        options: &SearchOptions,
        control: &Control<'_>,
    ) -> Result<Vec<Nearest>, SeparationError> {
        let f = nearest_fn(options.kernel.resolve()?, options.metric);
        let n = self.len();
        let by_pos = run_blocks(
            self,
            n,
            options,
            control,
            |scratch: &mut Scratch<'_>, start, out: &mut [Nearest]| {
                for (k, slot) in out.iter_mut().enumerate() {
                    let p = start + k;
                    scratch.load_row(self, p);
                    let q = scratch.query.as_ptr().cast::<u8>();
                    // SAFETY: the kernel was resolved for this CPU and `q` holds a padded row.
                    *slot = unsafe {
                        f(
                            self,
                            q,
                            self.labels[p],
                            p as u32,
                            same_class,
                            &mut scratch.bufs,
                        )
                    };
                }
            },
        )?;
        let mut out = vec![Nearest::default(); n];
        for (p, r) in by_pos.into_iter().enumerate() {
            out[self.pos_to_index[p] as usize] = r;
        }
        Ok(out)
    }

    /// For each query image (`images` holds them one after another, with their `labels`),
    /// its nearest training image of another class and, when `same_class`, its nearest
    /// training image of the same class.
    pub fn nearest(
        &self,
        images: &[u8],
        labels: &[u16],
        same_class: bool,
        options: &SearchOptions,
        control: &Control<'_>,
    ) -> Result<Vec<Nearest>, SeparationError> {
        self.check_queries(images, labels)?;
        let f = nearest_fn(options.kernel.resolve()?, options.metric);
        run_blocks(
            self,
            labels.len(),
            options,
            control,
            |scratch: &mut Scratch<'_>, start, out: &mut [Nearest]| {
                for (k, slot) in out.iter_mut().enumerate() {
                    let i = start + k;
                    scratch.load_query(self, &images[i * self.dims..(i + 1) * self.dims]);
                    let q = scratch.query.as_ptr().cast::<u8>();
                    // SAFETY: as above.
                    *slot =
                        unsafe { f(self, q, labels[i], u32::MAX, same_class, &mut scratch.bufs) };
                }
            },
        )
    }

    /// For each training image, every training image of another class at raw distance at
    /// most `max_raw` (ℓ∞: the largest byte difference; ℓ2: the sum of squared byte
    /// differences), as sorted dataset indices.
    pub fn within_radius(
        &self,
        max_raw: u32,
        options: &SearchOptions,
        control: &Control<'_>,
    ) -> Result<Vec<Vec<u32>>, SeparationError> {
        let f = within_fn(options.kernel.resolve()?, options.metric);
        let n = self.len();
        let by_pos = run_blocks(
            self,
            n,
            options,
            control,
            |scratch: &mut Scratch<'_>, start, out: &mut [Vec<u32>]| {
                for (k, slot) in out.iter_mut().enumerate() {
                    let p = start + k;
                    scratch.load_row(self, p);
                    let q = scratch.query.as_ptr().cast::<u8>();
                    // SAFETY: as above.
                    unsafe { f(self, q, self.labels[p], max_raw, &mut scratch.bufs, slot) };
                    slot.sort_unstable();
                }
            },
        )?;
        let mut out = vec![Vec::new(); n];
        for (p, r) in by_pos.into_iter().enumerate() {
            out[self.pos_to_index[p] as usize] = r;
        }
        Ok(out)
    }
}

/// Per-thread buffers.
struct Scratch<'a> {
    query: Vec<Chunk>,
    /// The index's block sums, when the search is ℓ2.
    block_sums: Option<&'a BlockSums>,
    bufs: Buffers,
}

/// Working memory of one query's search.
pub(crate) struct Buffers {
    keys: Vec<u64>,
    sorted: Vec<u64>,
    survivors: Vec<u32>,
    /// Block sums of the query (ℓ2).
    sums: Vec<u16>,
}

impl<'a> Scratch<'a> {
    fn new(ix: &Index, block_sums: Option<&'a BlockSums>) -> Self {
        let largest = ix
            .leaves
            .iter()
            .map(|l| (l.end - l.start) as usize)
            .max()
            .unwrap_or(0);
        Self {
            query: vec![ZERO_CHUNK; ix.chunks],
            block_sums,
            bufs: Buffers {
                keys: Vec::with_capacity(ix.groups.len()),
                sorted: Vec::with_capacity(ix.groups.len()),
                survivors: vec![0; largest],
                sums: vec![0; block_sums.map_or(0, |b| b.width)],
            },
        }
    }

    fn load_row(&mut self, ix: &Index, p: usize) {
        let n = ix.len();
        for c in 0..ix.heads {
            self.query[c] = ix.head[c * n + p];
        }
        let tail = ix.chunks - ix.heads;
        self.query[ix.heads..].copy_from_slice(&ix.rest[p * tail..(p + 1) * tail]);
        if let Some(block_sums) = self.block_sums {
            self.bufs.sums.copy_from_slice(block_sums.row(p));
        }
    }

    fn load_query(&mut self, ix: &Index, image: &[u8]) {
        for (k, &src) in ix.perm.iter().enumerate() {
            self.query[k / CHUNK].0[k % CHUNK] = image[src as usize];
        }
        if self.block_sums.is_some() {
            block_sums(image, &ix.blocks, &mut self.bufs.sums);
        }
    }
}

/// Runs `work` over `n` items in blocks, in parallel when threads are available, reporting
/// progress and honouring cancellation between blocks.
fn run_blocks<R, W>(
    ix: &Index,
    n: usize,
    options: &SearchOptions,
    control: &Control<'_>,
    work: W,
) -> Result<Vec<R>, SeparationError>
where
    R: Default + Clone + Send,
    W: Fn(&mut Scratch<'_>, usize, &mut [R]) + Sync,
{
    let block_sums = (options.metric == Metric::L2).then(|| ix.block_sums());
    let mut out = vec![R::default(); n];
    let done = AtomicUsize::new(0);
    let body = |scratch: &mut Scratch, (b, block): (usize, &mut [R])| {
        if control.is_cancelled() {
            return;
        }
        work(scratch, b * BLOCK, block);
        let finished = done.fetch_add(block.len(), Ordering::Relaxed) + block.len();
        if let Some(progress) = control.progress {
            progress(finished, n);
        }
    };
    #[cfg(feature = "std")]
    {
        use rayon::prelude::*;
        super::with_threads(options.threads, || {
            out.par_chunks_mut(BLOCK)
                .enumerate()
                .for_each_init(|| Scratch::new(ix, block_sums), body);
        })?;
    }
    #[cfg(not(feature = "std"))]
    {
        let mut scratch = Scratch::new(ix, block_sums);
        out.chunks_mut(BLOCK)
            .enumerate()
            .for_each(|item| body(&mut scratch, item));
    }
    if control.is_cancelled() {
        return Err(SeparationError::Cancelled);
    }
    Ok(out)
}

type NearestFn = unsafe fn(&Index, *const u8, u16, u32, bool, &mut Buffers) -> Nearest;
type WithinFn = unsafe fn(&Index, *const u8, u16, u32, &mut Buffers, &mut Vec<u32>);

/// Raw pointers to the index's arrays, for the inner loops.
struct Rows<'a> {
    chunks: usize,
    heads: usize,
    head: *const u8,
    head_stride: usize,
    rest: *const u8,
    rest_stride: usize,
    box_lo: *const u8,
    box_hi: *const u8,
    leaf_lo: *const u8,
    leaf_hi: *const u8,
    box_stride: usize,
    leaf_chunks: usize,
    /// The index's block sums (ℓ2 only).
    block_sums: Option<&'a BlockSums>,
    /// Block sums of the query being searched.
    query_sums: &'a [u16],
}

impl<'a> Rows<'a> {
    fn new<M: Dist>(ix: &'a Index, query_sums: &'a [u16]) -> Self {
        Self {
            block_sums: M::BLOCK_SUMS.then(|| ix.block_sums()),
            query_sums,
            chunks: ix.chunks,
            heads: ix.heads,
            head: ix.head.as_ptr().cast(),
            head_stride: ix.len() * CHUNK,
            rest: ix.rest.as_ptr().cast(),
            rest_stride: (ix.chunks - ix.heads) * CHUNK,
            box_lo: ix.box_lo.as_ptr().cast(),
            box_hi: ix.box_hi.as_ptr().cast(),
            leaf_lo: ix.leaf_lo.as_ptr().cast(),
            leaf_hi: ix.leaf_hi.as_ptr().cast(),
            box_stride: ix.chunks * CHUNK,
            leaf_chunks: LEAF_BOUND_CHUNKS.min(ix.chunks),
        }
    }

    /// Calls `found(position, distance)` for every image of `leaf` within `t` of `q`
    /// (`t` read again after each call, so it may shrink), skipping position `skip`.
    #[inline(always)]
    unsafe fn scan_leaf<S: Simd, M: Dist>(
        &self,
        q: *const u8,
        leaf: Leaf,
        skip: u32,
        survivors: &mut [u32],
        t: &mut u32,
        mut found: impl FnMut(usize, u32, &mut u32),
    ) {
        let (start, end) = (leaf.start as usize, leaf.end as usize);
        // SAFETY (whole function): positions `start..end` are rows of the index, each with
        // `heads` head chunks and `chunks − heads` rest chunks; `survivors` holds a leaf.
        let row = |p: usize| {
            move |c: usize| unsafe {
                if c < self.heads {
                    self.head.add(c * self.head_stride + p * CHUNK)
                } else {
                    self.rest
                        .add(p * self.rest_stride + (c - self.heads) * CHUNK)
                }
            }
        };
        // The first chunks of a leaf are contiguous: test them all first, then the other
        // head chunks of the images that pass, then fetch the rest rows of the few images
        // left ahead of use, so that their cache misses overlap.
        let mut passed = 0;
        for p in start..end {
            unsafe {
                *survivors.get_unchecked_mut(passed) = p as u32;
                let pass = match self.block_sums {
                    Some(block_sums) => {
                        block_sum_bound(self.query_sums, block_sums.row(p))
                            <= BLOCK_PIXELS * u64::from(*t)
                            && M::head_within::<S>(q, self.head.add(p * CHUNK), *t)
                    }
                    None => M::head_within::<S>(q, self.head.add(p * CHUNK), *t),
                };
                passed += usize::from(pass);
            }
        }
        if self.heads > 1 {
            let mut kept = 0;
            for i in 0..passed {
                unsafe {
                    let p = *survivors.get_unchecked(i);
                    *survivors.get_unchecked_mut(kept) = p;
                    kept +=
                        usize::from(M::within::<S>(q, row(p as usize), self.heads, *t).is_some());
                }
            }
            passed = kept;
        }
        if self.chunks > self.heads {
            for &p in &survivors[..passed] {
                unsafe { S::prefetch(self.rest.add(p as usize * self.rest_stride)) };
            }
        }
        for &p in &survivors[..passed] {
            if p == skip {
                continue;
            }
            let p = p as usize;
            if let Some(d) = unsafe { M::within::<S>(q, row(p), self.chunks, *t) } {
                found(p, d, t);
            }
        }
    }
}

/// Nearest other-class (and optionally same-class) training image of one query.
#[inline(always)]
unsafe fn nearest_one<S: Simd, M: Dist>(
    ix: &Index,
    q: *const u8,
    label: u16,
    self_pos: u32,
    same: bool,
    bufs: &mut Buffers,
) -> Nearest {
    let Buffers {
        keys,
        sorted,
        survivors,
        sums,
    } = bufs;
    let sums: &[u16] = sums;
    let rows = Rows::new::<M>(ix, sums);
    let chunks = ix.chunks;
    let prefix = BOUND_CHUNKS.min(chunks);
    keys.clear();
    for (g, group) in ix.groups.iter().enumerate() {
        if group.label == label && !same {
            continue;
        }
        let o = g * rows.box_stride;
        // SAFETY: every group has `chunks` box chunks.
        let mut b = unsafe { M::box_bound::<S>(q, rows.box_lo.add(o), rows.box_hi.add(o), prefix) };
        if let Some(block_sums) = rows.block_sums {
            let (lo, hi) = block_sums.group(g);
            b = b.max(block_bound_raw(block_box_bound(sums, lo, hi)));
        }
        keys.push((u64::from(b) << 32) | g as u64);
    }
    let keys = if M::BYTE_KEYS {
        counting_sort(keys, sorted);
        sorted
    } else {
        keys.sort_unstable();
        keys
    };
    // (distance, index) of the best so far; index u32::MAX means none.
    let mut other = (M::UNBOUNDED, u32::MAX);
    let mut own = (M::UNBOUNDED, u32::MAX);
    for &key in keys.iter() {
        let bound = (key >> 32) as u32;
        let g = (key & 0xFFFF_FFFF) as usize;
        let limit = if same { other.0.max(own.0) } else { other.0 };
        if bound > limit {
            break;
        }
        let group = ix.groups[g];
        let best = if group.label == label {
            &mut own
        } else {
            &mut other
        };
        if bound > best.0 {
            continue;
        }
        let o = g * rows.box_stride;
        // With block sums the key is not a prefix sum of the box: check the whole box.
        let (box_from, box_start) = if M::BLOCK_SUMS {
            (0, 0)
        } else {
            (prefix, bound)
        };
        // SAFETY: as above.
        if !unsafe {
            M::box_within::<S>(
                q,
                rows.box_lo.add(o),
                rows.box_hi.add(o),
                box_from,
                chunks,
                box_start,
                best.0,
            )
        } {
            continue;
        }
        for l in group.leaf_start as usize..group.leaf_end as usize {
            if let Some(block_sums) = rows.block_sums {
                let (lo, hi) = block_sums.leaf(l);
                if block_bound_raw(block_box_bound(sums, lo, hi)) > best.0 {
                    continue;
                }
            }
            let o = l * rows.leaf_chunks * CHUNK;
            // SAFETY: every leaf has `leaf_chunks` box chunks.
            if !unsafe {
                M::box_within::<S>(
                    q,
                    rows.leaf_lo.add(o),
                    rows.leaf_hi.add(o),
                    0,
                    rows.leaf_chunks,
                    0,
                    best.0,
                )
            } {
                continue;
            }
            let mut t = best.0;
            // SAFETY: the leaf's positions are valid rows.
            unsafe {
                rows.scan_leaf::<S, M>(q, ix.leaves[l], self_pos, survivors, &mut t, |p, d, t| {
                    let index = ix.pos_to_index[p];
                    if d < best.0 || index < best.1 {
                        *best = (d, index);
                        *t = d;
                    }
                });
            }
        }
    }
    let wrap = |b: (u32, u32)| {
        (b.1 != u32::MAX).then_some(Neighbor {
            index: b.1,
            raw: b.0,
        })
    };
    Nearest {
        other: wrap(other),
        same: if same { wrap(own) } else { None },
    }
}

/// Every other-class training image within `t` of one query.
#[inline(always)]
unsafe fn within_one<S: Simd, M: Dist>(
    ix: &Index,
    q: *const u8,
    label: u16,
    t: u32,
    bufs: &mut Buffers,
    out: &mut Vec<u32>,
) {
    let Buffers {
        survivors, sums, ..
    } = bufs;
    let sums: &[u16] = sums;
    let rows = Rows::new::<M>(ix, sums);
    let chunks = ix.chunks;
    let prefix = BOUND_CHUNKS.min(chunks);
    for (g, group) in ix.groups.iter().enumerate() {
        if group.label == label {
            continue;
        }
        let o = g * rows.box_stride;
        // SAFETY: every group and leaf has `chunks` box chunks; every position its row.
        unsafe {
            let bound = M::box_bound::<S>(q, rows.box_lo.add(o), rows.box_hi.add(o), prefix);
            if let Some(block_sums) = rows.block_sums {
                let (lo, hi) = block_sums.group(g);
                if block_bound_raw(block_box_bound(sums, lo, hi)) > t {
                    continue;
                }
            }
            if bound > t
                || !M::box_within::<S>(
                    q,
                    rows.box_lo.add(o),
                    rows.box_hi.add(o),
                    prefix,
                    chunks,
                    bound,
                    t,
                )
            {
                continue;
            }
            for l in group.leaf_start as usize..group.leaf_end as usize {
                if let Some(block_sums) = rows.block_sums {
                    let (lo, hi) = block_sums.leaf(l);
                    if block_bound_raw(block_box_bound(sums, lo, hi)) > t {
                        continue;
                    }
                }
                let o = l * rows.leaf_chunks * CHUNK;
                if !M::box_within::<S>(
                    q,
                    rows.leaf_lo.add(o),
                    rows.leaf_hi.add(o),
                    0,
                    rows.leaf_chunks,
                    0,
                    t,
                ) {
                    continue;
                }
                let mut limit = t;
                rows.scan_leaf::<S, M>(
                    q,
                    ix.leaves[l],
                    u32::MAX,
                    survivors,
                    &mut limit,
                    |p, _, _| {
                        out.push(ix.pos_to_index[p]);
                    },
                );
            }
        }
    }
}

/// Sorts keys whose upper 32 bits are at most 255 into `sorted`, stably.
fn counting_sort(keys: &[u64], sorted: &mut Vec<u64>) {
    let mut counts = [0u32; 257];
    for &k in keys.iter() {
        counts[(k >> 32) as usize + 1] += 1;
    }
    for i in 1..257 {
        counts[i] += counts[i - 1];
    }
    sorted.clear();
    sorted.resize(keys.len(), 0);
    for &k in keys.iter() {
        let b = (k >> 32) as usize;
        sorted[counts[b] as usize] = k;
        counts[b] += 1;
    }
}

macro_rules! instantiate {
    ($nearest:ident, $within:ident, $simd:ty, $metric:ty $(, $feature:literal)?) => {
        $(#[target_feature(enable = $feature)])?
        unsafe fn $nearest(ix: &Index, q: *const u8, label: u16, self_pos: u32, same: bool, bufs: &mut Buffers) -> Nearest {
            unsafe { nearest_one::<$simd, $metric>(ix, q, label, self_pos, same, bufs) }
        }
        $(#[target_feature(enable = $feature)])?
        unsafe fn $within(ix: &Index, q: *const u8, label: u16, t: u32, bufs: &mut Buffers, out: &mut Vec<u32>) {
            unsafe { within_one::<$simd, $metric>(ix, q, label, t, bufs, out) }
        }
    };
}

instantiate!(nearest_portable_linf, within_portable_linf, Portable, Linf);
instantiate!(nearest_portable_l2, within_portable_l2, Portable, L2);
#[cfg(target_arch = "x86_64")]
instantiate!(
    nearest_avx2_linf,
    within_avx2_linf,
    super::simd::x86::Avx2,
    Linf,
    "avx2"
);
#[cfg(target_arch = "x86_64")]
instantiate!(
    nearest_avx2_l2,
    within_avx2_l2,
    super::simd::x86::Avx2,
    L2,
    "avx2"
);
#[cfg(target_arch = "x86_64")]
instantiate!(
    nearest_avx512_linf,
    within_avx512_linf,
    super::simd::x86::Avx512,
    Linf,
    "avx2,avx512f,avx512bw"
);
#[cfg(target_arch = "x86_64")]
instantiate!(
    nearest_avx512_l2,
    within_avx512_l2,
    super::simd::x86::Avx512,
    L2,
    "avx2,avx512f,avx512bw"
);
#[cfg(target_arch = "aarch64")]
instantiate!(
    nearest_neon_linf,
    within_neon_linf,
    super::simd::neon::Neon,
    Linf,
    "neon"
);
#[cfg(target_arch = "aarch64")]
instantiate!(
    nearest_neon_l2,
    within_neon_l2,
    super::simd::neon::Neon,
    L2,
    "neon"
);
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
instantiate!(
    nearest_simd128_linf,
    within_simd128_linf,
    super::simd::wasm::Simd128,
    Linf
);
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
instantiate!(
    nearest_simd128_l2,
    within_simd128_l2,
    super::simd::wasm::Simd128,
    L2
);

fn nearest_fn(isa: Isa, metric: Metric) -> NearestFn {
    match (isa, metric) {
        (Isa::Portable, Metric::Linf) => nearest_portable_linf,
        (Isa::Portable, Metric::L2) => nearest_portable_l2,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, Metric::Linf) => nearest_avx2_linf,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, Metric::L2) => nearest_avx2_l2,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, Metric::Linf) => nearest_avx512_linf,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, Metric::L2) => nearest_avx512_l2,
        #[cfg(target_arch = "aarch64")]
        (Isa::Neon, Metric::Linf) => nearest_neon_linf,
        #[cfg(target_arch = "aarch64")]
        (Isa::Neon, Metric::L2) => nearest_neon_l2,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128, Metric::Linf) => nearest_simd128_linf,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128, Metric::L2) => nearest_simd128_l2,
    }
}

fn within_fn(isa: Isa, metric: Metric) -> WithinFn {
    match (isa, metric) {
        (Isa::Portable, Metric::Linf) => within_portable_linf,
        (Isa::Portable, Metric::L2) => within_portable_l2,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, Metric::Linf) => within_avx2_linf,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, Metric::L2) => within_avx2_l2,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, Metric::Linf) => within_avx512_linf,
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, Metric::L2) => within_avx512_l2,
        #[cfg(target_arch = "aarch64")]
        (Isa::Neon, Metric::Linf) => within_neon_linf,
        #[cfg(target_arch = "aarch64")]
        (Isa::Neon, Metric::L2) => within_neon_l2,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128, Metric::Linf) => within_simd128_linf,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        (Isa::Simd128, Metric::L2) => within_simd128_l2,
    }
}
