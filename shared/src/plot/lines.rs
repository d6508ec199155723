//! Line charts: training curves (loss per epoch), accuracy as a function of ε.

use plotters::prelude::*;

use super::{PALETTE, PlotError, axes, err, legend, mesh};

/// One line: its legend label and its (x, y) points in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Every series on one pair of axes, each with its markers, and a legend.
pub fn lines_svg(
    series: &[Series],
    title: &str,
    x_desc: &str,
    y_desc: &str,
) -> Result<String, PlotError> {
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    if all().next().is_none() {
        return Err(PlotError("no point to draw".to_string()));
    }
    let (mut x0, mut x1, mut y0, mut y1) = all().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), (x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    );
    // Whole x (epochs) are ticked at whole numbers only.
    let whole_x = all().all(|(x, _)| x.fract() == 0.0) && x1 - x0 <= 30.0;
    if x1 <= x0 {
        (x0, x1) = (x0 - 0.5, x1 + 0.5);
    }
    let pad = ((y1 - y0) * 0.08).max(1e-6);
    // Quantities that cannot be negative (losses, accuracies) are drawn from zero, so a
    // flat curve looks flat instead of filling the chart.
    (y0, y1) = (if y0 >= 0.0 { 0.0 } else { y0 - pad }, y1 + pad);
    let whole = |x: &f64| format!("{x:.0}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 460)).into_drawing_area();
        let mut chart = axes(&root, title, x0..x1, y0..y1)?;
        let mut axes_style = mesh(&mut chart);
        axes_style.x_desc(x_desc).y_desc(y_desc);
        if whole_x {
            axes_style
                .x_labels((x1 - x0) as usize + 1)
                .x_label_formatter(&whole);
        }
        axes_style.draw().map_err(err)?;
        for (k, s) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of every `<text>` element of `svg`.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn a_flat_loss_is_drawn_flat_from_zero_over_whole_epochs() {
        let series = [Series {
            label: "loss".into(),
            points: vec![(1.0, 2.306), (2.0, 2.301), (3.0, 2.298)],
        }];
        let svg = lines_svg(&series, "t", "epoch", "loss").unwrap();
        let labels = texts(&svg);
        // The y axis starts at zero...
        assert!(labels.iter().any(|t| t == "0" || t == "0.0"), "{labels:?}");
        // ...and the epochs are ticked 1, 2, 3 and nothing between.
        for epoch in ["1", "2", "3"] {
            assert!(
                labels.iter().any(|t| t == epoch),
                "no tick {epoch}: {labels:?}"
            );
        }
        assert!(
            !labels
                .iter()
                .any(|t| ["1.2", "1.4", "2.6", "2.8"].contains(&t.as_str())),
            "{labels:?}"
        );
    }
}
