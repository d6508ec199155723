//! The distance classifier of Theorem 4.2 and the binary function of Theorem 4.4.
//!
//! With X_i the training images of class i and r the separation, f(x)_i = dist(x, X_i) / r
//! and g(x) = argmin_i f(x)_i: the class of the nearest training image (ties: the smaller
//! training index). g is astute at radius ε on a test point (x, y) whenever it is correct and
//! min_{j≠y} dist(x, X_j) − dist(x, X_y) > 2ε, by the triangle inequality, so the certified
//! robust accuracy below needs no attack.

use super::{
    Control, Index, Metric, Nearest, SearchOptions, SeparationError, Split, check_classes,
    check_pair,
};
use crate::data::Dataset;

/// Astuteness certified at one radius.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CertifiedPoint {
    pub epsilon: f64,
    /// Test points predicted correctly with a margin above 2ε.
    pub astute: usize,
    /// `astute` / number of test points.
    pub astuteness: f64,
}

/// The distance classifier on a test set.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassifierReport {
    pub metric: Metric,
    pub test: usize,
    pub train: usize,
    pub correct: usize,
    pub clean_accuracy: f64,
    pub certified: Vec<CertifiedPoint>,
    /// Predicted class of every test image.
    pub predictions: Vec<u16>,
}

/// Prediction and margin (pixel units, `+∞` with a single class) of one query.
fn decide(metric: Metric, label: u16, n: &Nearest, index: &Index) -> (u16, f64) {
    match (n.same, n.other) {
        (Some(s), Some(o)) => {
            let predicted = if (s.raw, s.index) < (o.raw, o.index) {
                label
            } else {
                index.label(o.index as usize)
            };
            (predicted, metric.to_unit(o.raw) - metric.to_unit(s.raw))
        }
        (Some(_), None) => (label, f64::INFINITY),
        (None, Some(o)) => (index.label(o.index as usize), f64::NEG_INFINITY),
        (None, None) => (label, f64::NEG_INFINITY),
    }
}

/// Runs the distance classifier (trained on `train`) on `test`: predictions, clean accuracy
/// and certified astuteness at each ε of `epsilons`. Exact and attack-free.
pub fn distance_classifier(
    train: &Dataset,
    test: &Dataset,
    epsilons: &[f64],
    options: &SearchOptions,
    control: &Control<'_>,
) -> Result<ClassifierReport, SeparationError> {
    check_classes(train)?;
    check_pair(train, test)?;
    if let Some(&bad) = epsilons.iter().find(|e| !e.is_finite() || **e < 0.0) {
        return Err(SeparationError::Invalid(format!(
            "ε = {bad} is not a non-negative number"
        )));
    }
    let index = Index::for_search(train, options)?;
    let nearest = index.nearest(test.images(), test.labels(), true, options, control)?;
    let mut predictions = Vec::with_capacity(test.len());
    let mut margins = Vec::with_capacity(test.len());
    let mut correct = 0;
    for (n, &y) in nearest.iter().zip(test.labels()) {
        let (p, margin) = decide(options.metric, y, n, &index);
        predictions.push(p);
        if p == y {
            correct += 1;
            margins.push(margin);
        }
    }
    let total = test.len() as f64;
    let certified = epsilons
        .iter()
        .map(|&epsilon| {
            let astute = margins.iter().filter(|&&m| m > 2.0 * epsilon).count();
            CertifiedPoint {
                epsilon,
                astute,
                astuteness: astute as f64 / total,
            }
        })
        .collect();
    Ok(ClassifierReport {
        metric: options.metric,
        test: test.len(),
        train: train.len(),
        correct,
        clean_accuracy: correct as f64 / total,
        certified,
        predictions,
    })
}

/// The binary function f(x) = (dist(x, X−) − dist(x, X+)) / (2r) of Theorem 4.4 on a grid
/// over a 2-D dataset (class 1 is X+, class 0 is X−): the heat map of Figure 4. f > 0 where
/// the classifier says class 1; |f| ≥ 1 at distance r or more from the decision boundary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecisionGrid {
    pub metric: Metric,
    pub resolution: usize,
    /// Grid coordinates (pixel units) along the first and second feature.
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// f, row by row: `values[j * resolution + i]` is at (xs[i], ys[j]).
    pub values: Vec<f64>,
    /// The training set's separation r (half its minimum Train–Train distance).
    pub separation: f64,
    pub positive_class: u16,
}

/// Evaluates Theorem 4.4's f on a `resolution × resolution` grid of byte coordinates over
/// `[0, 1]²` (exact on the grid), for a two-class dataset of 2-D points.
pub fn decision_grid(
    train: &Dataset,
    resolution: usize,
    options: &SearchOptions,
    control: &Control<'_>,
) -> Result<DecisionGrid, SeparationError> {
    if train.shape().len() != 2 {
        return Err(SeparationError::Invalid(format!(
            "the decision grid needs 2-D points, not images of {} values",
            train.shape().len()
        )));
    }
    if train.num_classes() != 2 {
        return Err(SeparationError::Invalid(format!(
            "the decision grid needs two classes, not {}",
            train.num_classes()
        )));
    }
    if !(2..=256).contains(&resolution) {
        return Err(SeparationError::Invalid(format!(
            "grid resolution {resolution} is not in 2..=256"
        )));
    }
    let (index, within) = super::train_train(train, options, control)?;
    let report = super::build_report(
        Split::TrainTrain,
        options.metric,
        train.labels(),
        &index,
        &within,
        &super::ReportOptions::default(),
    )?;
    let r = report.separation;
    if r <= 0.0 {
        return Err(SeparationError::Invalid(
            "the two classes share a point (separation 0): f is undefined".to_string(),
        ));
    }
    let coords: Vec<u8> = (0..resolution)
        .map(|i| ((i * 255 + (resolution - 1) / 2) / (resolution - 1)) as u8)
        .collect();
    let mut images = Vec::with_capacity(resolution * resolution * 2);
    for &y in &coords {
        for &x in &coords {
            images.extend_from_slice(&[x, y]);
        }
    }
    // Label every grid point 0 (X−): "same" is then X− and "other" X+.
    let labels = vec![0u16; resolution * resolution];
    let nearest = index.nearest(&images, &labels, true, options, control)?;
    let values = nearest
        .iter()
        .map(|n| {
            let minus = n
                .same
                .map_or(f64::INFINITY, |s| options.metric.to_unit(s.raw));
            let plus = n
                .other
                .map_or(f64::INFINITY, |o| options.metric.to_unit(o.raw));
            (minus - plus) / (2.0 * r)
        })
        .collect();
    let axis: Vec<f64> = coords.iter().map(|&c| f64::from(c) / 255.0).collect();
    Ok(DecisionGrid {
        metric: options.metric,
        resolution,
        xs: axis.clone(),
        ys: axis,
        values,
        separation: r,
        positive_class: 1,
    })
}
