//! The timeline of one run as inline SVG: one row per activity, a mark per run of it, the
//! first finding highlighted and the stop marked. Shapes tell what colours tell (a circle for
//! a probe that met its tolerance, a diamond for one that missed, a crossed square for a
//! failure, hatching for pauses, a dashed outline for background activities), and every mark
//! has a `<title>` with its value and tolerance.

use super::escape::esc;
use super::story::{Mark, Result, Row, Story};
use std::fmt::Write;

/// The SVG's width, in pixels.
pub(super) const WIDTH: f64 = 960.0;
/// Where the plot starts (the labels are on its left) and its width.
pub(super) const PLOT_X: f64 = 300.0;
pub(super) const PLOT_W: f64 = 640.0;
/// The axis above the rows, and each row's height.
pub(super) const AXIS_H: f64 = 26.0;
pub(super) const ROW_H: f64 = 22.0;
/// Below the rows: the stop's label.
const FOOT_H: f64 = 26.0;

/// The plot's background: a colour nothing else in the page has (the browser test finds the
/// plot by it).
pub(super) const PLOT_FILL: &str = "#f6f8fa";
/// A probe that missed its tolerance, an activity that failed.
pub(super) const FINDING: &str = "#cf222e";
/// A probe within its tolerance.
const MET: &str = "#1a7f37";
/// An action, a probe without a tolerance.
const DONE: &str = "#57606a";
/// The line where the run was stopped.
pub(super) const STOP: &str = "#8250df";
/// The first finding's halo.
const HALO: &str = "#ffd33d";

/// A time in milliseconds from the start, in words.
pub(super) fn at(ms: f64) -> String {
    if ms < 10.0 && ms.fract() != 0.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let s = (ms / 1000.0).round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// A round step for about `n` ticks over `span` milliseconds.
fn tick_step(span: f64, n: f64) -> f64 {
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// The words of a mark's result.
pub(super) fn result_words(row: &Row, m: &Mark) -> String {
    match m.result {
        Result::Met => "met its tolerance".to_owned(),
        Result::Missed => "missed its tolerance".to_owned(),
        Result::Failed => format!(
            "failed{}",
            m.failure
                .as_ref()
                .map(|f| format!(": {f}"))
                .unwrap_or_default()
        ),
        Result::Done if row.kind == "probe" => "returned".to_owned(),
        Result::Done => "succeeded".to_owned(),
    }
}

/// The hover text of a mark.
fn hover(row: &Row, m: &Mark) -> String {
    let mut s = format!(
        "{} {} `{}`{}: {}",
        row.phase.describe(),
        row.kind,
        row.name,
        if row.background { " (background)" } else { "" },
        result_words(row, m)
    );
    if let Some(v) = &m.value {
        let _ = write!(s, "\nvalue: {v}");
    }
    if let Some(t) = &row.tolerance {
        let _ = write!(s, "\ntolerance: {t}");
    }
    let _ = write!(s, "\nat +{} for {}", at(m.start), at(m.end - m.start));
    if m.pause_before > 0.0 || m.pause_after > 0.0 {
        let _ = write!(
            s,
            "\npaused {} before, {} after",
            at(m.pause_before),
            at(m.pause_after)
        );
    }
    s
}

/// The SVG of `story`'s timeline; `id` makes its element ids unique in the page.
pub(super) fn render(story: &Story, id: usize, out: &mut String) {
    let rows = story.rows.len().max(1) as f64;
    let height = AXIS_H + rows * ROW_H + FOOT_H;
    let x = |ms: f64| PLOT_X + (ms / story.span).clamp(0.0, 1.0) * PLOT_W;
    let _ = write!(
        out,
        r##"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="tl{id}"><title id="tl{id}">Timeline of {}</title>"##,
        esc(&story.name)
    );
    let _ = write!(
        out,
        r##"<defs><pattern id="hatch{id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="{DONE}" stroke-width="2"/></pattern></defs>"##
    );
    let _ = write!(
        out,
        r##"<rect id="plot{id}" x="{PLOT_X}" y="{AXIS_H}" width="{PLOT_W}" height="{}" fill="{PLOT_FILL}"/>"##,
        rows * ROW_H
    );
    // The axis: round ticks over the run's span.
    let step = tick_step(story.span, 6.0);
    let mut t = 0.0;
    while t <= story.span + step * 0.01 {
        let tx = x(t);
        let _ = write!(
            out,
            r##"<line x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{}" stroke="#d0d7de"/><text x="{tx:.1}" y="{}" class="tick">{}</text>"##,
            AXIS_H - 4.0,
            AXIS_H + rows * ROW_H,
            AXIS_H - 8.0,
            at(t)
        );
        t += step;
    }
    let mut last_phase = None;
    for (i, row) in story.rows.iter().enumerate() {
        let top = AXIS_H + i as f64 * ROW_H;
        let mid = top + ROW_H / 2.0;
        if last_phase.is_some() && last_phase != Some(row.phase) {
            let _ = write!(
                out,
                r##"<line x1="0" y1="{top}" x2="{WIDTH}" y2="{top}" stroke="#8c959f" stroke-dasharray="4 3"/>"##
            );
        }
        last_phase = Some(row.phase);
        let mut label = format!("{} · {}", row.phase.label(), row.name);
        if row.background {
            label.push_str(" (background)");
        }
        let shown: String = if label.chars().count() > 44 {
            format!("{}…", label.chars().take(43).collect::<String>())
        } else {
            label.clone()
        };
        let _ = write!(
            out,
            r##"<text x="4" y="{:.1}" class="label"><title>{}</title>{}</text>"##,
            mid + 4.0,
            esc(&label),
            esc(&shown)
        );
        for (j, m) in row.marks.iter().enumerate() {
            let first = story.findings.first().is_some_and(|f| f.at == (i, j));
            mark(out, row, m, (x(m.start), x(m.end)), mid, first, id, &x);
        }
    }
    if let Some(stop) = story.stop_at {
        let sx = x(stop);
        let bottom = AXIS_H + rows * ROW_H;
        let why = story
            .stopped_by
            .clone()
            .unwrap_or_else(|| story.outcome.clone());
        let anchor = if sx > PLOT_X + PLOT_W * 0.6 {
            "end"
        } else {
            "start"
        };
        let _ = write!(
            out,
            r##"<g id="stop{id}" data-at="{sx:.1},{AXIS_H}"><title>stopped at +{}: {}</title><line x1="{sx:.1}" y1="{AXIS_H}" x2="{sx:.1}" y2="{}" stroke="{STOP}" stroke-width="3" stroke-dasharray="6 3"/><rect x="{:.1}" y="{}" width="10" height="10" fill="{STOP}"/><text x="{:.1}" y="{}" text-anchor="{anchor}" class="stop">■ stopped: {}</text></g>"##,
            at(stop),
            esc(&why),
            bottom + 4.0,
            sx - 5.0,
            bottom + 4.0,
            if anchor == "end" { sx - 8.0 } else { sx + 8.0 },
            bottom + 20.0,
            esc(&cut(&why, 90))
        );
    }
    out.push_str("</svg>");
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[allow(clippy::too_many_arguments)]
fn mark(
    out: &mut String,
    row: &Row,
    m: &Mark,
    (x0, x1): (f64, f64),
    mid: f64,
    first: bool,
    id: usize,
    x: &dyn Fn(f64) -> f64,
) {
    let _ = write!(out, "<g><title>{}</title>", esc(&hover(row, m)));
    let w = (x1 - x0).max(3.0);
    // Pauses before and after: hatched.
    if m.pause_before > 0.0 {
        let px = x(m.start - m.pause_before);
        let _ = write!(
            out,
            r##"<rect x="{px:.1}" y="{:.1}" width="{:.1}" height="6" fill="url(#hatch{id})" stroke="{DONE}" stroke-width="0.5"/>"##,
            mid - 3.0,
            (x0 - px).max(1.0)
        );
    }
    if m.pause_after > 0.0 {
        let px = x(m.end + m.pause_after);
        let _ = write!(
            out,
            r##"<rect x="{x1:.1}" y="{:.1}" width="{:.1}" height="6" fill="url(#hatch{id})" stroke="{DONE}" stroke-width="0.5"/>"##,
            mid - 3.0,
            (px - x1).max(1.0)
        );
    }
    let colour = match m.result {
        Result::Met => MET,
        Result::Missed | Result::Failed => FINDING,
        Result::Done => DONE,
    };
    if first {
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{HALO}" stroke="#9a6700" stroke-width="1.5" rx="3"/>"##,
            x0 - 9.0,
            mid - ROW_H / 2.0 + 1.0,
            w + 18.0,
            ROW_H - 2.0
        );
    }
    if row.kind == "pause" {
        let _ = write!(
            out,
            r##"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="10" fill="url(#hatch{id})" stroke="{colour}"/>"##,
            mid - 5.0
        );
    } else if row.background {
        let _ = write!(
            out,
            r##"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="10" fill="#ffffff" stroke="{colour}" stroke-width="2" stroke-dasharray="4 2"/>"##,
            mid - 5.0
        );
    } else {
        let h = if row.kind == "probe" { 4.0 } else { 10.0 };
        let _ = write!(
            out,
            r##"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{h}" fill="{colour}"/>"##,
            mid - h / 2.0
        );
    }
    // The first finding's id, and its centre in the SVG's coordinates (the browser test
    // looks for its colour there).
    let fid = if first {
        format!(r#" id="finding{id}" data-at="{x0:.1},{mid:.1}""#)
    } else {
        String::new()
    };
    // The result's shape at the start.
    match m.result {
        Result::Met => {
            let _ = write!(
                out,
                r##"<circle{fid} cx="{x0:.1}" cy="{mid:.1}" r="5" fill="{MET}" stroke="#ffffff"/>"##
            );
        }
        Result::Missed => {
            let _ = write!(
                out,
                r##"<path{fid} d="M{x0:.1} {:.1} l7 7 l-7 7 l-7 -7 z" fill="{FINDING}" stroke="#ffffff"/>"##,
                mid - 7.0
            );
        }
        Result::Failed => {
            let _ = write!(
                out,
                r##"<g{fid}><rect x="{:.1}" y="{:.1}" width="12" height="12" fill="{FINDING}"/><path d="M{:.1} {:.1} l8 8 m0 -8 l-8 8" stroke="#ffffff" stroke-width="2"/></g>"##,
                x0 - 6.0,
                mid - 6.0,
                x0 - 4.0,
                mid - 4.0
            );
        }
        Result::Done => {}
    }
    // The first finding's label, beside it.
    if first {
        let lx = x0 + w + 12.0;
        let (tx, anchor) = if lx > PLOT_X + PLOT_W - 90.0 {
            (x0 - 12.0, "end")
        } else {
            (lx, "start")
        };
        let _ = write!(
            out,
            r##"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" class="first">◀ first finding</text>"##,
            mid + 4.0
        );
    }
    out.push_str("</g>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_words() {
        assert_eq!(at(0.0), "0 ms");
        assert_eq!(at(412.4), "412 ms");
        assert_eq!(at(0.4), "0.4 ms");
        assert_eq!(at(2300.0), "2.30 s");
        assert_eq!(at(125_000.0), "2 min 5 s");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(1000.0, 6.0), 200.0);
        assert_eq!(tick_step(30_000.0, 6.0), 5000.0);
        assert_eq!(tick_step(7.0, 6.0), 2.0);
    }
}
