//! How the kernels spread a batch over threads, and the scratch buffers each thread reuses
//! from one call to the next (an im2col matrix is up to megabytes, needed thousands of times
//! per epoch).

use core::cell::RefCell;
use core::ops::Range;

use super::matmul::Threads;

/// Threads in the pool (1 in the browser, which has none).
fn pool_threads() -> usize {
    #[cfg(feature = "flex")]
    return rayon::current_num_threads().max(1);
    #[cfg(not(feature = "flex"))]
    1
}

/// Threads for each image's products: one when the images themselves are spread over the
/// pool, all of them when the batch is too small to keep the pool busy.
pub fn per_image_threads(batch: usize) -> Threads {
    if batch >= pool_threads() {
        Threads::One
    } else {
        Threads::All
    }
}

/// Runs `work(image, out)` on every image's `per_image` values of `out`, in parallel.
pub fn for_each_image<T: Send>(
    out: &mut [T],
    per_image: usize,
    work: impl Fn(usize, &mut [T]) + Sync,
) {
    let images = out.len().checked_div(per_image).unwrap_or(0);
    for_each_image_pair(out, per_image, &mut vec![(); images], 1, |n, out, _| {
        work(n, out)
    });
}

/// [`for_each_image`] over two outputs, with `per_a` and `per_b` values per image.
pub fn for_each_image_pair<A: Send, B: Send>(
    a: &mut [A],
    per_a: usize,
    b: &mut [B],
    per_b: usize,
    work: impl Fn(usize, &mut [A], &mut [B]) + Sync,
) {
    let batch = a.len().checked_div(per_a).unwrap_or(0);
    assert_eq!(b.len(), batch * per_b, "both outputs cover the batch");
    let runs = runs(batch);
    let pieces = split(a, per_a, &runs).zip(split(b, per_b, &runs));
    let items: Vec<_> = runs.iter().cloned().zip(pieces).collect();
    on_threads(items, |(images, (a, b))| {
        let first = images.start;
        for n in images {
            let (i, j) = ((n - first) * per_a, (n - first) * per_b);
            work(n, &mut a[i..i + per_a], &mut b[j..j + per_b]);
        }
    });
}

/// Cuts the batch into runs of consecutive images, one per thread, and calls
/// `work(images, out, sum)` on each run in parallel, with the run's `per_image` values per
/// image of `out` and a sum of `sum_len` zeros to add the run's terms into. Returns the
/// runs' sums added in order, so a result never depends on which thread finished first.
pub fn for_each_run<T: Send>(
    batch: usize,
    out: &mut [T],
    per_image: usize,
    sum_len: usize,
    work: impl Fn(Range<usize>, &mut [T], &mut [f32]) + Sync,
) -> Vec<f32> {
    assert_eq!(out.len(), batch * per_image, "output size");
    let runs = runs(batch);
    let items: Vec<_> = runs
        .iter()
        .cloned()
        .zip(split(out, per_image, &runs))
        .collect();
    let sums = on_threads(items, |(images, out)| {
        let mut sum = vec![0.0; sum_len];
        work(images, out, &mut sum);
        sum
    });
    let mut sums = sums.into_iter();
    let mut total = sums.next().unwrap_or_else(|| vec![0.0; sum_len]);
    for sum in sums {
        for (t, s) in total.iter_mut().zip(sum) {
            *t += s;
        }
    }
    total
}

/// One run of consecutive images per thread (fewer when the batch is smaller).
fn runs(batch: usize) -> Vec<Range<usize>> {
    let count = pool_threads().min(batch);
    (0..count)
        .map(|r| batch * r / count..batch * (r + 1) / count)
        .collect()
}

/// `values` cut into the runs' parts, `per_image` values per image.
fn split<'a, T>(
    mut values: &'a mut [T],
    per_image: usize,
    runs: &[Range<usize>],
) -> impl Iterator<Item = &'a mut [T]> + use<'a, T> {
    let mut parts = Vec::with_capacity(runs.len());
    for run in runs {
        let (part, rest) = values.split_at_mut(run.len() * per_image);
        parts.push(part);
        values = rest;
    }
    parts.into_iter()
}

/// Runs `work` on each item, item `i` on the pool's thread `i`: the same images go to the
/// same core at every layer, so each layer finds its input in that core's cache (the
/// static schedule of OpenMP). With work stealing, a layer read what another core had
/// written, and max pooling took six times as long as on cached data.
fn on_threads<I: Send, R: Send>(items: Vec<I>, work: impl Fn(I) -> R + Sync) -> Vec<R> {
    #[cfg(feature = "flex")]
    {
        use std::sync::Mutex;
        if items.len() <= 1 {
            return items.into_iter().map(work).collect();
        }
        let items: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
        let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
        rayon::broadcast(|context| {
            let slot = context.index();
            let item = items.get(slot).and_then(|item| item.lock().ok()?.take());
            if let Some(item) = item {
                let result = work(item);
                if let Ok(mut into) = results[slot].lock() {
                    *into = Some(result);
                }
            }
        });
        results
            .into_iter()
            .map(|result| {
                result
                    .into_inner()
                    .ok()
                    .flatten()
                    .expect("every run is on a thread of the pool")
            })
            .collect()
    }
    #[cfg(not(feature = "flex"))]
    items.into_iter().map(work).collect()
}

std::thread_local! {
    static SCRATCH: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// Lends `work` a buffer of `len` values from this thread's pool (its contents are left
/// over from earlier use: write before reading). Taken out of the pool while in use, so a
/// thread that picks up other work meanwhile gets a buffer of its own.
pub fn with_scratch<R>(len: usize, work: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buffer = SCRATCH
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_default();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    let result = work(&mut buffer[..len]);
    SCRATCH.with(|pool| pool.borrow_mut().push(buffer));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_every_image_once_with_its_outputs() {
        for batch in [1, 2, 3, 7, 64] {
            let mut out = vec![usize::MAX; 2 * batch];
            let total = for_each_run(batch, &mut out, 2, 2, |images, out, sum| {
                for (i, image) in images.enumerate() {
                    sum[0] += 1.0;
                    sum[1] += image as f32;
                    out[2 * i..2 * i + 2].fill(image);
                }
            });
            assert_eq!(total, [batch as f32, (batch * (batch - 1) / 2) as f32]);
            let expected: Vec<usize> = (0..batch).flat_map(|n| [n, n]).collect();
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn nested_scratch_buffers_are_distinct() {
        with_scratch(4, |outer| {
            outer.fill(1.0);
            with_scratch(4, |inner| inner.fill(2.0));
            assert_eq!(outer, [1.0; 4]);
        });
    }
}
