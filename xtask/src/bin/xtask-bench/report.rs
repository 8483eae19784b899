//! The table and `results.json`: one row per metric (ours, baseline, ratio, target, met).

use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};

/// One metric.
#[derive(Clone, Debug)]
pub struct Row {
    /// What is measured.
    pub metric: String,
    /// Ours, as a number in `unit` (None: not measured).
    pub ours: Option<f64>,
    /// Ours, as printed (median and spread).
    pub ours_text: String,
    /// The baseline, as a number in `unit`.
    pub baseline: Option<f64>,
    /// The baseline, as printed.
    pub baseline_text: String,
    /// ours / baseline.
    pub ratio: Option<f64>,
    /// The target, as printed.
    pub target: String,
    /// Met or not; None for information rows and rows not measured.
    pub met: Option<bool>,
    /// The unit of `ours` and `baseline`.
    pub unit: String,
    /// Everything else worth keeping (rounds, spreads, CPU time, failures).
    pub details: Value,
}

impl Row {
    /// A measured row: ours as a number in `unit` and as printed. No baseline and no target
    /// until [`Row::against`], [`Row::beside`] and [`Row::target`] add them.
    pub fn new(metric: impl Into<String>, unit: &str, ours: f64, ours_text: String) -> Self {
        Self {
            metric: metric.into(),
            ours: Some(ours),
            ours_text,
            baseline: None,
            baseline_text: "-".to_owned(),
            ratio: None,
            target: "info".to_owned(),
            met: None,
            unit: unit.to_owned(),
            details: Value::Null,
        }
    }

    /// A row that could not be measured, with the reason.
    pub fn not_measured(metric: &str, target: &str, reason: &str) -> Self {
        let mut row = Self::new(metric, "", f64::NAN, "NOT MEASURED".to_owned())
            .target(target, None)
            .details(json!({ "not_measured": reason }));
        row.ours = None;
        row
    }

    /// Compared with a baseline (as a number in `unit` and as printed): the ratio is
    /// ours / baseline.
    pub fn against(mut self, baseline: f64, baseline_text: String) -> Self {
        self.ratio = self.ours.map(|ours| ours / baseline);
        self.baseline = Some(baseline);
        self.baseline_text = baseline_text;
        self
    }

    /// A point of reference that is printed but not compared (no baseline number, no ratio).
    pub fn beside(mut self, reference_text: String) -> Self {
        self.baseline_text = reference_text;
        self
    }

    /// Replaces the ratio (when ours / baseline of the medians is not the telling one).
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = Some(ratio);
        self
    }

    /// The target as printed, and whether it was met (None: an information row).
    pub fn target(mut self, target: &str, met: Option<bool>) -> Self {
        self.target = target.to_owned();
        self.met = met;
        self
    }

    /// Everything else worth keeping.
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The row as it stands in `results.json` and in `docs/bench/`.
    pub fn to_json(&self) -> Value {
        json!({
            "metric": self.metric,
            "ours": self.ours,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "unit": self.unit,
            "ours_text": self.ours_text,
            "baseline_text": self.baseline_text,
            "details": self.details,
        })
    }

    fn met_text(&self) -> &'static str {
        match self.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None if self.ours.is_none() => "NOT MEASURED",
            None => "info",
        }
    }
}

/// The median of `values` (NaN when none is finite).
pub fn median(values: &[f64]) -> f64 {
    spread(values).0
}

/// The value at fraction `p` of `sorted` (nearest rank; NaN when empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Median, min and max of `values` (which must not be empty).
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// `median [min–max] unit` with a sensible number of digits.
pub fn fmt_spread(values: &[f64], unit: &str) -> String {
    let (m, lo, hi) = spread(values);
    format!("{} [{}–{}] {unit}", num(m), num(lo), num(hi))
}

/// A number with about three significant digits.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        "?".to_owned()
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// Prints the table on stdout.
pub fn print_table(rows: &[Row]) {
    let headers = ["metric", "ours", "baseline", "ratio", "target", "met?"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.metric.clone(),
                r.ours_text.clone(),
                r.baseline_text.clone(),
                r.ratio.map_or("-".to_owned(), |x| format!("{}×", num(x))),
                r.target.clone(),
                r.met_text().to_owned(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: [&str; 6]| {
        let parts: Vec<String> = cols
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    line(headers);
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", dashes.join("-|-"));
    for row in &cells {
        line([
            row[0].as_str(),
            row[1].as_str(),
            row[2].as_str(),
            row[3].as_str(),
            row[4].as_str(),
            row[5].as_str(),
        ]);
    }
}

/// Writes `results.json`.
pub fn write_json(path: &Path, rows: &[Row], context: Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let rows: Vec<Value> = rows.iter().map(Row::to_json).collect();
    let doc = json!({ "context": context, "rows": rows });
    std::fs::write(path, serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}
