//! The two metrics on permuted, padded byte rows, generic over the vector primitives.
//!
//! Rows are `chunks × 64` bytes, reached chunk by chunk through a function (the index keeps
//! the leading chunks of all rows in separate contiguous arrays). Distances are kept as
//! integers: the largest absolute byte difference for ℓ∞, the sum of squared differences
//! for ℓ2.

use super::simd::{CHUNK, Simd};

/// One metric's bounds and distances.
pub(crate) trait Dist {
    /// "No bound yet": larger than or equal to every possible distance.
    const UNBOUNDED: u32;
    /// Lower bounds fit in a byte, so candidates can be ordered by a counting sort.
    const BYTE_KEYS: bool;
    /// Also bound by the sums of pixel blocks (see [`block_sum_bound`]).
    const BLOCK_SUMS: bool;

    /// Lower bound on the distance from `q` to every point of the box `[lo, hi]`, from the
    /// first `prefix` chunks.
    unsafe fn box_bound<S: Simd>(q: *const u8, lo: *const u8, hi: *const u8, prefix: usize) -> u32;

    /// Whether the box may still hold a point within `t` of `q`, given the bound `start`
    /// from the first `prefix` chunks: checks the remaining chunks, stopping early.
    unsafe fn box_within<S: Simd>(
        q: *const u8,
        lo: *const u8,
        hi: *const u8,
        prefix: usize,
        chunks: usize,
        start: u32,
        t: u32,
    ) -> bool;

    /// Whether the first chunk alone keeps the row within `t` of `q`.
    unsafe fn head_within<S: Simd>(q: *const u8, head: *const u8, t: u32) -> bool;

    /// The exact distance from `q` to the first `chunks` chunks of a row (chunk `c` at
    /// `row(c)`) if it is at most `t`; `None` as soon as a chunk shows it exceeds `t`.
    unsafe fn within<S: Simd>(
        q: *const u8,
        row: impl Fn(usize) -> *const u8,
        chunks: usize,
        t: u32,
    ) -> Option<u32>;
}

#[inline(always)]
unsafe fn chunk_absmax<S: Simd>(a: *const u8, b: *const u8) -> S::V {
    unsafe {
        let mut m = S::absdiff(S::load(a), S::load(b));
        let mut i = S::LANES;
        while i < CHUNK {
            m = S::max(m, S::absdiff(S::load(a.add(i)), S::load(b.add(i))));
            i += S::LANES;
        }
        m
    }
}

/// Per byte, how far `q` lies outside `[lo, hi]` (0 inside).
#[inline(always)]
unsafe fn box_gap<S: Simd>(q: *const u8, lo: *const u8, hi: *const u8) -> S::V {
    unsafe {
        let (qv, l, h) = (S::load(q), S::load(lo), S::load(hi));
        S::max(S::subs(l, qv), S::subs(qv, h))
    }
}

#[inline(always)]
unsafe fn chunk_box_max<S: Simd>(q: *const u8, lo: *const u8, hi: *const u8) -> S::V {
    unsafe {
        let mut m = box_gap::<S>(q, lo, hi);
        let mut i = S::LANES;
        while i < CHUNK {
            m = S::max(m, box_gap::<S>(q.add(i), lo.add(i), hi.add(i)));
            i += S::LANES;
        }
        m
    }
}

#[inline(always)]
unsafe fn chunk_sq<S: Simd>(acc: S::Acc, a: *const u8, b: *const u8) -> S::Acc {
    unsafe {
        let mut acc = acc;
        let mut i = 0;
        while i < CHUNK {
            acc = S::acc_sq(acc, S::absdiff(S::load(a.add(i)), S::load(b.add(i))));
            i += S::LANES;
        }
        acc
    }
}

#[inline(always)]
unsafe fn chunk_box_sq<S: Simd>(acc: S::Acc, q: *const u8, lo: *const u8, hi: *const u8) -> S::Acc {
    unsafe {
        let mut acc = acc;
        let mut i = 0;
        while i < CHUNK {
            acc = S::acc_sq(acc, box_gap::<S>(q.add(i), lo.add(i), hi.add(i)));
            i += S::LANES;
        }
        acc
    }
}

/// ℓ∞: the largest absolute byte difference (0..=255).
pub(crate) struct Linf;

impl Dist for Linf {
    const UNBOUNDED: u32 = 255;
    const BYTE_KEYS: bool = true;
    const BLOCK_SUMS: bool = false;

    #[inline(always)]
    unsafe fn box_bound<S: Simd>(q: *const u8, lo: *const u8, hi: *const u8, prefix: usize) -> u32 {
        unsafe {
            let mut m = chunk_box_max::<S>(q, lo, hi);
            for c in 1..prefix {
                let o = c * CHUNK;
                m = S::max(m, chunk_box_max::<S>(q.add(o), lo.add(o), hi.add(o)));
            }
            u32::from(S::hmax(m))
        }
    }

    #[inline(always)]
    unsafe fn box_within<S: Simd>(
        q: *const u8,
        lo: *const u8,
        hi: *const u8,
        prefix: usize,
        chunks: usize,
        _start: u32,
        t: u32,
    ) -> bool {
        unsafe {
            let tv = S::splat(t.min(255) as u8);
            for c in prefix..chunks {
                let o = c * CHUNK;
                if S::any_gt(chunk_box_max::<S>(q.add(o), lo.add(o), hi.add(o)), tv) {
                    return false;
                }
            }
            true
        }
    }

    #[inline(always)]
    unsafe fn head_within<S: Simd>(q: *const u8, head: *const u8, t: u32) -> bool {
        unsafe { !S::any_gt(chunk_absmax::<S>(q, head), S::splat(t.min(255) as u8)) }
    }

    #[inline(always)]
    unsafe fn within<S: Simd>(
        q: *const u8,
        row: impl Fn(usize) -> *const u8,
        chunks: usize,
        t: u32,
    ) -> Option<u32> {
        unsafe {
            let tv = S::splat(t.min(255) as u8);
            let mut m = chunk_absmax::<S>(q, row(0));
            if S::any_gt(m, tv) {
                return None;
            }
            for c in 1..chunks {
                m = S::max(m, chunk_absmax::<S>(q.add(c * CHUNK), row(c)));
                if S::any_gt(m, tv) {
                    return None;
                }
            }
            Some(u32::from(S::hmax(m)))
        }
    }
}

/// ℓ2: the exact sum of squared byte differences.
pub(crate) struct L2;

impl Dist for L2 {
    const UNBOUNDED: u32 = u32::MAX;
    const BYTE_KEYS: bool = false;
    const BLOCK_SUMS: bool = true;

    #[inline(always)]
    unsafe fn box_bound<S: Simd>(q: *const u8, lo: *const u8, hi: *const u8, prefix: usize) -> u32 {
        unsafe {
            let mut acc = S::acc_zero();
            for c in 0..prefix {
                let o = c * CHUNK;
                acc = chunk_box_sq::<S>(acc, q.add(o), lo.add(o), hi.add(o));
            }
            S::hsum(acc)
        }
    }

    #[inline(always)]
    unsafe fn box_within<S: Simd>(
        q: *const u8,
        lo: *const u8,
        hi: *const u8,
        prefix: usize,
        chunks: usize,
        start: u32,
        t: u32,
    ) -> bool {
        unsafe {
            let mut acc = S::acc_zero();
            for c in prefix..chunks {
                let o = c * CHUNK;
                acc = chunk_box_sq::<S>(acc, q.add(o), lo.add(o), hi.add(o));
                if start + S::hsum(acc) > t {
                    return false;
                }
            }
            true
        }
    }

    #[inline(always)]
    unsafe fn head_within<S: Simd>(q: *const u8, head: *const u8, t: u32) -> bool {
        unsafe { S::hsum(chunk_sq::<S>(S::acc_zero(), q, head)) <= t }
    }

    #[inline(always)]
    unsafe fn within<S: Simd>(
        q: *const u8,
        row: impl Fn(usize) -> *const u8,
        chunks: usize,
        t: u32,
    ) -> Option<u32> {
        unsafe {
            let mut acc = chunk_sq::<S>(S::acc_zero(), q, row(0));
            if S::hsum(acc) > t {
                return None;
            }
            let mut c = 1;
            while c < chunks {
                acc = chunk_sq::<S>(acc, q.add(c * CHUNK), row(c));
                c += 1;
                if c < chunks {
                    acc = chunk_sq::<S>(acc, q.add(c * CHUNK), row(c));
                    c += 1;
                }
                if S::hsum(acc) > t {
                    return None;
                }
            }
            Some(S::hsum(acc))
        }
    }
}

/// Pixels per block of the ℓ2 block-sum bound.
pub(crate) const BLOCK_PIXELS: u64 = 16;

/// `BLOCK_PIXELS` times a lower bound on the squared ℓ2 distance, from block sums: for any
/// block B of k pixels, (Σ_B (x − z))² ≤ k · Σ_B (x − z)² (Cauchy–Schwarz), so summing over
/// disjoint blocks, Σ_B (S_B(x) − S_B(z))² ≤ k · ‖x − z‖². Exact, in integers.
#[inline(always)]
pub(crate) fn block_sum_bound(a: &[u16], b: &[u16]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)).pow(2))
        .sum()
}

/// The same bound from `a` to every point whose block sums lie in `[lo, hi]`.
#[inline(always)]
pub(crate) fn block_box_bound(a: &[u16], lo: &[u16], hi: &[u16]) -> u64 {
    a.iter()
        .zip(lo.iter().zip(hi))
        .map(|(&x, (&l, &h))| u64::from(l.saturating_sub(x).max(x.saturating_sub(h))).pow(2))
        .sum()
}

/// Smallest raw squared distance consistent with a block-sum bound.
#[inline(always)]
pub(crate) fn block_bound_raw(bound: u64) -> u32 {
    bound.div_ceil(BLOCK_PIXELS).min(u64::from(u32::MAX)) as u32
}
