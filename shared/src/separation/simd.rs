//! Byte-vector primitives behind the distance kernels, one implementation per instruction
//! set. The search code is written once, generically over [`Simd`], and instantiated inside
//! functions compiled with the matching `#[target_feature]`, so every primitive inlines into
//! straight-line vector code.
//!
//! Every method is `unsafe`: pointers must be valid for `LANES` bytes and the instruction
//! set must be available on the running CPU (checked once by [`super::Kernel::resolve`]).

/// Bytes per chunk: the unit in which rows are padded, compared and abandoned.
pub(crate) const CHUNK: usize = 64;

pub(crate) trait Simd: Copy {
    /// Bytes per vector; divides [`CHUNK`].
    const LANES: usize;
    type V: Copy;
    /// Eight or more `u32` accumulators of squared byte differences.
    type Acc: Copy;

    unsafe fn load(p: *const u8) -> Self::V;
    unsafe fn splat(x: u8) -> Self::V;
    /// Saturating `a − b` per byte.
    unsafe fn subs(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn absdiff(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// Whether some byte of `v` is greater than the same byte of `t`.
    unsafe fn any_gt(v: Self::V, t: Self::V) -> bool;
    unsafe fn hmax(v: Self::V) -> u8;
    unsafe fn acc_zero() -> Self::Acc;
    /// `acc + d²` byte by byte, widened to `u32`.
    unsafe fn acc_sq(acc: Self::Acc, d: Self::V) -> Self::Acc;
    unsafe fn hsum(acc: Self::Acc) -> u32;
    /// Hints that the cache line at `p` will be read soon (may do nothing).
    #[inline(always)]
    unsafe fn prefetch(_p: *const u8) {}
}

/// Portable fallback: plain loops over 16-byte arrays (the compiler may vectorise them for
/// the baseline target, which is fine: the results are the same).
#[derive(Clone, Copy)]
pub(crate) struct Portable;

impl Simd for Portable {
    const LANES: usize = 16;
    type V = [u8; 16];
    type Acc = [u32; 16];

    #[inline(always)]
    unsafe fn load(p: *const u8) -> [u8; 16] {
        // SAFETY: the caller guarantees 16 readable bytes.
        unsafe { core::ptr::read_unaligned(p.cast::<[u8; 16]>()) }
    }
    #[inline(always)]
    unsafe fn splat(x: u8) -> [u8; 16] {
        [x; 16]
    }
    #[inline(always)]
    unsafe fn subs(a: [u8; 16], b: [u8; 16]) -> [u8; 16] {
        core::array::from_fn(|i| a[i].saturating_sub(b[i]))
    }
    #[inline(always)]
    unsafe fn absdiff(a: [u8; 16], b: [u8; 16]) -> [u8; 16] {
        core::array::from_fn(|i| a[i].abs_diff(b[i]))
    }
    #[inline(always)]
    unsafe fn max(a: [u8; 16], b: [u8; 16]) -> [u8; 16] {
        core::array::from_fn(|i| a[i].max(b[i]))
    }
    #[inline(always)]
    unsafe fn any_gt(v: [u8; 16], t: [u8; 16]) -> bool {
        v.iter().zip(&t).fold(false, |acc, (a, b)| acc | (a > b))
    }
    #[inline(always)]
    unsafe fn hmax(v: [u8; 16]) -> u8 {
        v.iter().fold(0, |m, &x| m.max(x))
    }
    #[inline(always)]
    unsafe fn acc_zero() -> [u32; 16] {
        [0; 16]
    }
    #[inline(always)]
    unsafe fn acc_sq(acc: [u32; 16], d: [u8; 16]) -> [u32; 16] {
        core::array::from_fn(|i| acc[i] + u32::from(d[i]) * u32::from(d[i]))
    }
    #[inline(always)]
    unsafe fn hsum(acc: [u32; 16]) -> u32 {
        acc.iter().sum()
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use super::Simd;
    use core::arch::x86_64::*;

    /// AVX2: 32-byte vectors.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2;

    impl Simd for Avx2 {
        const LANES: usize = 32;
        type V = __m256i;
        type Acc = __m256i;

        #[inline(always)]
        unsafe fn load(p: *const u8) -> __m256i {
            unsafe { _mm256_loadu_si256(p.cast()) }
        }
        #[inline(always)]
        unsafe fn splat(x: u8) -> __m256i {
            unsafe { _mm256_set1_epi8(x as i8) }
        }
        #[inline(always)]
        unsafe fn subs(a: __m256i, b: __m256i) -> __m256i {
            unsafe { _mm256_subs_epu8(a, b) }
        }
        #[inline(always)]
        unsafe fn absdiff(a: __m256i, b: __m256i) -> __m256i {
            unsafe { _mm256_or_si256(_mm256_subs_epu8(a, b), _mm256_subs_epu8(b, a)) }
        }
        #[inline(always)]
        unsafe fn max(a: __m256i, b: __m256i) -> __m256i {
            unsafe { _mm256_max_epu8(a, b) }
        }
        #[inline(always)]
        unsafe fn any_gt(v: __m256i, t: __m256i) -> bool {
            unsafe {
                let s = _mm256_subs_epu8(v, t);
                _mm256_testz_si256(s, s) == 0
            }
        }
        #[inline(always)]
        unsafe fn hmax(v: __m256i) -> u8 {
            unsafe {
                let m = _mm_max_epu8(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
                let m = _mm_max_epu8(m, _mm_srli_si128::<8>(m));
                let m = _mm_max_epu8(m, _mm_srli_si128::<4>(m));
                let m = _mm_max_epu8(m, _mm_srli_si128::<2>(m));
                let m = _mm_max_epu8(m, _mm_srli_si128::<1>(m));
                _mm_cvtsi128_si32(m) as u8
            }
        }
        #[inline(always)]
        unsafe fn acc_zero() -> __m256i {
            unsafe { _mm256_setzero_si256() }
        }
        #[inline(always)]
        unsafe fn acc_sq(acc: __m256i, d: __m256i) -> __m256i {
            unsafe {
                let z = _mm256_setzero_si256();
                let lo = _mm256_unpacklo_epi8(d, z);
                let hi = _mm256_unpackhi_epi8(d, z);
                let s = _mm256_add_epi32(_mm256_madd_epi16(lo, lo), _mm256_madd_epi16(hi, hi));
                _mm256_add_epi32(acc, s)
            }
        }
        #[inline(always)]
        unsafe fn hsum(acc: __m256i) -> u32 {
            unsafe {
                let s = _mm_add_epi32(
                    _mm256_castsi256_si128(acc),
                    _mm256_extracti128_si256::<1>(acc),
                );
                let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
                let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
                _mm_cvtsi128_si32(s) as u32
            }
        }
        #[inline(always)]
        unsafe fn prefetch(p: *const u8) {
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
        }
    }

    /// AVX-512BW: 64-byte vectors, one per chunk.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512;

    impl Simd for Avx512 {
        const LANES: usize = 64;
        type V = __m512i;
        type Acc = __m512i;

        #[inline(always)]
        unsafe fn load(p: *const u8) -> __m512i {
            unsafe { _mm512_loadu_si512(p.cast()) }
        }
        #[inline(always)]
        unsafe fn splat(x: u8) -> __m512i {
            unsafe { _mm512_set1_epi8(x as i8) }
        }
        #[inline(always)]
        unsafe fn subs(a: __m512i, b: __m512i) -> __m512i {
            unsafe { _mm512_subs_epu8(a, b) }
        }
        #[inline(always)]
        unsafe fn absdiff(a: __m512i, b: __m512i) -> __m512i {
            unsafe { _mm512_or_si512(_mm512_subs_epu8(a, b), _mm512_subs_epu8(b, a)) }
        }
        #[inline(always)]
        unsafe fn max(a: __m512i, b: __m512i) -> __m512i {
            unsafe { _mm512_max_epu8(a, b) }
        }
        #[inline(always)]
        unsafe fn any_gt(v: __m512i, t: __m512i) -> bool {
            unsafe { _mm512_cmpgt_epu8_mask(v, t) != 0 }
        }
        #[inline(always)]
        unsafe fn hmax(v: __m512i) -> u8 {
            unsafe {
                let a = _mm512_castsi512_si256(v);
                let b = _mm512_extracti64x4_epi64::<1>(v);
                Avx2::hmax(_mm256_max_epu8(a, b))
            }
        }
        #[inline(always)]
        unsafe fn acc_zero() -> __m512i {
            unsafe { _mm512_setzero_si512() }
        }
        #[inline(always)]
        unsafe fn acc_sq(acc: __m512i, d: __m512i) -> __m512i {
            unsafe {
                let z = _mm512_setzero_si512();
                let lo = _mm512_unpacklo_epi8(d, z);
                let hi = _mm512_unpackhi_epi8(d, z);
                let s = _mm512_add_epi32(_mm512_madd_epi16(lo, lo), _mm512_madd_epi16(hi, hi));
                _mm512_add_epi32(acc, s)
            }
        }
        #[inline(always)]
        unsafe fn hsum(acc: __m512i) -> u32 {
            unsafe { _mm512_reduce_add_epi32(acc) as u32 }
        }
        #[inline(always)]
        unsafe fn prefetch(p: *const u8) {
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
        }
    }
}

#[cfg(target_arch = "aarch64")]
pub(crate) mod neon {
    use super::Simd;
    use core::arch::aarch64::*;

    /// NEON: 16-byte vectors.
    #[derive(Clone, Copy)]
    pub(crate) struct Neon;

    impl Simd for Neon {
        const LANES: usize = 16;
        type V = uint8x16_t;
        type Acc = uint32x4_t;

        #[inline(always)]
        unsafe fn load(p: *const u8) -> uint8x16_t {
            unsafe { vld1q_u8(p) }
        }
        #[inline(always)]
        unsafe fn splat(x: u8) -> uint8x16_t {
            unsafe { vdupq_n_u8(x) }
        }
        #[inline(always)]
        unsafe fn subs(a: uint8x16_t, b: uint8x16_t) -> uint8x16_t {
            unsafe { vqsubq_u8(a, b) }
        }
        #[inline(always)]
        unsafe fn absdiff(a: uint8x16_t, b: uint8x16_t) -> uint8x16_t {
            unsafe { vabdq_u8(a, b) }
        }
        #[inline(always)]
        unsafe fn max(a: uint8x16_t, b: uint8x16_t) -> uint8x16_t {
            unsafe { vmaxq_u8(a, b) }
        }
        #[inline(always)]
        unsafe fn any_gt(v: uint8x16_t, t: uint8x16_t) -> bool {
            unsafe { vmaxvq_u8(vcgtq_u8(v, t)) != 0 }
        }
        #[inline(always)]
        unsafe fn hmax(v: uint8x16_t) -> u8 {
            unsafe { vmaxvq_u8(v) }
        }
        #[inline(always)]
        unsafe fn acc_zero() -> uint32x4_t {
            unsafe { vdupq_n_u32(0) }
        }
        #[inline(always)]
        unsafe fn acc_sq(acc: uint32x4_t, d: uint8x16_t) -> uint32x4_t {
            unsafe {
                let lo = vmull_u8(vget_low_u8(d), vget_low_u8(d));
                let hi = vmull_high_u8(d, d);
                vpadalq_u16(vpadalq_u16(acc, lo), hi)
            }
        }
        #[inline(always)]
        unsafe fn hsum(acc: uint32x4_t) -> u32 {
            unsafe { vaddvq_u32(acc) }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod wasm {
    use super::Simd;
    use core::arch::wasm32::*;

    /// WebAssembly SIMD: 16-byte vectors.
    #[derive(Clone, Copy)]
    pub(crate) struct Simd128;

    impl Simd for Simd128 {
        const LANES: usize = 16;
        type V = v128;
        type Acc = v128;

        #[inline(always)]
        unsafe fn load(p: *const u8) -> v128 {
            unsafe { v128_load(p.cast()) }
        }
        #[inline(always)]
        unsafe fn splat(x: u8) -> v128 {
            u8x16_splat(x)
        }
        #[inline(always)]
        unsafe fn subs(a: v128, b: v128) -> v128 {
            u8x16_sub_sat(a, b)
        }
        #[inline(always)]
        unsafe fn absdiff(a: v128, b: v128) -> v128 {
            v128_or(u8x16_sub_sat(a, b), u8x16_sub_sat(b, a))
        }
        #[inline(always)]
        unsafe fn max(a: v128, b: v128) -> v128 {
            u8x16_max(a, b)
        }
        #[inline(always)]
        unsafe fn any_gt(v: v128, t: v128) -> bool {
            v128_any_true(u8x16_gt(v, t))
        }
        #[inline(always)]
        unsafe fn hmax(v: v128) -> u8 {
            let bytes: [u8; 16] = unsafe { core::mem::transmute(v) };
            bytes.iter().fold(0, |m, &x| m.max(x))
        }
        #[inline(always)]
        unsafe fn acc_zero() -> v128 {
            u32x4_splat(0)
        }
        #[inline(always)]
        unsafe fn acc_sq(acc: v128, d: v128) -> v128 {
            let lo = u16x8_extend_low_u8x16(d);
            let hi = u16x8_extend_high_u8x16(d);
            i32x4_add(
                acc,
                i32x4_add(i32x4_dot_i16x8(lo, lo), i32x4_dot_i16x8(hi, hi)),
            )
        }
        #[inline(always)]
        unsafe fn hsum(acc: v128) -> u32 {
            u32x4_extract_lane::<0>(acc)
                .wrapping_add(u32x4_extract_lane::<1>(acc))
                .wrapping_add(u32x4_extract_lane::<2>(acc))
                .wrapping_add(u32x4_extract_lane::<3>(acc))
        }
    }
}
