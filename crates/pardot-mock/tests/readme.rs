//! The README documents what the code serves: every admin route (read from the sources as
//! text), every [`Route`] and every [`Outcome`] (from their lists), and nothing else in the
//! Counters table. Handlers report typed outcomes, so the compiler, not this test, keeps them
//! inside the vocabulary.

use std::path::PathBuf;

use pardot_mock::{Outcome, Route};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(crate_dir().join("README.md")).unwrap()
}

/// The README text from the heading `## {title}` to the next `## ` heading.
fn section(readme: &str, title: &str) -> String {
    let start = readme
        .find(&format!("\n## {title}"))
        .unwrap_or_else(|| panic!("no `## {title}` section"));
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// Every `.rs` file under `src/`, whitespace collapsed so calls spanning lines read as one.
fn sources() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut pending = vec![crate_dir().join("src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text.split_whitespace().collect::<Vec<_>>().join(" ")));
            }
        }
    }
    out
}

fn is_outcome_like(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn admin_routes_table_lists_every_admin_route() {
    let admin = section(&readme(), "Admin routes");
    let mut found = 0;
    for (path, text) in sources() {
        let text = text.replace("( \"", "(\"");
        for piece in text.split(".route(\"/__mock").skip(1) {
            let route = format!("/__mock{}", &piece[..piece.find('"').unwrap()]);
            found += 1;
            let documented = ["`", "[", " "]
                .iter()
                .any(|end| admin.contains(&format!(" {route}{end}")));
            assert!(
                documented,
                "{route} ({}) is not in the README's admin routes table",
                path.display()
            );
        }
    }
    assert!(found >= 14, "found only {found} admin routes");
}

/// The backticked names in one column of the Counters table, row by row.
fn counters_table_column(counters: &str, column: usize) -> Vec<String> {
    counters
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|row| {
            let cell = row.split('|').nth(column + 1).unwrap_or("").to_owned();
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn counters_section_lists_every_route_and_only_routes() {
    let counters = section(&readme(), "Counters");
    for route in Route::ALL {
        assert!(
            counters.contains(&format!("| `{route}`"))
                || counters.contains(&format!(", `{route}`")),
            "route `{route}` has no row in the README's Counters table"
        );
    }
    let listed = counters_table_column(&counters, 0);
    assert!(listed.len() >= Route::ALL.len(), "{listed:?}");
    for name in listed {
        assert!(
            name.parse::<Route>().is_ok(),
            "README row `{name}` is not a Route"
        );
    }
}

#[test]
fn counters_section_lists_every_outcome_and_only_outcomes() {
    let counters = section(&readme(), "Counters");
    for outcome in Outcome::NAMED {
        assert!(
            counters.contains(&format!("`{outcome}`")),
            "outcome `{outcome}` is not in the README's Counters section"
        );
    }
    for numbered in ["`pardot_<code>`", "`http_NNN`"] {
        assert!(counters.contains(numbered), "{numbered}");
    }
    let listed = counters_table_column(&counters, 2);
    assert!(listed.len() >= Outcome::NAMED.len(), "{listed:?}");
    for name in listed {
        // `error` introduces the OAuth error codes; other names are placeholders
        // (`pardot_<code>`) or bodies (`{"active":false}`).
        if name == "error" || !is_outcome_like(&name) {
            continue;
        }
        assert!(
            name.parse::<Outcome>().is_ok(),
            "README outcome `{name}` is not an Outcome"
        );
    }
}
