//! The separation engine against plain brute force: every kernel this CPU has, several
//! thread counts and group sizes, both metrics, on random data with awkward shapes, ties
//! and duplicates; plus reports, the distance classifier, pruning and bad input.

use astute::data::{Dataset, ImageShape};
use astute::separation::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A pool of `n` worker threads, or the calling thread where the platform has none
/// (WebAssembly without threads): results must not depend on either.
fn pool(n: usize) -> Option<usize> {
    (!cfg!(target_family = "wasm")).then_some(n)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("c{i}")).collect()
}

/// `n` random images of `dims` bytes over `classes` classes. `levels` small makes many ties;
/// some images are exact copies of earlier ones, some of them with another label.
fn random_set(rng: &mut Rng, n: usize, shape: ImageShape, classes: usize, levels: u64) -> Dataset {
    let d = shape.len();
    let mut images = Vec::with_capacity(n * d);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        if i > 2 && rng.below(6) == 0 {
            let j = rng.below(i as u64) as usize;
            let copy = images[j * d..(j + 1) * d].to_vec();
            images.extend_from_slice(&copy);
        } else {
            let base = rng.below(256) as u8;
            for _ in 0..d {
                let v = if levels >= 256 {
                    rng.below(256) as u8
                } else {
                    base.saturating_add((rng.below(levels) * 40) as u8)
                };
                images.push(v);
            }
        }
        labels.push(rng.below(classes as u64) as u16);
    }
    Dataset::new(shape, images, labels, names(classes)).unwrap()
}

fn raw_distance(metric: Metric, a: &[u8], b: &[u8]) -> u32 {
    match metric {
        Metric::Linf => a
            .iter()
            .zip(b)
            .map(|(&x, &y)| u32::from(x.abs_diff(y)))
            .max()
            .unwrap_or(0),
        Metric::L2 => a
            .iter()
            .zip(b)
            .map(|(&x, &y)| u32::from(x.abs_diff(y)).pow(2))
            .sum(),
    }
}

/// Nearest other-class and same-class training image of each query by brute force, ties to
/// the smaller index; `skip_self` for Train–Train.
fn brute(
    metric: Metric,
    train: &Dataset,
    queries: &Dataset,
    same: bool,
    skip_self: bool,
) -> Vec<Nearest> {
    (0..queries.len())
        .map(|q| {
            let mut other: Option<Neighbor> = None;
            let mut own: Option<Neighbor> = None;
            for j in 0..train.len() {
                if skip_self && j == q {
                    continue;
                }
                let d = raw_distance(metric, queries.image(q), train.image(j));
                let slot = if train.labels()[j] == queries.labels()[q] {
                    &mut own
                } else {
                    &mut other
                };
                if slot.is_none_or(|b| d < b.raw) {
                    *slot = Some(Neighbor {
                        index: j as u32,
                        raw: d,
                    });
                }
            }
            Nearest {
                other,
                same: if same { own } else { None },
            }
        })
        .collect()
}

fn shapes() -> Vec<ImageShape> {
    vec![
        ImageShape::new(1, 1, 1),
        ImageShape::new(1, 1, 2),
        ImageShape::new(1, 1, 7),
        ImageShape::new(1, 2, 20),
        ImageShape::new(1, 8, 8),
        ImageShape::new(1, 5, 13),
        ImageShape::new(3, 5, 9),
        ImageShape::new(1, 10, 19),
        ImageShape::new(1, 28, 28),
    ]
}

/// Every kernel here, several thread counts and index shapes (group and leaf sizes).
fn all_options() -> Vec<(SearchOptions, IndexOptions)> {
    let mut out = Vec::new();
    for kernel in Kernel::available().into_iter().chain([Kernel::Auto]) {
        for metric in [Metric::Linf, Metric::L2] {
            for (threads, group_size, leaf_size) in [
                (pool(1), 1, 1),
                (pool(2), 5, 2),
                (pool(3), 48, 12),
                (None, 16, 16),
            ] {
                out.push((
                    SearchOptions {
                        metric,
                        kernel,
                        threads,
                    },
                    IndexOptions {
                        group_size,
                        leaf_size,
                        threads,
                    },
                ));
            }
        }
    }
    out
}

#[test]
fn portable_kernel_is_always_available() {
    let available = Kernel::available();
    assert!(available.contains(&Kernel::Scalar));
    assert!(available.contains(&Kernel::best()));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        assert!(available.contains(&Kernel::Avx2));
    }
    // NEON is part of every aarch64 CPU, and simd128 is fixed when the module is compiled:
    // there the SIMD kernel must be both available and the one chosen.
    #[cfg(target_arch = "aarch64")]
    assert_eq!(Kernel::best(), Kernel::Neon);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    assert_eq!(Kernel::best(), Kernel::Simd128);
}

#[test]
fn every_kernel_matches_brute_force_on_random_data() {
    let mut rng = Rng(7);
    for (case, shape) in shapes().into_iter().enumerate() {
        for (classes, levels) in [(3, 256), (2, 3), (1, 4), (5, 2)] {
            let n_train = 40 + rng.below(160) as usize;
            let n_test = 10 + rng.below(40) as usize;
            let train = random_set(&mut rng, n_train, shape, classes, levels);
            let test = random_set(&mut rng, n_test, shape, classes, levels);
            for metric in [Metric::Linf, Metric::L2] {
                let want_tt = brute(metric, &train, &train, true, true);
                let want_tt_other = brute(metric, &train, &train, false, true);
                let want_te = brute(metric, &train, &test, true, false);
                for (options, index_options) in
                    all_options().into_iter().filter(|o| o.0.metric == metric)
                {
                    let index = Index::build(&train, index_options).unwrap();
                    let ctx = format!(
                        "case {case} {shape:?} classes {classes} levels {levels} {options:?} {index_options:?}"
                    );
                    let got = index
                        .nearest_within(true, &options, &Control::default())
                        .unwrap();
                    assert_eq!(got, want_tt, "train-train with same class, {ctx}");
                    let got = index
                        .nearest_within(false, &options, &Control::default())
                        .unwrap();
                    assert_eq!(got, want_tt_other, "train-train, {ctx}");
                    let got = index
                        .nearest(
                            test.images(),
                            test.labels(),
                            true,
                            &options,
                            &Control::default(),
                        )
                        .unwrap();
                    assert_eq!(got, want_te, "test-train, {ctx}");
                }
            }
        }
    }
}

#[test]
fn simd_kernels_agree_with_scalar_on_image_sized_data() {
    let mut rng = Rng(11);
    let shape = ImageShape::new(1, 28, 28);
    let train = random_set(&mut rng, 600, shape, 10, 7);
    let test = random_set(&mut rng, 150, shape, 10, 256);
    let index = Index::build(&train, IndexOptions::default()).unwrap();
    for metric in [Metric::Linf, Metric::L2] {
        let scalar = SearchOptions {
            metric,
            kernel: Kernel::Scalar,
            threads: pool(2),
        };
        let want_tt = index
            .nearest_within(true, &scalar, &Control::default())
            .unwrap();
        let want_te = index
            .nearest(
                test.images(),
                test.labels(),
                true,
                &scalar,
                &Control::default(),
            )
            .unwrap();
        assert_eq!(want_te, brute(metric, &train, &test, true, false));
        for kernel in Kernel::available() {
            let options = SearchOptions {
                metric,
                kernel,
                threads: pool(2),
            };
            assert_eq!(
                index
                    .nearest_within(true, &options, &Control::default())
                    .unwrap(),
                want_tt,
                "{options:?}"
            );
            let got = index
                .nearest(
                    test.images(),
                    test.labels(),
                    true,
                    &options,
                    &Control::default(),
                )
                .unwrap();
            assert_eq!(got, want_te, "{options:?}");
        }
    }
}

#[test]
fn within_radius_lists_exactly_the_close_cross_class_pairs() {
    let mut rng = Rng(3);
    for shape in [
        ImageShape::new(1, 1, 2),
        ImageShape::new(1, 6, 11),
        ImageShape::new(1, 12, 12),
    ] {
        let train = random_set(&mut rng, 150, shape, 3, 4);
        let index = Index::build(
            &train,
            IndexOptions {
                group_size: 16,
                leaf_size: 4,
                threads: None,
            },
        )
        .unwrap();
        for metric in [Metric::Linf, Metric::L2] {
            let all: Vec<u32> = (0..train.len())
                .flat_map(|i| (0..train.len()).map(move |j| (i, j)))
                .map(|(i, j)| raw_distance(metric, train.image(i), train.image(j)))
                .collect();
            let mut sorted = all.clone();
            sorted.sort_unstable();
            for max_raw in [0, sorted[sorted.len() / 20], sorted[sorted.len() / 2]] {
                for kernel in Kernel::available() {
                    let options = SearchOptions {
                        metric,
                        kernel,
                        threads: pool(2),
                    };
                    let got = index
                        .within_radius(max_raw, &options, &Control::default())
                        .unwrap();
                    for i in 0..train.len() {
                        let want: Vec<u32> = (0..train.len())
                            .filter(|&j| {
                                train.labels()[j] != train.labels()[i]
                                    && all[i * train.len() + j] <= max_raw
                            })
                            .map(|j| j as u32)
                            .collect();
                        assert_eq!(got[i], want, "{metric} {kernel} max {max_raw} query {i}");
                    }
                }
            }
        }
    }
}

#[test]
fn ties_go_to_the_smaller_training_index() {
    // Query 0 (class 0) is at ℓ∞ distance 10 from images 1, 2 and 3 (class 1).
    let images = vec![100, 100, 110, 100, 90, 100, 100, 110, 50, 50];
    let train = Dataset::new(
        ImageShape::new(1, 1, 2),
        images,
        vec![0, 1, 1, 1, 0],
        names(2),
    )
    .unwrap();
    let index = Index::build(
        &train,
        IndexOptions {
            group_size: 1,
            leaf_size: 1,
            threads: pool(1),
        },
    )
    .unwrap();
    for kernel in Kernel::available() {
        let options = SearchOptions {
            metric: Metric::Linf,
            kernel,
            threads: pool(1),
        };
        let got = index
            .nearest_within(false, &options, &Control::default())
            .unwrap();
        assert_eq!(got[0].other, Some(Neighbor { index: 1, raw: 10 }));
    }
}

#[test]
fn report_summarises_distances() {
    // Four 1-pixel points: class 0 at 0 and 51, class 1 at 102 and 255.
    let train = Dataset::new(
        ImageShape::new(1, 1, 1),
        vec![0, 51, 102, 255],
        vec![0, 0, 1, 1],
        names(2),
    )
    .unwrap();
    let index = Index::build(&train, IndexOptions::default()).unwrap();
    let options = SearchOptions::default();
    let nearest = index
        .nearest_within(false, &options, &Control::default())
        .unwrap();
    let report_options = ReportOptions {
        top_k: 2,
        drop_smallest: 1,
        epsilon: Some(0.05),
        bins: 20,
    };
    let r = build_report(
        Split::TrainTrain,
        Metric::Linf,
        train.labels(),
        &index,
        &nearest,
        &report_options,
    )
    .unwrap();
    // Distances: 0→102: 102, 51→102: 51, 102→51: 51, 255→51: 204.
    assert_eq!(r.min, 51.0 / 255.0);
    assert_eq!(r.max, 204.0 / 255.0);
    assert!((r.mean - (102.0 + 51.0 + 51.0 + 204.0) / 4.0 / 255.0).abs() < 1e-12);
    assert_eq!(r.median, (51.0 / 255.0 + 102.0 / 255.0) / 2.0);
    assert_eq!(r.smallest, vec![51.0 / 255.0, 51.0 / 255.0]);
    assert_eq!(r.min_after_drop, 51.0 / 255.0);
    assert_eq!(r.separation, 51.0 / 255.0 / 2.0);
    assert!((r.separation_over_epsilon.unwrap() - 2.0).abs() < 1e-12);
    // Bins of width 0.05: 51/255 = 0.2 → bin 4, 0.4 → 8, 0.8 → 16.
    assert_eq!(r.histogram.counts[4], 2);
    assert_eq!(r.histogram.counts[8], 1);
    assert_eq!(r.histogram.counts[16], 1);
    assert_eq!(r.histogram.fractions.iter().sum::<f64>(), 1.0);
    // The mutual pair 1–2 is listed once.
    assert_eq!(r.closest_pairs.len(), 2);
    assert_eq!(
        (
            r.closest_pairs[0].query_index,
            r.closest_pairs[0].train_index
        ),
        (1, 2)
    );
    assert_eq!(
        (
            r.closest_pairs[0].query_label,
            r.closest_pairs[0].train_label
        ),
        (0, 1)
    );
    assert_eq!(r.closest_pairs[1].query_index, 0);
    let json = serde_json::to_value(&r).unwrap();
    for field in [
        "min",
        "mean",
        "median",
        "histogram",
        "closest_pairs",
        "min_after_drop",
        "separation_over_epsilon",
    ] {
        assert!(json.get(field).is_some(), "{field}");
    }
    assert_eq!(json["split"], "train-train");
    assert_eq!(json["metric"], "linf");
}

#[test]
fn raw_thresholds_match_pixel_units() {
    assert_eq!(Metric::Linf.raw_below(0.2), Some(50));
    assert_eq!(Metric::Linf.raw_below(51.5 / 255.0), Some(51));
    assert_eq!(Metric::Linf.raw_below(0.0), None);
    assert_eq!(Metric::Linf.raw_below(2.0), Some(255));
    assert_eq!(Metric::L2.raw_below(10.0 / 255.0), Some(99));
    for raw in [0u32, 1, 5, 50, 254] {
        let d = Metric::Linf.to_unit(raw);
        assert_eq!(Metric::Linf.raw_below(d), raw.checked_sub(1));
    }
}

#[test]
fn distance_classifier_matches_brute_force() {
    let mut rng = Rng(5);
    let shape = ImageShape::new(1, 4, 5);
    for classes in [2, 4] {
        let train = random_set(&mut rng, 200, shape, classes, 256);
        let test = random_set(&mut rng, 80, shape, classes, 256);
        for metric in [Metric::Linf, Metric::L2] {
            let eps = [0.0, 0.02, 0.05, 0.1];
            let options = SearchOptions {
                metric,
                kernel: Kernel::Auto,
                threads: pool(2),
            };
            let report =
                distance_classifier(&train, &test, &eps, &options, &Control::default()).unwrap();
            let mut correct = 0;
            let mut margins = Vec::new();
            for q in 0..test.len() {
                // Per-class distance, then argmin (ties: class of the smaller training index).
                let mut best = (u32::MAX, usize::MAX);
                let mut per_class = vec![u32::MAX; classes];
                for j in 0..train.len() {
                    let d = raw_distance(metric, test.image(q), train.image(j));
                    let c = usize::from(train.labels()[j]);
                    per_class[c] = per_class[c].min(d);
                    if d < best.0 {
                        best = (d, j);
                    }
                }
                let predicted = train.labels()[best.1];
                assert_eq!(report.predictions[q], predicted, "{metric} query {q}");
                let y = usize::from(test.labels()[q]);
                if predicted == test.labels()[q] {
                    correct += 1;
                    let other = (0..classes)
                        .filter(|&c| c != y)
                        .map(|c| per_class[c])
                        .min()
                        .unwrap();
                    margins.push(metric.to_unit(other) - metric.to_unit(per_class[y]));
                }
            }
            assert_eq!(report.correct, correct);
            assert_eq!(report.clean_accuracy, correct as f64 / test.len() as f64);
            for (c, &e) in report.certified.iter().zip(&eps) {
                assert_eq!(c.epsilon, e);
                assert_eq!(
                    c.astute,
                    margins.iter().filter(|&&m| m > 2.0 * e).count(),
                    "{metric} ε {e}"
                );
            }
        }
    }
}

/// Two noisy interleaved 2-D arms whose classes overlap a little.
fn overlapping_spiral(rng: &mut Rng, per_class: usize) -> Dataset {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for i in 0..per_class {
        for label in 0..2u16 {
            let t = 1.0 + 9.0 * i as f64 / per_class as f64;
            let angle = t + std::f64::consts::PI * f64::from(label);
            let noise = (rng.below(1000) as f64 / 1000.0 - 0.5) * 0.08;
            let radius = 0.045 * t + noise;
            let x = (0.5 + radius * angle.cos()).clamp(0.0, 1.0);
            let y = (0.5 + radius * angle.sin()).clamp(0.0, 1.0);
            images.extend_from_slice(&[(x * 255.0).round() as u8, (y * 255.0).round() as u8]);
            labels.push(label);
        }
    }
    Dataset::new(ImageShape::new(1, 1, 2), images, labels, names(2)).unwrap()
}

/// Smallest vertex cover size by exhaustive search (tiny graphs).
fn min_cover_size(n: usize, edges: &[(usize, usize)]) -> usize {
    (0u32..1 << n)
        .filter(|mask| {
            edges
                .iter()
                .all(|&(a, b)| mask & (1 << a) != 0 || mask & (1 << b) != 0)
        })
        .map(u32::count_ones)
        .min()
        .unwrap() as usize
}

#[test]
fn pruning_two_classes_is_minimum_and_separated() {
    let mut rng = Rng(9);
    // Tiny sets: compare with the exhaustive minimum.
    for trial in 0..30 {
        let train = random_set(&mut rng, 14, ImageShape::new(1, 1, 2), 2, 256);
        let train = if train.class_counts().contains(&0) {
            continue;
        } else {
            train
        };
        let radius = [0.05, 0.15, 0.3][trial % 3];
        for metric in [Metric::Linf, Metric::L2] {
            let options = SearchOptions {
                metric,
                kernel: Kernel::Auto,
                threads: pool(1),
            };
            let report = prune(&train, radius, &options, &Control::default()).unwrap();
            assert_eq!(report.method, PruneMethod::Matching);
            let max_raw = metric.raw_below(2.0 * radius).unwrap();
            let mut edges = Vec::new();
            for i in 0..train.len() {
                for j in i + 1..train.len() {
                    if train.labels()[i] != train.labels()[j]
                        && raw_distance(metric, train.image(i), train.image(j)) <= max_raw
                    {
                        edges.push((i, j));
                    }
                }
            }
            assert_eq!(report.conflicts, edges.len());
            assert_eq!(
                report.removed.len(),
                min_cover_size(train.len(), &edges),
                "trial {trial} {metric}"
            );
            let (_, ok) = verify_separated(&train, &report.removed, radius, &options).unwrap();
            assert!(ok, "trial {trial} {metric}");
        }
    }
    // A spiral with overlapping arms.
    let spiral = overlapping_spiral(&mut rng, 400);
    let options = SearchOptions::default();
    let (before, ok) = verify_separated(&spiral, &[], 0.02, &options).unwrap();
    assert!(!ok, "the test spiral should need pruning (min {before:?})");
    let report = prune(&spiral, 0.02, &options, &Control::default()).unwrap();
    assert!(report.optimal && !report.removed.is_empty());
    assert_eq!(
        report.removed_per_class.iter().sum::<usize>(),
        report.removed.len()
    );
    assert_eq!(report.kept + report.removed.len(), spiral.len());
    let (min, ok) = verify_separated(&spiral, &report.removed, 0.02, &options).unwrap();
    assert!(ok, "pruned spiral min {min:?}");
}

#[test]
fn greedy_pruning_separates_many_classes() {
    let mut rng = Rng(13);
    let train = random_set(&mut rng, 300, ImageShape::new(1, 1, 3), 4, 256);
    for metric in [Metric::Linf, Metric::L2] {
        let options = SearchOptions {
            metric,
            kernel: Kernel::Auto,
            threads: pool(2),
        };
        let radius = 0.04;
        let report = prune(&train, radius, &options, &Control::default()).unwrap();
        assert_eq!(report.method, PruneMethod::Greedy);
        assert!(report.conflicts > 0);
        let (_, ok) = verify_separated(&train, &report.removed, radius, &options).unwrap();
        assert!(ok);
        // Nothing removed needlessly: each removed point conflicts with a kept one.
        let removed: std::collections::HashSet<usize> = report.removed.iter().copied().collect();
        let max_raw = metric.raw_below(2.0 * radius).unwrap();
        for &i in &report.removed {
            assert!((0..train.len()).any(|j| !removed.contains(&j)
                && train.labels()[j] != train.labels()[i]
                && raw_distance(metric, train.image(i), train.image(j)) <= max_raw));
        }
    }
}

#[test]
fn decision_grid_of_a_spiral() {
    let mut rng = Rng(17);
    let spiral = overlapping_spiral(&mut rng, 200);
    let options = SearchOptions::default();
    let report = prune(&spiral, 0.01, &options, &Control::default()).unwrap();
    let keep: Vec<usize> = (0..spiral.len())
        .filter(|i| !report.removed.contains(i))
        .collect();
    let separated = spiral.select(&keep).unwrap();
    let grid = decision_grid(&separated, 33, &options, &Control::default()).unwrap();
    assert_eq!(grid.values.len(), 33 * 33);
    assert!(grid.separation >= 0.01);
    // f at a training point of class 1 is ≥ 1 (its own class at distance 0, the other ≥ 2r).
    for i in 0..separated.len() {
        let p = separated.image(i);
        let (x, y) = (usize::from(p[0]), usize::from(p[1]));
        if let (Some(gi), Some(gj)) = (
            grid.xs.iter().position(|&v| v == x as f64 / 255.0),
            grid.ys.iter().position(|&v| v == y as f64 / 255.0),
        ) {
            let f = grid.values[gj * 33 + gi];
            if separated.labels()[i] == 1 {
                assert!(f >= 1.0, "{f}")
            } else {
                assert!(f <= -1.0, "{f}")
            }
        }
    }
    let positive = grid.values.iter().filter(|&&v| v > 0.0).count();
    assert!(positive > 0 && positive < grid.values.len());
    assert!(
        decision_grid(
            &random_set(&mut rng, 20, ImageShape::new(1, 1, 3), 2, 256),
            10,
            &options,
            &Control::default()
        )
        .is_err()
    );
}

#[test]
fn progress_reaches_the_total_and_cancel_stops() {
    let mut rng = Rng(21);
    let train = random_set(&mut rng, 500, ImageShape::new(1, 8, 8), 3, 256);
    let index = Index::build(&train, IndexOptions::default()).unwrap();
    let seen = AtomicUsize::new(0);
    let progress = |done: usize, total: usize| {
        assert_eq!(total, 500);
        seen.fetch_max(done, Ordering::Relaxed);
    };
    let control = Control {
        progress: Some(&progress),
        cancel: None,
    };
    index
        .nearest_within(false, &SearchOptions::default(), &control)
        .unwrap();
    assert_eq!(seen.load(Ordering::Relaxed), 500);
    let cancel = AtomicBool::new(true);
    let control = Control {
        progress: None,
        cancel: Some(&cancel),
    };
    let err = index
        .nearest_within(false, &SearchOptions::default(), &control)
        .unwrap_err();
    assert!(matches!(err, SeparationError::Cancelled), "{err}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let mut rng = Rng(1);
    let train = random_set(&mut rng, 50, ImageShape::new(1, 4, 4), 3, 256);
    let test = random_set(&mut rng, 10, ImageShape::new(1, 4, 5), 3, 256);
    let options = SearchOptions::default();
    let err = test_train(&train, &test, &options, &Control::default()).unwrap_err();
    assert!(matches!(err, SeparationError::ShapeMismatch { .. }));
    assert!(
        err.to_string().contains("1×4×4") && err.to_string().contains("1×4×5"),
        "{err}"
    );

    let missing = Dataset::new(
        ImageShape::new(1, 1, 2),
        vec![1, 2, 3, 4],
        vec![0, 2],
        names(3),
    )
    .unwrap();
    let err = train_train(&missing, &options, &Control::default()).unwrap_err();
    assert!(
        matches!(err, SeparationError::EmptyClass { class: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("class 1 (c1) has no training images"),
        "{err}"
    );
    let err =
        distance_classifier(&missing, &missing, &[0.1], &options, &Control::default()).unwrap_err();
    assert!(matches!(err, SeparationError::EmptyClass { .. }), "{err}");
    let err = prune(&missing, 0.1, &options, &Control::default()).unwrap_err();
    assert!(matches!(err, SeparationError::EmptyClass { .. }), "{err}");

    let empty = Dataset::new(ImageShape::new(1, 1, 2), vec![], vec![], names(2)).unwrap();
    assert!(matches!(
        Index::build(&empty, IndexOptions::default()),
        Err(SeparationError::EmptySet { .. })
    ));

    let err = "manhattan".parse::<Metric>().unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown metric \"manhattan\": expected linf or l2"),
        "{err}"
    );
    assert_eq!("LINF".parse::<Metric>().unwrap(), Metric::Linf);
    assert_eq!("l2".parse::<Metric>().unwrap(), Metric::L2);
    assert!("avx9000".parse::<Kernel>().is_err());

    let single = random_set(&mut rng, 20, ImageShape::new(1, 2, 2), 1, 256);
    let (index, nearest) = train_train(&single, &options, &Control::default()).unwrap();
    assert!(nearest.iter().all(|n| n.other.is_none()));
    let err = build_report(
        Split::TrainTrain,
        Metric::Linf,
        single.labels(),
        &index,
        &nearest,
        &ReportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, SeparationError::NoCrossClassPairs), "{err}");

    let index = Index::build(&train, IndexOptions::default()).unwrap();
    let err = index
        .nearest(&[0; 15], &[0], false, &options, &Control::default())
        .unwrap_err();
    assert!(err.to_string().contains("15 query bytes"), "{err}");
    let err = index
        .nearest(&[0; 16], &[7], false, &options, &Control::default())
        .unwrap_err();
    assert!(err.to_string().contains("label 7"), "{err}");
    for kernel in Kernel::ALL {
        if !Kernel::available().contains(&kernel) {
            let err = index
                .nearest_within(
                    false,
                    &SearchOptions { kernel, ..options },
                    &Control::default(),
                )
                .unwrap_err();
            assert!(
                matches!(err, SeparationError::KernelUnavailable(..)),
                "{err}"
            );
        }
    }
    assert!(prune(&train, -1.0, &options, &Control::default()).is_err());
    assert!(
        distance_classifier(&train, &train, &[f64::NAN], &options, &Control::default()).is_err()
    );
}
