//! The accuracy–robustness–smoothness picture of Tables 2–4: each run a point at (test
//! accuracy, test accuracy under an attack), coloured by its group (the method), its size
//! growing with its local Lipschitz constant (log scale), labelled where a label fits
//! without covering another (every point keeps its tooltip and link). The robust axis
//! names the attack that measured it.

use plotters::prelude::*;

use super::{LEGEND_ENTRY_HEIGHT, PALETTE, PlotError, axes, err, legend, mesh};

/// One trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeoffPoint {
    pub label: String,
    /// What its colour and the legend say (the method).
    pub group: String,
    pub test_acc: f64,
    pub adv_test_acc: f64,
    pub lipschitz: f64,
    /// Where the point leads when clicked (its run's page), if anywhere.
    pub link: Option<String>,
}

/// The figure's size in pixels: wider than the other figures, since it holds every run
/// and their labels.
const TRADEOFF_SIZE: (u32, u32) = (1000, 600);

/// Marker radius for a Lipschitz constant: 3 px at 1 or below, 3 more per factor of 10.
fn radius(lipschitz: f64) -> i32 {
    (3.0 + 3.0 * lipschitz.max(1.0).log10())
        .round()
        .clamp(3.0, 18.0) as i32
}

/// The points' labels' font size, and the pixels per character and per line it takes
/// (plotters writes size 15 as 12.1 px; an estimate, since the SVG keeps text as text,
/// measured by the viewer's font).
const LABEL_FONT: u32 = 15;
const CHAR_WIDTH: f64 = 6.75;
const LINE_HEIGHT: f64 = 15.0;

/// The corner of the chart that holds the fewest points, for the legend: each corner's
/// box is 40 % of the width by 45 % of the height of the axes' ranges.
fn emptiest_corner(points: &[TradeoffPoint], x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition {
    let within = |p: &TradeoffPoint, right: bool, top: bool| {
        let fx = (p.test_acc - x.0) / (x.1 - x.0);
        let fy = (p.adv_test_acc - y.0) / (y.1 - y.0);
        (if right { fx >= 0.6 } else { fx <= 0.4 }) && (if top { fy >= 0.55 } else { fy <= 0.45 })
    };
    [
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerLeft, false, false),
        (SeriesLabelPosition::UpperRight, true, true),
    ]
    .into_iter()
    .min_by_key(|&(_, right, top)| points.iter().filter(|p| within(p, right, top)).count())
    .map_or(SeriesLabelPosition::LowerRight, |(corner, ..)| corner)
}

/// A label's box: left, top, right, bottom in pixels.
type LabelBox = (f64, f64, f64, f64);

/// Where the legend of `groups` will be drawn in `corner` of the plotting `area`, with a
/// few pixels to spare: plotters draws it after the labels and does not say its size, so
/// this is measured from its output (7.6 px per character after a 52 px swatch and
/// padding, 5 px from the corner).
fn legend_box(groups: &[&str], corner: &SeriesLabelPosition, area: LabelBox) -> LabelBox {
    let widest = groups.iter().map(|g| g.chars().count()).max().unwrap_or(0);
    let (w, h) = (
        widest as f64 * 7.6 + 52.0,
        groups.len() as f64 * LEGEND_ENTRY_HEIGHT + 4.0,
    );
    let (spare, inset) = (4.0, 5.0);
    let left = match corner {
        SeriesLabelPosition::UpperLeft | SeriesLabelPosition::LowerLeft => area.0 + inset,
        _ => area.2 - inset - w,
    };
    let top = match corner {
        SeriesLabelPosition::UpperLeft | SeriesLabelPosition::UpperRight => area.1 + inset,
        _ => area.3 - inset - h,
    };
    (left - spare, top - spare, left + w + spare, top + h + spare)
}

fn overlaps(a: &LabelBox, b: &LabelBox) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Where each label goes (its top-left corner in pixels), or `None` where none of the
/// places beside its marker is free: labels never overlap one another, never cover another
/// point's marker or an obstacle (the legend), nor leave `area`. `markers` are each point's
/// pixel centre and radius, `widths` its label's width.
pub(crate) fn place_labels(
    markers: &[((f64, f64), f64)],
    widths: &[f64],
    area: LabelBox,
    obstacles: &[LabelBox],
) -> Vec<Option<(f64, f64)>> {
    let discs: Vec<LabelBox> = markers
        .iter()
        .map(|&((x, y), r)| (x - r, y - r, x + r, y + r))
        .collect();
    let mut placed: Vec<LabelBox> = Vec::new();
    markers
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(own, (&((x, y), r), &w))| {
            // Beside the marker, right then left, on its row, then one and two rows up
            // and down: ten places that never overlap one another.
            let gap = r + 3.0;
            let candidates = [0.0, -1.0, 1.0, -2.0, 2.0].into_iter().flat_map(|row| {
                let top = y - LINE_HEIGHT / 2.0 + row * LINE_HEIGHT;
                [(x + gap, top), (x - gap - w, top)]
            });
            let spot = candidates.into_iter().find(|&(left, top)| {
                let candidate = (left, top, left + w, top + LINE_HEIGHT);
                candidate.0 >= area.0
                    && candidate.1 >= area.1
                    && candidate.2 <= area.2
                    && candidate.3 <= area.3
                    && !placed.iter().any(|p| overlaps(p, &candidate))
                    && !obstacles.iter().any(|o| overlaps(o, &candidate))
                    && !discs
                        .iter()
                        .enumerate()
                        .any(|(k, disc)| k != own && overlaps(disc, &candidate))
            })?;
            placed.push((spot.0, spot.1, spot.0 + w, spot.1 + LINE_HEIGHT));
            Some(spot)
        })
        .collect()
}

/// A thin line from a marker's edge to its label when the label sits a row or two above or
/// below it (in a crowd), so the reader sees which point it names; `None` on its own row.
fn leader(marker: ((f64, f64), f64), spot: (f64, f64), width: f64) -> Option<[(f64, f64); 2]> {
    let ((x, y), r) = marker;
    let middle = spot.1 + LINE_HEIGHT / 2.0;
    if (middle - y).abs() < LINE_HEIGHT / 2.0 {
        return None;
    }
    Some(if spot.0 > x {
        [(x + r, y), (spot.0, middle)]
    } else {
        [(x - r, y), (spot.0 + width, middle)]
    })
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
        let pad = ((hi - lo) * 0.08).max(0.5);
        ((lo - pad).max(0.0), (hi + pad).min(100.0).max(lo + 1.0))
    };
    let (x0, x1) = span(|p| p.test_acc);
    let (y0, y1) = span(|p| p.adv_test_acc);
    // Groups in order of first appearance, each a colour and a legend entry; the markers
    // are drawn group by group, and linked in that order.
    let mut groups: Vec<&str> = Vec::new();
    for p in points {
        if !groups.contains(&p.group.as_str()) {
            groups.push(&p.group);
        }
    }
    let drawn: Vec<&TradeoffPoint> = groups
        .iter()
        .flat_map(|g| points.iter().filter(move |p| p.group == *g))
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (TRADEOFF_SIZE.0, TRADEOFF_SIZE.1))
            .into_drawing_area();
        let mut chart = axes(&root, title, x0..x1, y0..y1)?;
        mesh(&mut chart)
            .x_desc("test accuracy (%)")
            .y_desc(format!("test accuracy under {attack} (%)"))
            .draw()
            .map_err(err)?;
        for (k, group) in groups.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(points.iter().filter(|p| p.group == *group).map(|p| {
                    Circle::new(
                        (p.test_acc, p.adv_test_acc),
                        radius(p.lipschitz),
                        color.mix(0.6).filled(),
                    )
                }))
                .map_err(err)?
                .label(*group)
                .legend(move |(x, y)| Circle::new((x + 6, y), 5, color.mix(0.6).filled()));
        }
        let labels: Vec<String> = drawn
            .iter()
            .map(|p| format!("{} (L = {:.1})", p.label, p.lipschitz))
            .collect();
        let markers: Vec<((f64, f64), f64)> = drawn
            .iter()
            .map(|p| {
                let (px, py) = chart.backend_coord(&(p.test_acc, p.adv_test_acc));
                (
                    (f64::from(px), f64::from(py)),
                    f64::from(radius(p.lipschitz)),
                )
            })
            .collect();
        let widths: Vec<f64> = labels
            .iter()
            .map(|l| l.chars().count() as f64 * CHAR_WIDTH)
            .collect();
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let area = (
            f64::from(xs.start),
            f64::from(ys.start),
            f64::from(xs.end),
            f64::from(ys.end),
        );
        let corner = emptiest_corner(points, (x0, x1), (y0, y1));
        let spots = place_labels(
            &markers,
            &widths,
            area,
            &[legend_box(&groups, &corner, area)],
        );
        let pixel = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
        for (k, (label, spot)) in labels.iter().zip(spots).enumerate() {
            let Some(spot) = spot else { continue };
            if let Some(line) = leader(markers[k], spot, widths[k]) {
                root.draw(&PathElement::new(line.map(pixel), RGBColor(140, 140, 140)))
                    .map_err(err)?;
            }
            root.draw(&Text::new(
                label.as_str(),
                pixel(spot),
                ("sans-serif", LABEL_FONT),
            ))
            .map_err(err)?;
        }
        legend(&mut chart, corner)?;
        root.present().map_err(err)?;
    }
    Ok(link_markers(&svg, &drawn, attack))
}

/// Wraps the k-th marker of `svg` in a link to `points[k].link`, with a tooltip: plotters
/// draws the markers in the points' order and has no links of its own.
fn link_markers(svg: &str, points: &[&TradeoffPoint], attack: &str) -> String {
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
                group: "natural".into(),
                test_acc: 99.2,
                adv_test_acc: 59.8,
                lipschitz: 67.25,
                link: Some("/runs/a1".into()),
            },
            TradeoffPoint {
                label: "trades:6".into(),
                group: "trades:6".into(),
                test_acc: 97.5,
                adv_test_acc: 93.7,
                lipschitz: 2.87,
                link: None,
            },
        ];
        let svg = tradeoff_svg(&points, "Table 2", "PGD-10").unwrap();
        assert!(svg.contains("natural (L = 67.2)") || svg.contains("natural (L = 67.3)"));
        assert!(svg.contains("trades:6 (L = 2.9)"));
        // Two markers and the legend's two.
        assert_eq!(svg.matches("<circle").count(), 4);
        // The first point links to its run, around its own marker; the second has no link.
        assert_eq!(svg.matches("<a href=").count(), 1);
        let link = svg.find("<a href=\"/runs/a1\"").unwrap();
        let first_circle = svg.find("<circle").unwrap();
        assert!(link < first_circle && first_circle < svg.find("</a>").unwrap());
        assert!(svg.contains("<title>natural: test 99.20 %, PGD-10 59.80 %, L = 67.25</title>"));
        assert!(tradeoff_svg(&[], "none", "PGD-10").is_err());
    }

    /// The number in attribute `name` of the SVG element that `element` starts.
    fn attribute(element: &str, name: &str) -> Option<f64> {
        let at = element.find(&format!(" {name}=\""))? + name.len() + 3;
        element[at..].split('"').next()?.parse().ok()
    }

    /// The boxes of the labels drawn in `svg` (text elements of the labels' font size).
    fn label_boxes(svg: &str) -> Vec<LabelBox> {
        svg.split("<text")
            .skip(1)
            .filter(|t| t.contains("(L = "))
            .filter_map(|t| {
                let text = t.split_once('>')?.1.split_once("</text>")?.0.trim();
                let (x, y) = (attribute(t, "x")?, attribute(t, "y")?);
                Some((
                    x,
                    y,
                    x + text.chars().count() as f64 * CHAR_WIDTH,
                    y + LINE_HEIGHT,
                ))
            })
            .collect()
    }

    #[test]
    fn crowded_labels_never_overlap_and_every_point_keeps_its_tooltip() {
        // Sixteen runs within a point of each other, as a table's robust rows are, and a
        // natural one far from them.
        let points: Vec<TradeoffPoint> = (0..16)
            .map(|k| TradeoffPoint {
                label: format!("cnn2 trades:{k}"),
                group: if k % 2 == 0 { "trades" } else { "at" }.into(),
                test_acc: 97.0 + 0.05 * k as f64,
                adv_test_acc: 93.0 + 0.03 * k as f64,
                lipschitz: 30.0,
                link: Some(format!("/runs/{k}")),
            })
            .chain([TradeoffPoint {
                label: "cnn2 natural".into(),
                group: "natural".into(),
                test_acc: 60.0,
                adv_test_acc: 10.0,
                lipschitz: 300.0,
                link: Some("/runs/n".into()),
            }])
            .collect();
        let svg = tradeoff_svg(&points, "crowded", "PGD-10").unwrap();
        let boxes = label_boxes(&svg);
        assert!(
            !boxes.is_empty() && boxes.len() < points.len(),
            "{} labels",
            boxes.len()
        );
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!overlaps(a, b), "{a:?} overlaps {b:?}");
            }
        }
        assert_eq!(svg.matches("<title>").count(), points.len());
        // The legend names each group once.
        let texts: Vec<&str> = svg
            .split("<text")
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
            .collect();
        for group in ["trades", "at", "natural"] {
            assert_eq!(texts.iter().filter(|t| **t == group).count(), 1, "{group}");
        }
    }

    #[test]
    fn no_label_is_drawn_under_the_legend() {
        let at = |group: &str, test_acc, adv_test_acc| TradeoffPoint {
            label: format!("cnn2 {group}"),
            group: group.into(),
            test_acc,
            adv_test_acc,
            lipschitz: 10.0,
            link: None,
        };
        // Three points in each corner but the lower left, which holds one: the legend goes
        // there, over that point, whose label would sit beside it.
        let mut points = vec![at("natural", 60.0, 20.0)];
        for (x, y) in [(60.0, 80.0), (95.0, 80.0), (95.0, 20.0)] {
            for (k, group) in ["natural", "at", "trades:6"].into_iter().enumerate() {
                points.push(at(group, x + k as f64, y - 3.0 * k as f64));
            }
        }
        let svg = tradeoff_svg(&points, "legend", "PGD-10").unwrap();
        let number = |rect: &str, name: &str| attribute(rect, name).unwrap();
        let rect = svg
            .split("<rect")
            .find(|r| r.contains("fill=\"none\" stroke=\"#000000\""))
            .expect("the legend's border");
        let (x, y) = (number(rect, "x"), number(rect, "y"));
        let legend = (x, y, x + number(rect, "width"), y + number(rect, "height"));
        assert!(
            legend.0 < 200.0 && legend.3 > 400.0,
            "lower left: {legend:?}"
        );
        let labels = label_boxes(&svg);
        assert!(labels.len() >= 9, "{labels:?}");
        for label in labels {
            assert!(!overlaps(&label, &legend), "{label:?} under {legend:?}");
        }
    }

    #[test]
    fn a_label_never_covers_another_point() {
        let area = (0.0, 0.0, 300.0, 200.0);
        // A second point just right of the first: the first's label goes to its left.
        let markers = [((100.0, 100.0), 3.0), ((120.0, 100.0), 5.0)];
        let spots = place_labels(&markers, &[40.0; 2], area, &[]);
        assert_eq!(spots[0], Some((54.0, 100.0 - LINE_HEIGHT / 2.0)));
        // The second's label, right of it, covers neither marker.
        assert_eq!(spots[1], Some((128.0, 100.0 - LINE_HEIGHT / 2.0)));
    }

    #[test]
    fn a_label_takes_the_next_free_place_and_none_leaves_the_area() {
        let area = (0.0, 0.0, 300.0, 200.0);
        let markers = [((100.0, 100.0), 3.0); 12];
        let spots = place_labels(&markers, &[40.0; 12], area, &[]);
        // Ten places around one marker, then none.
        assert_eq!(spots.iter().filter(|s| s.is_some()).count(), 10);
        assert_eq!(spots[10], None);
        assert_eq!(spots[0], Some((106.0, 100.0 - LINE_HEIGHT / 2.0)));
        assert_eq!(spots[1], Some((54.0, 100.0 - LINE_HEIGHT / 2.0)));
        // Near the right edge, the label goes to the left.
        let spots = place_labels(&[((290.0, 100.0), 3.0)], &[40.0], area, &[]);
        assert_eq!(spots[0], Some((244.0, 100.0 - LINE_HEIGHT / 2.0)));
    }

    #[test]
    fn a_label_off_its_row_is_led_to_its_marker() {
        let marker = ((100.0, 100.0), 3.0);
        // On the marker's own row: no line.
        assert_eq!(
            leader(marker, (106.0, 100.0 - LINE_HEIGHT / 2.0), 40.0),
            None
        );
        // A row up, on the right: from the marker's right edge to the label's left end.
        assert_eq!(
            leader(marker, (106.0, 100.0 - 1.5 * LINE_HEIGHT), 40.0),
            Some([(103.0, 100.0), (106.0, 100.0 - LINE_HEIGHT)])
        );
        // Two rows down, on the left: from the left edge to the label's right end.
        assert_eq!(
            leader(marker, (54.0, 100.0 + 1.5 * LINE_HEIGHT), 40.0),
            Some([(97.0, 100.0), (94.0, 100.0 + 2.0 * LINE_HEIGHT)])
        );
    }

    #[test]
    fn the_legend_goes_to_the_emptiest_corner() {
        let at = |test_acc, adv_test_acc| TradeoffPoint {
            label: String::new(),
            group: String::new(),
            test_acc,
            adv_test_acc,
            lipschitz: 1.0,
            link: None,
        };
        let (x, y) = ((0.0, 100.0), (0.0, 100.0));
        // Robust runs up right, natural ones down right: the left side is free, upper first.
        let points = [at(95.0, 90.0), at(96.0, 20.0), at(97.0, 10.0)];
        assert!(matches!(
            emptiest_corner(&points, x, y),
            SeriesLabelPosition::UpperLeft
        ));
        // Nothing down right: the legend's usual place.
        let points = [at(10.0, 90.0), at(90.0, 90.0), at(10.0, 10.0)];
        assert!(matches!(
            emptiest_corner(&points, x, y),
            SeriesLabelPosition::LowerRight
        ));
    }
}
