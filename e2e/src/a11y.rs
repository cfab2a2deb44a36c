//! The accessibility audit of every screen (issue 17): axe-core, pinned by
//! `scripts/ensure-tools.sh` (`AXE_VERSION`) in `tools/node_modules/axe-core/axe.min.js`, injected
//! through WebDriver into the page as it is, with the WCAG 2.0, 2.1 and 2.2 A and AA rules.
//!
//! Every violation fails; there is no exception for any rule (contrast, names and labels, ARIA and
//! target size included). Incomplete results ("needs review", e.g. contrast over a live camera
//! picture that axe cannot compute) are not violations and are printed, not failed.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::{BoxError, Ctx, Engine};

/// The axe rule tags run: WCAG 2.0, 2.1 and 2.2, levels A and AA.
pub const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// Where axe-core's browser build is (`AXE_JS`, else the repo's `tools/node_modules`).
pub fn axe_path() -> PathBuf {
    std::env::var_os("AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../tools/node_modules/axe-core/axe.min.js")
        })
}

/// The engines the audit runs in (the issue's: Chromium and Firefox).
pub fn audited(engine: Engine) -> bool {
    matches!(engine, Engine::Chromium | Engine::Firefox)
}

const RUN_JS: &str = r#"
const done = arguments[arguments.length - 1];
const tags = arguments[0];
window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then(r => done({
    version: window.axe.version,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({ target: n.target.join(' '), html: n.html.slice(0, 200),
                                 summary: n.failureSummary }))
    })),
    incomplete: r.incomplete.map(v => v.id)
  }))
  .catch(e => done({ error: String(e) }));
"#;

/// Audits the page as it is now and adds each violation to `found` (as one readable line per
/// element), labelled `screen`. In engines other than Chromium and Firefox it does nothing.
pub async fn audit(b: &Ctx, screen: &str, found: &mut Vec<String>) -> Result<(), BoxError> {
    if !audited(b.engine) {
        return Ok(());
    }
    let loaded = b
        .js("return typeof window.axe === 'object';", vec![])
        .await?;
    if loaded != json!(true) {
        let path = axe_path();
        let src = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e} (scripts/ensure-tools.sh --browsers installs axe-core)",
                path.display()
            )
        })?;
        b.js(&format!("{src}\n;return null;"), vec![]).await?;
    }
    let r: Value = b.client.execute_async(RUN_JS, vec![json!(TAGS)]).await?;
    if let Some(e) = r["error"].as_str() {
        return Err(format!("axe on {screen}: {e}").into());
    }
    let violations = r["violations"].as_array().cloned().unwrap_or_default();
    eprintln!(
        "    axe {} on {screen}: {} violation(s); needs review: {}",
        r["version"].as_str().unwrap_or("?"),
        violations.len(),
        r["incomplete"]
    );
    for v in violations {
        for n in v["nodes"].as_array().cloned().unwrap_or_default() {
            found.push(format!(
                "[{}] {screen}: {} ({}) at {} — {} — {}",
                b.engine.name(),
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                n["target"].as_str().unwrap_or("?"),
                n["summary"].as_str().unwrap_or("").replace('\n', " "),
                n["html"].as_str().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// Fails with every violation found, if any.
pub fn assert_none(found: &[String]) {
    assert!(
        found.is_empty(),
        "{} accessibility violation(s):\n{}",
        found.len(),
        found.join("\n")
    );
}
