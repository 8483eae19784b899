//! The README documents what the code serves: every admin route (read from the sources as
//! text), every [`Route`] and every [`Outcome`] (from their lists), and nothing else in the
//! Counters table; every outcome name the handlers report is an [`Outcome`].

use std::path::{Path, PathBuf};

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

/// The string literals inside the parenthesised arguments of each `{name}(` call.
fn call_literals(text: &str, name: &str) -> Vec<Vec<String>> {
    let mut calls = Vec::new();
    let needle = format!("{name}(");
    for (at, _) in text.match_indices(&needle) {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // another function whose name ends with `name`
        }
        let args = &text[at + needle.len()..];
        let mut depth = 1;
        let mut end = args.len();
        let mut in_str = false;
        let mut prev = ' ';
        for (i, c) in args.char_indices() {
            match c {
                '"' if prev != '\\' => in_str = !in_str,
                '(' if !in_str => depth += 1,
                ')' if !in_str => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
            prev = c;
        }
        let inner = &args[..end];
        let literals = inner
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        calls.push(literals);
    }
    calls
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

/// Handlers report outcomes by wire name (an OAuth `error` code is one); each name the
/// sources use must be an [`Outcome`], or the request would count as `http_500`.
#[test]
fn every_outcome_the_sources_report_is_an_outcome() {
    let mut outcomes: Vec<(String, PathBuf)> = Vec::new();
    for (path, text) in sources() {
        // The outcome is the last literal of these calls...
        for name in [
            "plain",
            "message_page",
            "user_code_page",
            "Outcome::reported",
        ] {
            for literals in call_literals(&text, name) {
                if let Some(last) = literals.last().filter(|s| is_outcome_like(s)) {
                    outcomes.push((last.clone(), path.clone()));
                }
            }
        }
        // ...and the error code, the first literal, of these.
        for name in ["OAuthError::new", "error", "revoke_error"] {
            for literals in call_literals(&text, name) {
                if let Some(first) = literals.first().filter(|s| is_outcome_like(s)) {
                    outcomes.push((first.clone(), path.clone()));
                }
            }
        }
    }
    // The authorize flow's redirect and error-page errors.
    let authorize = std::fs::read_to_string(crate_dir().join("src/oauth/authorize.rs")).unwrap();
    let errors = &authorize[authorize.find("pub mod errors").unwrap()..];
    let errors = &errors[..errors.find("\n}\n").unwrap()];
    for piece in errors.split("(\"").skip(1) {
        outcomes.push((
            piece[..piece.find('"').unwrap()].to_owned(),
            Path::new("src/oauth/authorize.rs").to_path_buf(),
        ));
    }
    assert!(outcomes.len() >= 40, "{outcomes:?}");
    for (outcome, path) in outcomes {
        assert!(
            outcome.parse::<Outcome>().is_ok(),
            "outcome `{outcome}` ({}) is not a pardot_mock::Outcome",
            path.display()
        );
    }
}
