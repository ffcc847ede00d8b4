//! The page around the timelines: the summary table, and per experiment its facts, findings,
//! timeline and activities in text.

use super::escape::esc;
use super::story::Story;
use super::timeline::{self, at};
use super::{Entry, Report};
use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

/// The outcomes' symbols (the page is readable without colour: symbol and word go with it).
fn symbol(outcome: &str) -> &'static str {
    match outcome {
        "passed" => "✓",
        "deviated" => "✗",
        "baseline-not-met" => "⊘",
        "activity-failed" => "!",
        "rollback-failed" => "↺",
        "aborted" => "■",
        "interrupted" => "‖",
        _ => "⚠",
    }
}

/// The CSS class of an outcome.
fn class(outcome: &str) -> &'static str {
    match outcome {
        "passed" => "o-passed",
        "deviated" => "o-deviated",
        "baseline-not-met" => "o-baseline",
        "activity-failed" => "o-activity",
        "rollback-failed" => "o-rollback",
        "aborted" => "o-aborted",
        "interrupted" => "o-interrupted",
        _ => "o-error",
    }
}

const CSS: &str = r#"
:root{color-scheme:light}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-family:"DejaVu Sans",system-ui,sans-serif;font-size:14px;color:#1f2328;background:#fff;max-width:1000px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:4px 0}
h2{font-size:18px;margin:0 0 4px}
h3{font-size:15px;margin:12px 0 4px}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eaeef2}
td.num{text-align:right;white-space:nowrap}
td.journal{word-break:break-all}
code,.mono{font-family:"DejaVu Sans Mono",monospace;font-size:12px}
.outcome{display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-weight:bold;white-space:nowrap}
.o-passed{background:#1a7f37}.o-deviated{background:#cf222e}.o-baseline{background:#9a6700}
.o-activity{background:#bc4c00}.o-rollback{background:#6639ba}.o-aborted{background:#424a53}
.o-interrupted{background:#0969da}.o-error{background:#82071e}
.strip span{display:inline-block;width:16px;height:16px;margin-right:1px;border-radius:2px;color:#fff;font-size:11px;line-height:16px;text-align:center}
section.experiment{border-top:2px solid #d0d7de;margin-top:24px;padding-top:10px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
dt{font-weight:bold}dd{margin:0}
ol.findings li{margin:2px 0}
.first-finding{background:#fff8c5;border:1px solid #9a6700;padding:0 3px}
figure{margin:8px 0;overflow-x:auto}
figcaption{font-size:12px;color:#424a53}
svg.timeline{display:block;max-width:100%;height:auto;font-family:"DejaVu Sans",sans-serif}
svg .label{font-size:11px;fill:#1f2328}
svg .tick{font-size:10px;fill:#424a53;text-anchor:middle}
svg .stop{font-size:11px;fill:#1f2328;font-weight:bold}
svg .first{font-size:11px;fill:#1f2328;font-weight:bold}
.left-out{border:1px solid #9a6700;background:#fff8c5;padding:6px 10px}
.not-run{border:1px solid #8c959f;background:#f6f8fa;padding:6px 10px;margin-top:6px}
table.activities td{font-size:12px}
@media print{body{max-width:none;padding:0}section.experiment{break-inside:avoid-page}figure{overflow:visible}a{color:inherit;text-decoration:none}}
"#;

/// `path` as a link from `dir`: relative when it is under it, else a `file:` URL.
fn link(path: &Path, dir: Option<&Path>) -> String {
    if let Some(rel) = dir.and_then(|d| path.strip_prefix(d).ok()) {
        return rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(encode(&s.to_string_lossy())),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
    }
    let abs: PathBuf = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_owned())
    };
    format!("file://{}", encode(&abs.to_string_lossy()))
}

/// Percent-encodes what a URL path cannot hold as it is.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn outcome_badge(outcome: &str) -> String {
    format!(
        r#"<span class="outcome {}">{} {}</span>"#,
        class(outcome),
        symbol(outcome),
        esc(outcome)
    )
}

fn snapshot_words(s: Option<bool>) -> &'static str {
    match s {
        None => "—",
        Some(true) => "✓ matches",
        Some(false) => "✗ differs",
    }
}

fn strip(entry: &Entry) -> String {
    if entry.recent.is_empty() {
        return "—".to_owned();
    }
    let mut s = String::from(r#"<span class="strip">"#);
    for r in &entry.recent {
        let _ = write!(
            s,
            r#"<span class="{}" title="{} {}">{}</span>"#,
            class(&r.outcome),
            esc(&r.outcome),
            esc(&r.start),
            symbol(&r.outcome)
        );
    }
    s.push_str("</span>");
    s
}

pub(super) fn render(report: &Report) -> String {
    let stories: Vec<Story> = report
        .entries
        .iter()
        .map(|e| Story::read(&e.journal))
        .collect();
    let mut out = String::with_capacity(16_384 + 24_000 * stories.len());
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><meta name="generator" content="chaos-harness {}"><title>{}</title><style>{CSS}</style></head><body>"#,
        env!("CARGO_PKG_VERSION"),
        esc(&report.title)
    );
    let _ = write!(out, "<header><h1>{}</h1>", esc(&report.title));
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in &stories {
        match counts.iter_mut().find(|(o, _)| *o == s.outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.outcome.clone(), 1)),
        }
    }
    let _ = write!(
        out,
        "<p>{} experiment run{}{}{}{}.</p></header>",
        stories.len(),
        if stories.len() == 1 { "" } else { "s" },
        if counts.is_empty() { "" } else { ": " },
        counts
            .iter()
            .map(|(o, n)| format!("{n} {}", esc(o)))
            .collect::<Vec<_>>()
            .join(", "),
        match report.skipped.len() {
            0 => String::new(),
            n => format!("; {n} skipped"),
        }
    );
    if !report.skipped.is_empty() {
        out.push_str(
            r#"<div class="not-run" id="skipped"><strong>⊘ Skipped by the schedule:</strong><ul>"#,
        );
        for (name, why) in &report.skipped {
            let _ = write!(out, r#"<li><code>{}</code>: {}</li>"#, esc(name), esc(why));
        }
        out.push_str("</ul></div>");
    }
    if !report.left_out.is_empty() {
        out.push_str(r#"<div class="left-out"><strong>⚠ Left out of this report:</strong><ul>"#);
        for (path, why) in &report.left_out {
            let _ = write!(
                out,
                r#"<li><code>{}</code>: {}</li>"#,
                esc(&path.display().to_string()),
                esc(why)
            );
        }
        out.push_str("</ul></div>");
    }
    out.push_str(r#"<section id="summary"><h2>Summary</h2><table><thead><tr><th>Experiment</th><th>Outcome</th><th>Duration</th><th>Seed</th><th>Journal</th><th>Snapshot</th><th>Recent outcomes</th></tr></thead><tbody>"#);
    for (i, (s, e)) in stories.iter().zip(&report.entries).enumerate() {
        let journal = match &e.path {
            Some(p) => format!(
                r#"<a href="{}" title="{}">journal</a>"#,
                esc(&link(p, report.dir.as_deref())),
                esc(&p.display().to_string())
            ),
            None => "—".to_owned(),
        };
        let _ = write!(
            out,
            r##"<tr><td><a href="#exp{i}">{}</a></td><td>{}</td><td class="num">{}</td><td class="mono">{}</td><td class="journal">{journal}</td><td>{}</td><td>{}</td></tr>"##,
            esc(&s.name),
            outcome_badge(&s.outcome),
            s.duration_ms.map_or("—".to_owned(), at),
            s.seed.map_or("—".to_owned(), |n| n.to_string()),
            snapshot_words(e.snapshot),
            strip(e)
        );
    }
    out.push_str("</tbody></table></section>");
    for (i, (s, e)) in stories.iter().zip(&report.entries).enumerate() {
        experiment(&mut out, i, s, e, report.dir.as_deref());
    }
    out.push_str("</body></html>\n");
    out
}

fn experiment(out: &mut String, i: usize, s: &Story, e: &Entry, dir: Option<&Path>) {
    let _ = write!(
        out,
        r#"<section class="experiment" id="exp{i}"><h2>{} {}</h2>"#,
        outcome_badge(&s.outcome),
        esc(&s.name)
    );
    out.push_str("<dl>");
    let mut fact = |k: &str, v: String| {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    };
    if let Some(t) = s.title.as_ref().filter(|t| **t != s.name) {
        fact("Title", esc(t).into_owned());
    }
    fact("Started", esc(&s.start).into_owned());
    fact("Duration", s.duration_ms.map_or("—".to_owned(), at));
    if let Some(seed) = s.seed {
        fact(
            "Seed",
            format!(r#"<code>{seed}</code> (replay with <code>CHAOS_SEED={seed}</code>)"#),
        );
    }
    if let Some(p) = &e.path {
        fact(
            "Journal",
            format!(
                r#"<a href="{}"><code>{}</code></a>"#,
                esc(&link(p, dir)),
                esc(&p.display().to_string())
            ),
        );
    }
    fact("Snapshot", snapshot_words(e.snapshot).to_owned());
    if s.source != "chaos-harness" {
        fact("Written by", "Chaos Toolkit".to_owned());
    }
    if let Some(by) = &s.stopped_by {
        fact("Stopped by", format!("■ {}", esc(by)));
    }
    if let Some(err) = &s.error {
        fact("Cause", esc(err).into_owned());
    }
    fact(
        "Targets",
        if s.targets.is_empty() {
            "none recorded".to_owned()
        } else {
            format!(
                "<ul>{}</ul>",
                s.targets
                    .iter()
                    .map(|t| format!("<li><code>{}</code></li>", esc(t)))
                    .collect::<String>()
            )
        },
    );
    out.push_str("</dl><h3>Findings</h3>");
    if s.findings.is_empty() {
        out.push_str("<p>None: every probe met its tolerance and every activity succeeded.</p>");
    } else {
        out.push_str(r#"<ol class="findings">"#);
        for (k, f) in s.findings.iter().enumerate() {
            if k == 0 {
                let _ = write!(
                    out,
                    r#"<li><span class="first-finding">◀ first finding</span> {}</li>"#,
                    esc(&f.text)
                );
            } else {
                let _ = write!(out, "<li>{}</li>", esc(&f.text));
            }
        }
        out.push_str("</ol>");
    }
    out.push_str("<h3>Timeline</h3><figure>");
    timeline::render(s, i, out);
    out.push_str(
        "<figcaption>Shapes: ● a probe within its tolerance, ◆ a probe that missed it, ⊠ a failed activity, \
         a solid bar an action, a hatched bar a pause, a dashed outline a background activity, \
         a dashed vertical line (■) where the run was stopped. Hover a mark for its value and tolerance.</figcaption></figure>",
    );
    out.push_str(r#"<h3>Activities</h3><table class="activities"><thead><tr><th>Phase</th><th>Activity</th><th>At</th><th>Took</th><th>Result</th><th>Value</th><th>Tolerance</th></tr></thead><tbody>"#);
    for row in &s.rows {
        for m in &row.marks {
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td>{} <code>{}</code>{}</td><td class="num">+{}</td><td class="num">{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>"#,
                row.phase.describe(),
                esc(&row.kind),
                esc(&row.name),
                if row.background { " (background)" } else { "" },
                at(m.start),
                at(m.end - m.start),
                esc(&timeline::result_words(row, m)),
                esc(m.value.as_deref().unwrap_or("")),
                esc(row.tolerance.as_deref().unwrap_or(""))
            );
        }
    }
    out.push_str("</tbody></table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_under_the_report_and_urls_elsewhere() {
        assert_eq!(
            link(Path::new("/r/journals/a b.json"), Some(Path::new("/r"))),
            "journals/a%20b.json"
        );
        assert_eq!(
            link(Path::new("/elsewhere/x#1.json"), Some(Path::new("/r"))),
            "file:///elsewhere/x%231.json"
        );
    }
}
