//! The accuracy–robustness–smoothness picture of Tables 2–4: each run a point at (test
//! accuracy, test accuracy under an attack), its size growing with its local Lipschitz
//! constant (log scale), labelled. The robust axis names the attack that measured it.

use plotters::prelude::*;

use super::{PALETTE, PlotError, axes, err};

/// One trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeoffPoint {
    pub label: String,
    pub test_acc: f64,
    pub adv_test_acc: f64,
    pub lipschitz: f64,
    /// Where the point leads when clicked (its run's page), if anywhere.
    pub link: Option<String>,
}

/// Marker radius for a Lipschitz constant: 3 px at 1 or below, 3 more per factor of 10.
fn radius(lipschitz: f64) -> i32 {
    (3.0 + 3.0 * lipschitz.max(1.0).log10())
        .round()
        .clamp(3.0, 18.0) as i32
}

/// The figure of `points`, whose `adv_test_acc` was measured by the attack `attack`
/// (`PGD-10`, `AutoAttack`).
pub fn tradeoff_svg(
    points: &[TradeoffPoint],
    title: &str,
    attack: &str,
) -> Result<String, PlotError> {
    if points.is_empty() {
        return Err(PlotError("no run to draw".to_string()));
    }
    let span = |f: fn(&TradeoffPoint) -> f64| {
        let (lo, hi) = points
            .iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        ((lo - 5.0).max(0.0), (hi + 5.0).min(100.0).max(lo + 1.0))
    };
    let (x0, x1) = span(|p| p.test_acc);
    let (y0, y1) = span(|p| p.adv_test_acc);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 520)).into_drawing_area();
        let mut chart = axes(&root, title, x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc("test accuracy (%)")
            .y_desc(format!("test accuracy under {attack} (%)"))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(points.iter().enumerate().map(|(k, p)| {
                let color = PALETTE[k % PALETTE.len()];
                let label = format!("{} (L = {:.1})", p.label, p.lipschitz);
                // Labels of points in the right part of the chart go to their left, so
                // they stay inside the figure (about 6.5 px per character at 12 px).
                let dx = if p.test_acc > x0 + 0.6 * (x1 - x0) {
                    -8 - (label.chars().count() as f64 * 6.5) as i32
                } else {
                    8
                };
                EmptyElement::at((p.test_acc, p.adv_test_acc))
                    + Circle::new((0, 0), radius(p.lipschitz), color.mix(0.6).filled())
                    + Text::new(label, (dx, -14), ("sans-serif", 12))
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(link_markers(&svg, points, attack))
}

/// Wraps the k-th marker of `svg` in a link to `points[k].link`, with a tooltip: plotters
/// draws the markers in the points' order and has no links of its own.
fn link_markers(svg: &str, points: &[TradeoffPoint], attack: &str) -> String {
    let mut out = String::with_capacity(svg.len() + points.len() * 80);
    let mut rest = svg;
    for point in points {
        let Some(start) = rest.find("<circle") else {
            break;
        };
        let Some(length) = rest[start..].find("/>") else {
            break;
        };
        let end = start + length + 2;
        out.push_str(&rest[..start]);
        match &point.link {
            Some(link) => out.push_str(&format!(
                "<a href=\"{}\" target=\"_top\"><title>{}: test {:.2} %, {} {:.2} %, L = {:.2}</title>{}</a>",
                escape(link),
                escape(&point.label),
                point.test_acc,
                escape(attack),
                point.adv_test_acc,
                point.lipschitz,
                &rest[start..end]
            )),
            None => out.push_str(&rest[start..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_size_grows_with_the_log_of_the_constant() {
        assert_eq!(radius(0.5), 3);
        assert_eq!(radius(10.0), 6);
        assert_eq!(radius(1000.0), 12);
        assert_eq!(radius(1e12), 18);
    }

    #[test]
    fn every_run_is_drawn_with_its_label() {
        let points = [
            TradeoffPoint {
                label: "natural".into(),
                test_acc: 99.2,
                adv_test_acc: 59.8,
                lipschitz: 67.25,
                link: Some("/runs/a1".into()),
            },
            TradeoffPoint {
                label: "trades:6".into(),
                test_acc: 97.5,
                adv_test_acc: 93.7,
                lipschitz: 2.87,
                link: None,
            },
        ];
        let svg = tradeoff_svg(&points, "Table 2", "PGD-10").unwrap();
        assert!(svg.contains("natural (L = 67.2)") || svg.contains("natural (L = 67.3)"));
        assert!(svg.contains("trades:6 (L = 2.9)"));
        assert_eq!(svg.matches("<circle").count(), 2);
        // The first point links to its run, around its own marker; the second has no link.
        assert_eq!(svg.matches("<a href=").count(), 1);
        let link = svg.find("<a href=\"/runs/a1\"").unwrap();
        let first_circle = svg.find("<circle").unwrap();
        assert!(link < first_circle && first_circle < svg.find("</a>").unwrap());
        assert!(svg.contains("<title>natural: test 99.20 %, PGD-10 59.80 %, L = 67.25</title>"));
        assert!(tradeoff_svg(&[], "none", "PGD-10").is_err());
    }
}
