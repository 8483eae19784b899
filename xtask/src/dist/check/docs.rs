//! The examples of `docs/mock-guide.md` that `dist-check` runs: each is the fenced block right
//! after a `<!-- dist-check: NAME -->` marker, so the page shows exactly what is run.

use std::path::Path;

use anyhow::{Context, Result};

/// The guide, relative to the workspace root.
pub(crate) const GUIDE: &str = "docs/mock-guide.md";

/// The code of the example `name` in the guide.
pub(crate) fn example(root: &Path, name: &str) -> Result<String> {
    let guide =
        std::fs::read_to_string(root.join(GUIDE)).with_context(|| format!("reading {GUIDE}"))?;
    example_in(&guide, name).with_context(|| {
        format!("{GUIDE} has no fenced block after a `<!-- dist-check: {name} -->` marker")
    })
}

fn example_in(text: &str, name: &str) -> Option<String> {
    let marker = format!("<!-- dist-check: {name} -->");
    let after = &text[text.find(&marker)? + marker.len()..];
    let mut lines = after.lines().skip_while(|line| line.trim().is_empty());
    let fence = lines.next()?.trim_start();
    let fence = &fence[..fence.len() - fence.trim_start_matches('`').len()];
    if fence.len() < 3 {
        return None;
    }
    let mut code = String::new();
    for line in lines {
        if line.trim_start().starts_with(fence) {
            return Some(code);
        }
        code.push_str(line);
        code.push('\n');
    }
    None
}

/// Every example `dist-check` runs.
#[cfg(test)]
pub(crate) const EXAMPLES: &[&str] = &["python-test", "node-test", "binary", "github-actions"];

#[cfg(test)]
mod tests {
    use super::{EXAMPLES, example, example_in};

    #[test]
    fn the_guide_has_every_checked_example() -> anyhow::Result<()> {
        for name in EXAMPLES {
            assert!(
                !example(&crate::project_root(), name)?.trim().is_empty(),
                "{name}"
            );
        }
        Ok(())
    }

    #[test]
    fn the_block_after_the_marker_is_the_example() {
        let page =
            "text\n<!-- dist-check: a -->\n\n```sh\necho a\n  echo b\n```\n\n```sh\nno\n```\n";
        assert_eq!(example_in(page, "a").as_deref(), Some("echo a\n  echo b\n"));
    }

    #[test]
    fn a_missing_marker_or_an_unclosed_block_is_no_example() {
        assert_eq!(example_in("```sh\necho\n```\n", "a"), None);
        assert_eq!(
            example_in("<!-- dist-check: a -->\n```sh\necho\n", "a"),
            None
        );
        assert_eq!(example_in("<!-- dist-check: a -->\nprose\n", "a"), None);
    }
}
