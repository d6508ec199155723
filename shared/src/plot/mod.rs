//! SVG figures drawn with plotters (no system fonts needed: the SVG keeps text as text).

mod lines;
mod tradeoff;

pub use lines::{Series, lines_svg};
pub use tradeoff::{TradeoffPoint, tradeoff_svg};

use crate::separation::{DecisionGrid, SeparationReport};
use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Colours of successive series or groups: enough for a table's eleven methods or a
/// dozen overlaid runs (Tableau's 10, then two more).
const PALETTE: [RGBColor; 12] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
    RGBColor(31, 31, 31),
    RGBColor(0, 150, 200),
];

/// A figure could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the figure failed: {0}")]
pub struct PlotError(String);

fn err<E: core::fmt::Display>(e: E) -> PlotError {
    PlotError(e.to_string())
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Font sizes in plotters' units (its SVG writes size / 1.24 pixels): a figure is drawn
/// 760 px wide and shown at up to that width, down to 600 px on a phone, so tick labels
/// stay at 11 px or more there.
const TITLE_FONT: u32 = 26;
const AXIS_FONT: u32 = 20;
const TICK_FONT: u32 = 18;
const LEGEND_FONT: u32 = 17;
/// The height of one legend entry at that font, measured from plotters' output.
const LEGEND_ENTRY_HEIGHT: f64 = 22.4;

/// A white canvas with a titled pair of axes: the layout every figure shares.
fn axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    x: core::ops::Range<f64>,
    y: core::ops::Range<f64>,
) -> Result<Chart<'a, 'b>, PlotError> {
    root.fill(&WHITE).map_err(err)?;
    ChartBuilder::on(root)
        .caption(title, ("sans-serif", TITLE_FONT))
        .margin(12)
        // Half the widest x tick label ("100.0"), which is centred on the axis's end.
        .margin_right(30)
        .x_label_area_size(58)
        .y_label_area_size(78)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// The axes' ticks and descriptions, in the figures' fonts.
fn mesh<'m, 'a, 'b>(
    chart: &'m mut Chart<'a, 'b>,
) -> MeshStyle<'a, 'm, RangedCoordf64, RangedCoordf64, SVGBackend<'b>> {
    let mut mesh = chart.configure_mesh();
    mesh.label_style(("sans-serif", TICK_FONT))
        .axis_desc_style(("sans-serif", AXIS_FONT));
    mesh
}

/// The legend box every figure draws.
fn legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    position: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", LEGEND_FONT))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()
        .map_err(err)
}

/// Figure 3: histograms of the distance to the nearest training image of another class
/// (one per report, e.g. Train–Train and Test–Train, overlaid), with dashed lines at each
/// minimum and, when ε is known, at 2ε.
pub fn separation_histogram_svg(
    reports: &[&SeparationReport],
    title: &str,
) -> Result<String, PlotError> {
    let first = reports
        .first()
        .ok_or_else(|| PlotError("no report to draw".to_string()))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 460)).into_drawing_area();
        let lo = first.histogram.lo;
        let hi = reports
            .iter()
            .map(|r| r.histogram.hi)
            .fold(first.histogram.hi, f64::max);
        // Headroom above the tallest bar for the legend (two entries per report, one for
        // 2ε, on a plot about 330 px high), so it covers no bar.
        let entries = 2 * reports.len() + usize::from(first.epsilon.is_some());
        let legend_share = (LEGEND_ENTRY_HEIGHT * entries as f64 + 24.0) / 330.0;
        let top = reports
            .iter()
            .flat_map(|r| r.histogram.fractions.iter().copied())
            .fold(0.0, f64::max)
            .max(0.01)
            / (1.0 - legend_share).max(0.3);
        let mut chart = axes(&root, title, lo..hi, 0.0..top)?;
        mesh(&mut chart)
            .disable_x_mesh()
            .x_desc(format!(
                "{} distance to the nearest training point of another class",
                first.metric.symbol()
            ))
            .y_desc("fraction of points")
            .draw()
            .map_err(err)?;
        for (k, report) in reports.iter().enumerate() {
            let h = &report.histogram;
            let color = PALETTE[k % PALETTE.len()];
            let width = (h.hi - h.lo) / h.fractions.len().max(1) as f64;
            chart
                .draw_series(h.fractions.iter().enumerate().map(|(i, &f)| {
                    let x0 = h.lo + i as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, f)], color.mix(0.55).filled())
                }))
                .map_err(err)?
                .label(format!("{} ({} points)", report.split, report.measured))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.mix(0.55).filled())
                });
            chart
                .draw_series(DashedLineSeries::new(
                    [(report.min, 0.0), (report.min, top)],
                    8,
                    5,
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("{} min = {:.4}", report.split, report.min))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        if let Some(eps) = first.epsilon {
            let two_eps = 2.0 * eps;
            chart
                .draw_series(DashedLineSeries::new(
                    [(two_eps, 0.0), (two_eps, top)],
                    4,
                    4,
                    BLACK.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("2ε = {two_eps:.4}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Figure 4: Theorem 4.4's f on a grid as a heat map (blue below 0, red above, saturating at
/// |f| = 1), with the training points on top.
pub fn decision_grid_svg(
    grid: &DecisionGrid,
    points: &[(f64, f64, u16)],
    title: &str,
) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (620, 620)).into_drawing_area();
        let mut chart = axes(&root, title, 0.0..1.0, 0.0..1.0)?;
        mesh(&mut chart).disable_mesh().draw().map_err(err)?;
        let n = grid.resolution;
        let step = 1.0 / (n - 1) as f64;
        chart
            .draw_series((0..n * n).map(|k| {
                let (i, j) = (k % n, k / n);
                let (x, y) = (grid.xs[i], grid.ys[j]);
                let v = grid.values[k].clamp(-1.0, 1.0);
                let t = v.abs();
                let shade = |c: u8| (255.0 - t * (255.0 - f64::from(c))) as u8;
                let color = if v >= 0.0 {
                    RGBColor(255, shade(60), shade(60))
                } else {
                    RGBColor(shade(60), shade(60), 255)
                };
                Rectangle::new(
                    [
                        (x - step * 0.6, y - step * 0.6),
                        (x + step * 0.6, y + step * 0.6),
                    ],
                    color.filled(),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(points.iter().map(|&(x, y, label)| {
                let color = if label == grid.positive_class {
                    RGBColor(150, 0, 0)
                } else {
                    RGBColor(0, 0, 150)
                };
                Circle::new((x, y), 2, color.filled())
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The font size in pixels of every text element of `svg`.
    fn font_sizes(svg: &str) -> Vec<f64> {
        svg.split("font-size=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn every_figure_writes_its_text_at_twelve_pixels_or_more() {
        let curve = lines_svg(
            &[Series {
                label: "loss".into(),
                points: vec![(1.0, 0.9), (2.0, 0.4)],
            }],
            "Run 1: training",
            "epoch",
            "mean training loss",
        )
        .unwrap();
        let scatter = tradeoff_svg(
            &[TradeoffPoint {
                label: "cnn2 at".into(),
                group: "at".into(),
                test_acc: 80.0,
                adv_test_acc: 70.0,
                lipschitz: 10.0,
                link: None,
            }],
            "Table 2",
            "PGD-10",
        )
        .unwrap();
        for svg in [curve, scatter] {
            let sizes = font_sizes(&svg);
            // Ticks, axis descriptions, title and legend, at the least.
            assert!(sizes.len() >= 6, "{sizes:?}");
            assert!(sizes.iter().all(|&px| px >= 12.0), "{sizes:?}");
        }
    }
}
