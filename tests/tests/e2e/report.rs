//! The HTML report in a real browser: the harness's own `report.html` for a passed, a deviated,
//! an activity-failed and an interrupted run, and a page of Chaos Toolkit's journal (its own
//! `chaos run`), each opened from disk by Debian's headless Chromium (`scripts/system-packages.sh`
//! installs it). Each page must load with no console message (no script, nothing fetched: its
//! Content-Security-Policy makes any attempt a console error) and its screenshot must show the
//! timeline: the plot where the page puts it, the first finding's colour at its mark, the stop
//! line where the run stopped, and no finding colour on a passed run. The README's screenshot
//! is made here too (`CHAOS_UPDATE_SCREENSHOT=1` writes it to `tests/report/report.png`).
//!
//! Also here: the report the harness writes beside its journals under `cargo test` and under
//! nextest (one process per experiment), and `CHAOS_HTML=off`.

use chaos_harness::history::Store;
use chaos_harness::html::{read_journal, Entry, Recent, Report};
use chaos_tests::command;
use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_outcome-fixtures");

/// The colours the page draws with (chaos-harness/src/report/html/timeline.rs).
const PLOT: [u8; 3] = [0xf6, 0xf8, 0xfa];
const FINDING: [u8; 3] = [0xcf, 0x22, 0x2e];
const HALO: [u8; 3] = [0xff, 0xd3, 0x3d];
const MET: [u8; 3] = [0x1a, 0x7f, 0x37];
const STOP: [u8; 3] = [0x82, 0x50, 0xdf];
/// The plot's left edge and top in the SVG (timeline.rs's PLOT_X and AXIS_H).
const PLOT_X: f64 = 300.0;
const AXIS_H: f64 = 26.0;

/// Debian's Chromium.
fn chromium() -> PathBuf {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).is_file() {
            return PathBuf::from(c);
        }
    }
    panic!("Chromium is not installed: run `bash scripts/system-packages.sh install` (scripts/test.sh does)");
}

/// Headless Chromium with a profile of its own (kept while the returned directory lives).
fn headless() -> (Command, tempfile::TempDir) {
    let profile = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(chromium());
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu"])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    (cmd, profile)
}

/// A screenshot of what a browser shows of an image.
struct Shot {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Shot {
    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// How many pixels of `colour` (each channel within 6) are in the box.
    fn count(&self, colour: [u8; 3], (x0, y0, x1, y1): (usize, usize, usize, usize)) -> usize {
        let mut n = 0;
        for y in y0.min(self.height)..y1.min(self.height) {
            for x in x0.min(self.width)..x1.min(self.width) {
                let p = self.at(x, y);
                if (0..3).all(|c| p[c].abs_diff(colour[c]) <= 6) {
                    n += 1;
                }
            }
        }
        n
    }

    /// The bounding box of the pixels exactly `colour`.
    fn bbox(&self, colour: [u8; 3]) -> Option<(usize, usize, usize, usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        for y in 0..self.height {
            for x in 0..self.width {
                if self.at(x, y) == colour {
                    b = Some(match b {
                        None => (x, y, x + 1, y + 1),
                        Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x + 1), e.max(y + 1)),
                    });
                }
            }
        }
        b
    }
}

/// Opens `page` in headless Chromium, asserts that the page logged nothing to the console
/// (script errors, refused loads), and returns its screenshot (also written to `png`).
fn screenshot(page: &Path, png: &Path, height: u32) -> Shot {
    let (mut cmd, _profile) = headless();
    let out = cmd
        .args([
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--window-size=1280,{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught") || l.contains("Refused to"))
        .collect();
    assert!(
        console.is_empty(),
        "{} logged to the console:\n{}",
        page.display(),
        console.join("\n")
    );
    let file = std::fs::File::open(png)
        .unwrap_or_else(|e| panic!("no screenshot {}: {e}\n{stderr}", png.display()));
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let rgb: Vec<u8> = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Shot {
        width: info.width as usize,
        height: info.height as usize,
        rgb,
    }
}

/// The `data-at` point (SVG coordinates) of the element `id` in `html`.
fn data_at(html: &str, id: &str) -> Option<(f64, f64)> {
    let key = format!(r#"id="{id}" data-at=""#);
    let rest = &html[html.find(&key)? + key.len()..];
    let (x, rest) = rest.split_once(',')?;
    let y = rest.split('"').next()?;
    Some((x.parse().ok()?, y.parse().ok()?))
}

/// Checks what the screenshot of `page` shows of its (only) timeline.
fn check_page(page: &Path, label: &str, finding: bool, stopped: bool) -> Shot {
    let html = std::fs::read_to_string(page).expect("the page");
    let dir = page.parent().expect("dir");
    let shot = screenshot(page, &dir.join(format!("{label}.png")), 2400);
    let plot = shot
        .bbox(PLOT)
        .unwrap_or_else(|| panic!("{label}: no timeline drawn"));
    // Drawn at its own size: the plot is 640 pixels wide.
    assert!(
        (plot.2 - plot.0).abs_diff(640) <= 2,
        "{label}: the plot is {:?}",
        plot
    );
    let to_screen =
        |(x, y): (f64, f64)| (plot.0 as f64 + (x - PLOT_X), plot.1 as f64 + (y - AXIS_H));
    if finding {
        let at = data_at(&html, "finding0").unwrap_or_else(|| panic!("{label}: no finding drawn"));
        let (x, y) = to_screen(at);
        let (x, y) = (x as usize, y as usize);
        let red = shot.count(FINDING, (x - 8, y - 8, x + 8, y + 8));
        assert!(red >= 20, "{label}: {red} finding pixels at ({x}, {y})");
        let halo = shot.count(HALO, (x - 12, y - 11, x + 40, y + 11));
        assert!(halo >= 20, "{label}: {halo} halo pixels at ({x}, {y})");
    } else {
        assert_eq!(
            shot.count(FINDING, plot),
            0,
            "{label}: a passed run has no finding drawn"
        );
        assert!(
            shot.count(MET, plot) > 20,
            "{label}: the probes that met are drawn"
        );
    }
    if stopped {
        let at = data_at(&html, "stop0").unwrap_or_else(|| panic!("{label}: no stop marked"));
        let (x, _) = to_screen(at);
        let x = x as usize;
        let line = shot.count(STOP, (x - 3, plot.1, x + 3, plot.3));
        assert!(line >= 20, "{label}: {line} stop-line pixels at x {x}");
    }
    shot
}

/// Runs fixture `name` alone; returns its temporary directory (journals in `journals/`).
fn run_fixture(name: &str) -> PathBuf {
    let tmp = tempfile::tempdir().expect("tempdir").keep();
    let (mut cmd, _, _) = command(EXE, &tmp);
    cmd.args(["--exact", &format!("outcome_fixtures::{name}")])
        .output()
        .expect("the harness runs");
    tmp
}

/// Chaos Toolkit's own journal of a deviated run (`tests/ctk-fixtures/compare/after-miss.json`).
fn chaos_toolkit_journal(dir: &Path) -> PathBuf {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("ctk-fixtures/compare/after-miss.json");
    std::fs::create_dir_all(dir.join("counts")).expect("dir");
    let chaos = super::chaostoolkit::chaostoolkit();
    let (mut cmd, journal) = super::chaostoolkit::ctk_run(&chaos, &file, dir);
    let out = cmd
        .env("CHAOS_COUNT_DIR", dir.join("counts"))
        .output()
        .expect("chaos runs");
    assert!(
        journal.is_file(),
        "Chaos Toolkit wrote no journal:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    journal
}

#[test]
fn reports_load_in_chromium_with_their_timelines_drawn() {
    let mut journals = Vec::new();
    for (name, finding, stopped) in [
        ("passed", false, false),
        ("deviated", true, false),
        ("activity_failed", true, false),
    ] {
        let dir = run_fixture(name);
        let page = dir.join("journals/report.html");
        check_page(&page, name, finding, stopped);
        journals.push(dir.join(format!("journals/outcome_fixtures__{name}.json")));
    }
    // Interrupted by SIGINT mid-method, with a proxy fault as its target.
    let r = super::outcomes::interrupt("proxy_interrupted");
    let page = r.journal_dir.join("report.html");
    let html = std::fs::read_to_string(&page).expect("the harness's report");
    assert!(html.contains("■ stopped: a signal"), "{html}");
    assert!(
        html.contains("target proxy"),
        "the target is listed: {html}"
    );
    check_page(&page, "interrupted", false_or_finding(&html), true);
    journals.push(
        r.journal_dir
            .join("outcome_fixtures__proxy_interrupted.json"),
    );
    // Chaos Toolkit's journal, rendered as `chaos report` does.
    let tmp = tempfile::tempdir().expect("tempdir").keep();
    let ctk = chaos_toolkit_journal(&tmp);
    let page = tmp.join("ctk.html");
    let value = read_journal(&ctk).expect("Chaos Toolkit's journal reads");
    let html = Report::new("Chaos Toolkit")
        .entry(Entry::new(value))
        .render();
    assert!(
        html.contains("Chaos Toolkit") && html.contains("✗ deviated"),
        "{html}"
    );
    std::fs::write(&page, &html).expect("write");
    check_page(&page, "chaos-toolkit", true, false);
    journals.push(ctk);

    // The README's picture: the five in one page.
    let mut report = Report::new("Chaos run of outcome-fixtures").written_to(&tmp);
    // The interrupted run first: its stop line and target are in the picture.
    for j in [3, 1, 2, 4, 0].map(|i| &journals[i]) {
        let value = read_journal(j).expect("journal");
        let mut entry = Entry::new(value.clone()).path(j);
        // The last outcomes of the experiment, from the history beside its journal.
        if let (Some(name), Ok(store)) = (
            value["name"].as_str(),
            Store::open(&j.with_file_name("history.sqlite")),
        ) {
            let recent = store.recent(name, 10).expect("recent outcomes");
            entry = entry.recent(
                recent
                    .into_iter()
                    .map(|(outcome, start)| Recent { outcome, start })
                    .collect(),
            );
        }
        report = report.entry(entry);
    }
    let page = tmp.join("all.html");
    std::fs::write(&page, report.render()).expect("write");
    let png = tmp.join("report.png");
    let shot = screenshot(&page, &png, 1500);
    assert!(shot.bbox(PLOT).is_some(), "the first timeline is in view");
    // Printable: Chromium prints it to PDF, more than one page.
    let pdf = tmp.join("report.pdf");
    let (mut cmd, _profile) = headless();
    let out = cmd
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let bytes = std::fs::read(&pdf)
        .unwrap_or_else(|e| panic!("no PDF: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(bytes.starts_with(b"%PDF"), "a PDF");
    let pages = bytes
        .windows(10)
        .filter(|w| w == b"/Type /Pag" || w == b"/Type/Page")
        .count();
    assert!(pages >= 2, "{pages} page objects");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("report/report.png");
    if std::env::var("CHAOS_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(committed.parent().expect("dir")).expect("dir");
        std::fs::copy(&png, &committed).expect("copy");
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&committed).expect("tests/report/report.png is committed"),
    ))
    .read_info()
    .expect("the README's screenshot is a PNG");
    assert_eq!(
        (decoder.info().width, decoder.info().height),
        (1280, 1500),
        "the README's screenshot is this test's"
    );
}

/// Whether the interrupted run's page has a finding (its cancelled action is one).
fn false_or_finding(html: &str) -> bool {
    html.contains(r#"id="finding0""#)
}

#[test]
fn the_console_check_catches_scripts_and_fetches() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let page = tmp.path().join("bad.html");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"></head><body><img src="http://192.0.2.1/x.png"><script>oops()</script></body></html>"#,
    )
    .expect("write");
    let caught = std::panic::catch_unwind(|| screenshot(&page, &tmp.path().join("bad.png"), 600));
    let why = caught
        .err()
        .and_then(|e| e.downcast_ref::<String>().cloned())
        .expect("the page's refused loads fail the check");
    assert!(why.contains("logged to the console"), "{why}");
}

#[test]
fn the_harness_writes_its_report_beside_the_journals() {
    // cargo test: one process, its experiments in one page (the second run's page replaces
    // the first's). Not under nextest, whose run id this test's own process may have.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut cmd, journals, _) = command(EXE, tmp.path());
    cmd.env_remove("NEXTEST_RUN_ID")
        .args(["seeded"])
        .output()
        .expect("the harness runs");
    let (mut cmd, _, _) = command(EXE, tmp.path());
    cmd.env_remove("NEXTEST_RUN_ID")
        .args(["one_at_a_time"])
        .output()
        .expect("the harness runs");
    let html = std::fs::read_to_string(journals.join("report.html")).expect("report.html");
    assert_eq!(
        html.matches(r#"<section class="experiment""#).count(),
        2,
        "{html}"
    );
    assert!(html.contains("outcome_fixtures::one_at_a_time_a"));
    // The last outcomes from the history: `one_at_a_time_a` ran once.
    assert!(
        html.contains(r#"<span class="strip"><span class="o-passed""#),
        "{html}"
    );
    // A snapshotted experiment's state, as the harness checked it.
    let snap = tempfile::tempdir().expect("tempdir");
    let (mut cmd, snap_journals, _) = command(EXE, snap.path());
    cmd.args(["--exact", "outcome_fixtures::snapshotted"])
        .output()
        .expect("the harness runs");
    let page = std::fs::read_to_string(snap_journals.join("report.html")).expect("report.html");
    assert!(page.contains("<td>✓ matches</td>"), "{page}");
    // nextest: one process per experiment; the page holds the run's three.
    let tmp = tempfile::tempdir().expect("tempdir");
    for name in ["passed", "deviated", "error"] {
        let (mut cmd, _, _) = command(EXE, tmp.path());
        cmd.env("NEXTEST_RUN_ID", "run-1")
            .args(["--exact", &format!("outcome_fixtures::{name}")])
            .output()
            .expect("the harness runs");
    }
    let html =
        std::fs::read_to_string(tmp.path().join("journals/report.html")).expect("report.html");
    assert!(html.contains("3 experiment runs: "), "{html}");
    for name in ["passed", "deviated", "error"] {
        assert!(
            html.contains(&format!("outcome_fixtures__{name}.json")),
            "{name}"
        );
    }
    // Off.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut cmd, journals, _) = command(EXE, tmp.path());
    cmd.env("CHAOS_HTML", "off")
        .args(["--exact", "outcome_fixtures::passed"])
        .output()
        .expect("the harness runs");
    assert!(journals.join("outcome_fixtures__passed.json").is_file());
    assert!(!journals.join("report.html").exists());
}
