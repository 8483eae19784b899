//! `xtask-bench plot --root DIR` (`cargo xtask bench --plot`): a chart of each row's ratio over
//! the runs kept in `docs/bench/*.json`, written to `docs/bench/ratios.svg`, so the trend shows
//! at a glance. The SVG is written here by hand: a few lines and labels need no plotting crate.
//!
//! Runs are ordered by `date_unix`; a row is a series by its `metric` name (see "Rows come and
//! go" in `docs/bench/README.md`), plotted where its ratio is a finite positive number. The
//! ratio axis is logarithmic, so 0.5× and 2× sit at the same distance from the 1× line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use serde_json::Value;

/// The kept runs, under the workspace root.
const RUNS_DIR: &str = "docs/bench";
/// The chart, under the workspace root.
pub const CHART: &str = "docs/bench/ratios.svg";

/// Where the chart's parts sit, in SVG pixels.
struct Layout {
    /// The whole chart.
    width: f64,
    /// The plotting area, between the top margin and the run labels.
    plot_height: f64,
    /// Room for the ratio labels.
    margin_left: f64,
    /// Room after the last run's label.
    margin_right: f64,
    /// Room for the title.
    margin_top: f64,
    /// Room for the run labels under the plot.
    axis_labels: f64,
    /// One legend entry.
    legend_line: f64,
}

const LAYOUT: Layout = Layout {
    width: 960.0,
    plot_height: 420.0,
    margin_left: 64.0,
    margin_right: 24.0,
    margin_top: 40.0,
    axis_labels: 40.0,
    legend_line: 18.0,
};
/// Colours told apart by most readers (Okabe–Ito), then dashes once they run out.
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999",
];
const DASHES: [&str; 3] = ["", "6 3", "2 3"];

/// One kept run: its name (the file stem) and each row's ratio by metric.
#[derive(Debug, PartialEq)]
struct Run {
    name: String,
    date_unix: i64,
    ratios: Vec<(String, f64)>,
}

/// `xtask-bench plot --root DIR`: reads the kept runs, writes the chart; prints its path.
pub fn plot(args: &[String]) -> Result<()> {
    let root = match args {
        [flag, root] if flag == "--root" => PathBuf::from(root),
        [] => std::env::current_dir()?,
        _ => anyhow::bail!("usage: xtask-bench plot [--root DIR]"),
    };
    let runs = read_runs(&root.join(RUNS_DIR))?;
    ensure!(
        !runs.is_empty(),
        "no runs in {}",
        root.join(RUNS_DIR).display()
    );
    let out = root.join(CHART);
    std::fs::write(&out, svg(&runs))?;
    println!("wrote {} ({} runs)", out.display(), runs.len());
    Ok(())
}

/// Every `*.json` of `dir`, oldest run first.
fn read_runs(dir: &Path) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let doc: Value =
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        runs.push(parse_run(name, &doc));
    }
    runs.sort_by(|a, b| (a.date_unix, &a.name).cmp(&(b.date_unix, &b.name)));
    Ok(runs)
}

fn parse_run(name: String, doc: &Value) -> Run {
    let ratios = doc["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let ratio = row["ratio"]
                .as_f64()
                .filter(|r| r.is_finite() && *r > 0.0)?;
            Some((row["metric"].as_str()?.trim().to_owned(), ratio))
        })
        .collect();
    Run {
        name,
        date_unix: doc["date_unix"].as_i64().unwrap_or(0),
        ratios,
    }
}

/// The chart of `runs` (which must not be empty).
fn svg(runs: &[Run]) -> String {
    let Layout {
        width,
        plot_height,
        margin_left,
        margin_right,
        margin_top,
        axis_labels,
        legend_line,
    } = LAYOUT;
    // Series in the order they first appear, each a list of (run index, ratio).
    let mut order: Vec<&str> = Vec::new();
    let mut series: BTreeMap<&str, Vec<(usize, f64)>> = BTreeMap::new();
    for (i, run) in runs.iter().enumerate() {
        for (metric, ratio) in &run.ratios {
            if !series.contains_key(metric.as_str()) {
                order.push(metric);
            }
            series.entry(metric).or_default().push((i, *ratio));
        }
    }
    let all = series.values().flatten().map(|(_, r)| r.log2());
    let (lo, hi) = all.fold((0.0_f64, 0.0_f64), |(lo, hi), l| (lo.min(l), hi.max(l)));
    let (lo, hi) = (lo.floor().min(-1.0), hi.ceil().max(1.0));
    let plot_width = width - margin_left - margin_right;
    let x = |i: usize| {
        let span = (runs.len().max(2) - 1) as f64;
        margin_left + plot_width * if runs.len() < 2 { 0.5 } else { i as f64 / span }
    };
    let y = |ratio: f64| margin_top + plot_height * (hi - ratio.log2()) / (hi - lo);
    let legend_top = margin_top + plot_height + axis_labels;
    let height = legend_top + legend_line * order.len() as f64 + 8.0;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{margin_left}" y="24" font-size="15">cargo xtask bench: each row's ratio (ours / baseline) per kept run, log scale</text>"#
    );
    // Gridlines at each power of two; the 1× line stronger.
    for power in (lo as i32)..=(hi as i32) {
        let ratio = 2f64.powi(power);
        let (stroke, stroke_width) = if power == 0 {
            ("#444", 1.5)
        } else {
            ("#ddd", 1.0)
        };
        let yy = y(ratio);
        let _ = writeln!(
            out,
            r#"<line x1="{margin_left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{stroke}" stroke-width="{stroke_width}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}×</text>"#,
            width - margin_right,
            margin_left - 6.0,
            yy + 4.0,
            trim_number(ratio)
        );
    }
    for (i, run) in runs.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(i),
            margin_top + plot_height + 18.0,
            escape(&run.name)
        );
    }
    for (n, metric) in order.iter().enumerate() {
        let colour = COLOURS[n % COLOURS.len()];
        let dash = DASHES[(n / COLOURS.len()) % DASHES.len()];
        let points: Vec<String> = series[metric]
            .iter()
            .map(|&(i, r)| format!("{:.1},{:.1}", x(i), y(r)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
            points.join(" ")
        );
        for &(i, r) in &series[metric] {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: {:.3}×</title></circle>"#,
                x(i),
                y(r),
                escape(metric),
                r
            );
        }
        let ly = legend_top + legend_line * n as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{margin_left}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            margin_left + 28.0,
            margin_left + 36.0,
            ly + 4.0,
            escape(metric)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// `0.25`, `0.5`, `1`, `2`: a power of two without trailing zeros.
fn trim_number(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Text safe inside an SVG element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(name: &str, date_unix: i64, rows: Value) -> Run {
        parse_run(
            name.to_owned(),
            &json!({ "date_unix": date_unix, "rows": rows }),
        )
    }

    #[test]
    fn a_run_keeps_the_rows_with_a_ratio() {
        let kept = run(
            "2026-12-06",
            5,
            json!([
                { "metric": "v5 vs wiremock", "ratio": 0.7 },
                { "metric": "  RS256 verify alone", "ratio": null },
                { "metric": "broken", "ratio": "x" },
                { "metric": "zero", "ratio": 0.0 },
            ]),
        );
        assert_eq!(kept.ratios, vec![("v5 vs wiremock".to_owned(), 0.7)]);
        assert_eq!(kept.date_unix, 5);
    }

    #[test]
    fn the_chart_has_a_line_and_a_legend_entry_per_row_and_a_label_per_run() {
        let runs = [
            run(
                "2026-12-06",
                1,
                json!([{ "metric": "a <b>", "ratio": 0.5 }, { "metric": "c", "ratio": 3.0 }]),
            ),
            run(
                "2026-12-07",
                2,
                json!([{ "metric": "a <b>", "ratio": 1.2 }]),
            ),
        ];
        let chart = svg(&runs);
        assert!(chart.starts_with("<svg"));
        assert!(chart.trim_end().ends_with("</svg>"));
        assert_eq!(chart.matches("<polyline").count(), 2);
        assert_eq!(chart.matches("<circle").count(), 3);
        assert!(chart.contains(">2026-12-06</text>") && chart.contains(">2026-12-07</text>"));
        assert!(chart.contains("a &lt;b&gt;") && !chart.contains("a <b>"));
        // The axis reaches 4× (above 3×) and 0.5×, with the 1× line between.
        for label in [">4×<", ">1×<", ">0.5×<"] {
            assert!(chart.contains(label), "no {label} label");
        }
    }

    #[test]
    fn the_committed_runs_plot() -> Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let runs = read_runs(&root.join(RUNS_DIR))?;
        assert!(runs.len() >= 2);
        assert!(runs.windows(2).all(|w| w[0].date_unix <= w[1].date_unix));
        assert!(runs.iter().all(|r| !r.ratios.is_empty()));
        Ok(())
    }
}
