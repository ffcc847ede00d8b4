//! The libtest-mimic harness: registered experiments become trials named `module::function`.

use crate::paths::target_dir;
use crate::report::console::Console;
use crate::report::verdict;
use crate::setup::{Harness, Setup};
use chaos_runtime::event::RunReport;
use chaos_runtime::interrupt::Interrupt;
use chaos_runtime::journal::{redact_for_snapshot, JournalRecorder};
use chaos_runtime::notify::NotificationSink;
use chaos_runtime::registry::{registered, Registration};
use chaos_runtime::run::Runner;
use chaos_runtime::settings::Settings;
use chaos_runtime::{Context, Outcome};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// Exit code when a trial failed for a reason other than its outcome (a snapshot mismatch, an
/// unexpected outcome under `expect`, a journal that could not be written).
const OTHER_FAILURE: u8 = 101;

/// The failing trials' exit codes, to pick the process's.
static FAILURES: Mutex<Vec<(u8, u8)>> = Mutex::new(Vec::new());

fn record_failure(code: u8, severity: u8) {
    FAILURES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((severity, code));
}

/// Where journals go: `CHAOS_JOURNAL_DIR`, else the settings file's `journal.dir`, else
/// `<target>/chaos/journals` of the target directory holding the running test binary, else
/// `./target/chaos/journals`.
pub fn journal_dir() -> PathBuf {
    if let Some(dir) = chaos_runtime::env::path(chaos_runtime::env::JOURNAL_DIR) {
        return dir;
    }
    if let Some(dir) = settings().journal.dir.clone() {
        return dir;
    }
    target_dir().join("chaos").join("journals")
}

/// Where the write-ahead ledger lives: `CHAOS_LEDGER_DIR`, else the settings file's
/// `journal.ledger_dir`, else `ledger` in the [journal directory](journal_dir).
pub(crate) fn ledger_dir() -> PathBuf {
    if let Some(dir) = chaos_runtime::env::path(chaos_runtime::env::LEDGER_DIR) {
        return dir;
    }
    if let Some(dir) = settings().journal.ledger_dir.clone() {
        return dir;
    }
    journal_dir().join("ledger")
}

/// Whether `CHAOS_LEDGER` turns the write-ahead ledger off (no crash safety).
pub(crate) fn ledger_off() -> bool {
    chaos_runtime::env::off(chaos_runtime::env::LEDGER)
}

/// The journal file of experiment `name` (`suite::x` → `<journal_dir>/suite__x.json`).
pub fn journal_path(name: &str) -> PathBuf {
    journal_dir().join(format!("{}.json", name.replace("::", "__")))
}

static HARNESS: std::sync::OnceLock<Harness> = std::sync::OnceLock::new();

/// The run's settings: the harness's, or while the trials are only listed (there is no
/// harness then: nextest lists every test binary before it runs any), the file's.
fn settings() -> &'static Settings {
    static LISTING: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    match HARNESS.get() {
        Some(h) => &h.settings,
        None => LISTING.get_or_init(|| Settings::load().unwrap_or_default()),
    }
}
/// The test target's name (its source file's stem), the JUnit file's `<testsuites name>`.
static TARGET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Recovery only (`--recover`, `chaos recover`): the ledger's dead runs first (their undos
/// remove their markers), then what markers on the targets say that no ledger here knows of.
/// Exit 0, or 101 when something could not be recovered.
pub(crate) fn recover_only(harness: &Harness) -> ExitCode {
    let mut all_well = crate::recovery::at_start(&ledger_dir(), &journal_dir(), harness);
    let scanned = crate::recovery::from_markers(&ledger_dir(), harness);
    all_well &= crate::recovery::at_start(&ledger_dir(), &journal_dir(), harness);
    all_well &= scanned;
    if all_well {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(OTHER_FAILURE)
    }
}

/// The flag that runs a harness binary for recovery only: the ledger's dead runs are rolled
/// back, and no trial runs.
const RECOVER_FLAG: &str = "--recover";

/// The harness's `main`, called by [`crate::main!`].
#[doc(hidden)]
pub fn run_main(
    file: &'static str,
    snapshot: fn(&str, &serde_json::Value),
    setup: Option<fn(&mut Setup)>,
    chaostoolkit: &'static [&'static str],
    base: &'static str,
) -> ExitCode {
    // The guardian of another harness process (see `guardian`).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(crate::guardian::GUARDIAN_FLAG) {
        install_logging();
        chaos_runtime::redact::install_panic_hook();
        let harness = HARNESS.get_or_init(|| Harness::new(setup));
        return crate::guardian::serve(&args[1..], harness);
    }
    // `--plan`, `--catalogue`, `--settings-schema`: about this harness's experiments, no
    // trials.
    let about = args.first().map(String::as_str).filter(|a| {
        [
            crate::plan_cmd::PLAN_FLAG,
            crate::incluster::cmd::MANIFESTS_FLAG,
            crate::catalogue_cmd::CATALOGUE_FLAG,
            crate::catalogue_cmd::SCHEMA_FLAG,
        ]
        .contains(a)
    });
    if let Some(flag) = about {
        // The setup runs first: it may set what the experiments are built with (the
        // environment Chaos Toolkit files read, say).
        HARNESS.get_or_init(|| Harness::new(setup));
        let specs = match specs(file, chaostoolkit, base) {
            Ok(specs) => specs,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let target = target_name(file);
        return if flag == crate::plan_cmd::PLAN_FLAG {
            crate::plan_cmd::run(&args[1..], &specs, &target, settings())
        } else if flag == crate::incluster::cmd::MANIFESTS_FLAG {
            crate::incluster::cmd::run(&args[1..], &specs, &target, settings())
        } else {
            let schema_only = flag == crate::catalogue_cmd::SCHEMA_FLAG;
            crate::catalogue_cmd::run(&specs, &target, settings(), schema_only)
        };
    }
    // `--recover`: recovery only, no trials (libtest's parser would refuse the flag).
    if std::env::args().skip(1).any(|a| a == RECOVER_FLAG) {
        install_logging();
        chaos_runtime::redact::install_panic_hook();
        let harness = HARNESS.get_or_init(|| Harness::new(setup));
        return recover_only(harness);
    }
    // `--partition`: this process runs one slice of the experiments (a pod of an Indexed Job,
    // or a CI shard); libtest's parser does not know the flag.
    let (partition, libtest_args) = match Partition::take(std::env::args().collect()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let args = Arguments::from_iter(libtest_args);
    let files = match crate::chaostoolkit::find(chaostoolkit, Path::new(base)) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let regs = match trial_order(registered().collect(), file, files.len()) {
        Ok(regs) => regs,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.list {
        install_logging();
        chaos_runtime::redact::install_panic_hook();
        let harness = HARNESS.get_or_init(|| Harness::new(setup));
        // What runs killed before their rollbacks left, before this one's trials.
        if !ledger_off() {
            crate::recovery::at_start(&ledger_dir(), &journal_dir(), harness);
        }
    }
    let verbose = args.nocapture || chaos_runtime::env::switch(chaos_runtime::env::PROGRESS);
    // Listed as ignored when its schedule keeps it from starting now, so that nextest shows
    // it skipped; a run checks again as the experiment starts (`gated`).
    let listing = args.list.then(crate::gate::now).and_then(Result::ok);
    let history = crate::run_history::path(settings());
    let skipped_now = |spec: &Spec| {
        let at = listing?;
        let rules = spec.rules(settings());
        crate::gate::at_listing(&spec.name(), &rules, history.as_deref(), at)
    };
    let mut trials: Vec<Trial> = regs
        .into_iter()
        .map(|reg| {
            let skip = skipped_now(&Spec::Rust(reg)).is_some();
            Trial::ignorable_test(reg.name(), move || {
                gated(&Spec::Rust(reg), snapshot, verbose)
            })
            .with_ignored_flag(reg.ignore.is_some() || skip)
        })
        .collect();
    for f in files {
        if trials.iter().any(|t| t.name() == f.name) {
            eprintln!(
                "error: the Chaos Toolkit file {} makes the trial `{}`, which an #[experiment] has",
                f.path.display(),
                f.name
            );
            return ExitCode::from(2);
        }
        let name = f.name.clone();
        let spec = Spec::File(f);
        let ignored = matches!(&spec, Spec::File(f) if f.ignored) || skipped_now(&spec).is_some();
        trials.push(
            Trial::ignorable_test(name, move || gated(&spec, snapshot, verbose))
                .with_ignored_flag(ignored),
        );
    }
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    if let Some(p) = partition {
        trials = trials
            .into_iter()
            .enumerate()
            .filter(|(i, _)| p.keeps(*i))
            .map(|(_, t)| t)
            .collect();
    }
    let _ = TARGET.set(target_name(file));
    // The ignored experiments this run lists but does not run, for the JUnit file.
    let skipped: Vec<crate::report::cases::Case> = if args.ignored || args.include_ignored {
        Vec::new()
    } else {
        trials
            .iter()
            .filter(|t| t.has_ignored_flag() && !args.is_filtered_out(t))
            .map(|t| crate::report::cases::Case::not_run(t.name()))
            .collect()
    };
    let list = args.list;
    let conclusion = libtest_mimic::run(&args, trials);
    if !list {
        if let Some(h) = HARNESS.get() {
            crate::report::cases::finish(&outputs(h), skipped);
        }
    }
    if !conclusion.has_failed() {
        return ExitCode::SUCCESS;
    }
    let failures = FAILURES.lock().unwrap_or_else(|p| p.into_inner());
    let code = failures
        .iter()
        .max()
        .map(|&(_, code)| code)
        .unwrap_or(OTHER_FAILURE);
    ExitCode::from(code)
}

/// One slice of the experiments: `--partition index:I/N` (0-based, as a Job's
/// `JOB_COMPLETION_INDEX`) or nextest's `--partition count:K/N` (1-based): the experiments,
/// sorted by name, whose position modulo N is the slice's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Partition {
    index: usize,
    of: usize,
}

impl Partition {
    /// Takes `--partition X` (or `--partition=X`) out of `args`.
    fn take(args: Vec<String>) -> Result<(Option<Partition>, Vec<String>), String> {
        let mut rest = Vec::with_capacity(args.len());
        let mut found = None;
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let value = if a == "--partition" {
                Some(
                    it.next()
                        .ok_or("--partition needs a value: index:I/N or count:K/N")?,
                )
            } else {
                a.strip_prefix("--partition=").map(str::to_owned)
            };
            match value {
                Some(v) => found = Some(Partition::parse(&v)?),
                None => rest.push(a),
            }
        }
        Ok((found, rest))
    }

    fn parse(v: &str) -> Result<Partition, String> {
        let bad = || {
            format!("--partition {v}: expected index:I/N (0-based) or count:K/N (1-based), as index:0/3")
        };
        let (kind, slice) = v.split_once(':').ok_or_else(bad)?;
        let (k, n) = slice.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        let index = match kind {
            "index" if k < n => k,
            "count" if (1..=n).contains(&k) => k - 1,
            _ => return Err(bad()),
        };
        Ok(Partition { index, of: n })
    }

    fn keeps(&self, position: usize) -> bool {
        position % self.of == self.index
    }
}

/// `args` parsed by `cmd` (a command of a harness flag: `--plan`, `--k8s-manifests`), or the
/// exit code once clap has printed the help (0) or the usage error (2).
pub(crate) fn flags(cmd: clap::Command, args: &[String]) -> Result<clap::ArgMatches, ExitCode> {
    cmd.try_get_matches_from(args).map_err(|e| {
        let _ = e.print();
        ExitCode::from(if e.use_stderr() { 2 } else { 0 })
    })
}

/// The test target's name: its source file's stem.
fn target_name(file: &str) -> String {
    Path::new(file).file_stem().map_or_else(
        || "experiments".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// Every experiment of this harness, registered and Chaos Toolkit files, sorted by name.
fn specs(file: &str, chaostoolkit: &[&str], base: &str) -> Result<Vec<Spec>, String> {
    let files = crate::chaostoolkit::find(chaostoolkit, Path::new(base))?;
    let regs = trial_order(registered().collect(), file, files.len())?;
    let mut specs: Vec<Spec> = regs.into_iter().map(Spec::Rust).collect();
    specs.extend(files.into_iter().map(Spec::File));
    specs.sort_by_key(Spec::name);
    Ok(specs)
}

/// Logs to stderr at the level `CHAOS_LOG` names (`error`, `warn`, `info`, `debug`, `trace`;
/// default `warn`), unless the program installed a subscriber already.
pub(crate) fn install_logging() {
    let level =
        match chaos_runtime::env::var(chaos_runtime::env::LOG).map(|v| v.to_ascii_lowercase()) {
            Some(v) if v == "error" => tracing::Level::ERROR,
            Some(v) if v == "info" => tracing::Level::INFO,
            Some(v) if v == "debug" => tracing::Level::DEBUG,
            Some(v) if v == "trace" => tracing::Level::TRACE,
            _ => tracing::Level::WARN,
        };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(|| chaos_runtime::redact::RedactingWriter::new(std::io::stderr()))
        .with_ansi(false)
        .without_time()
        .try_init();
}

/// Sorts registrations by trial name; rejects an empty registry (unless `files` Chaos
/// Toolkit files are trials) and duplicate names.
fn trial_order(
    mut regs: Vec<&'static Registration>,
    file: &str,
    files: usize,
) -> Result<Vec<&'static Registration>, String> {
    if regs.is_empty() && files == 0 {
        return Err(format!(
            "no experiments are registered in this test target ({file}): add an `#[experiment]` function"
        ));
    }
    regs.sort_by_key(|r| r.name());
    for pair in regs.windows(2) {
        if pair[0].name() == pair[1].name() {
            return Err(format!(
                "two experiments are named `{}` ({}:{} and {}:{})",
                pair[0].name(),
                pair[0].file,
                pair[0].line,
                pair[1].file,
                pair[1].line
            ));
        }
    }
    Ok(regs)
}

/// What a trial runs: a registered `#[experiment]`, or a Chaos Toolkit file (a trial, or the
/// `chaos` command's run with its options).
pub(crate) enum Spec {
    Rust(&'static Registration),
    File(crate::chaostoolkit::FileTrial),
    Command(
        crate::chaostoolkit::FileTrial,
        Box<chaos_runtime::ctk::RunOptions>,
    ),
}

impl Spec {
    pub(crate) fn name(&self) -> String {
        match self {
            Spec::Rust(reg) => reg.name(),
            Spec::File(f) | Spec::Command(f, _) => f.name.clone(),
        }
    }

    /// Whether it runs only with `--ignored`.
    pub(crate) fn ignored(&self) -> bool {
        match self {
            Spec::Rust(reg) => reg.ignore.is_some(),
            Spec::File(f) | Spec::Command(f, _) => f.ignored,
        }
    }

    fn expect(&self) -> Outcome {
        match self {
            Spec::Rust(reg) => reg.expect,
            Spec::File(_) | Spec::Command(..) => Outcome::Passed,
        }
    }

    fn snapshot(&self) -> bool {
        match self {
            Spec::Rust(reg) => reg.snapshot,
            Spec::File(_) | Spec::Command(..) => false,
        }
    }

    /// The schedule it keeps to; an experiment that does not build keeps to none (its run
    /// reports why it does not build).
    pub(crate) fn rules(&self, settings: &Settings) -> crate::gate::Rules {
        match self {
            Spec::Rust(reg) => (reg.build)()
                .map(|e| crate::gate::Rules::of(&e, settings))
                .unwrap_or_default(),
            Spec::File(_) | Spec::Command(..) => crate::gate::Rules::default_of(settings),
        }
    }

    /// The experiment, or why it cannot be built (with where it is defined).
    pub(crate) fn build(&self, settings: &Settings) -> Result<chaos_runtime::Experiment, String> {
        match self {
            Spec::Rust(reg) => {
                (reg.build)().map_err(|e| format!("{e} ({}:{})", reg.file, reg.line))
            }
            Spec::File(f) => f.build(&settings.variables),
            Spec::Command(f, options) => f.build_with(options),
        }
    }
}

/// Runs the trial unless its schedule keeps it from starting now: then it is skipped, with
/// why, in libtest's output (`ignored, <why>`), the JUnit file and the HTML report. Under
/// nextest, which has no skip decided while a test runs, the skip is printed and the test
/// passes; nextest listed it as skipped unless the schedule changed between its listing and
/// its start.
fn gated(
    spec: &Spec,
    snapshot: fn(&str, &serde_json::Value),
    verbose: bool,
) -> Result<Completion, Failed> {
    let harness = HARNESS.get_or_init(|| Harness::new(None));
    let name = spec.name();
    let rules = spec.rules(&harness.settings);
    let decided = crate::gate::now().and_then(|at| {
        let history = crate::run_history::path(&harness.settings);
        crate::gate::at_start(&name, &rules, history.as_deref(), at)
    });
    match decided {
        Ok(None) => run_trial(spec, snapshot, verbose).map(|()| Completion::Completed),
        Ok(Some(why)) => {
            crate::report::cases::record(
                &outputs(harness),
                crate::report::cases::Case::skipped(&name, &why),
            );
            if std::env::var_os("NEXTEST_RUN_ID").is_some() {
                println!("chaos: skipped `{name}`: {why}");
                Ok(Completion::Completed)
            } else {
                Ok(Completion::ignored_with(why))
            }
        }
        Err(why) => {
            record_failure(OTHER_FAILURE, 0);
            Err(Failed::from(why))
        }
    }
}

fn run_trial(
    spec: &Spec,
    snapshot: fn(&str, &serde_json::Value),
    verbose: bool,
) -> Result<(), Failed> {
    let name = spec.name();
    let expect = spec.expect();
    let path = journal_path(&name);
    let recorder = JournalRecorder::new(&name);
    let harness = HARNESS.get_or_init(|| Harness::new(None));
    let run = catch_unwind(AssertUnwindSafe(|| {
        run_experiment(spec, &name, &recorder, verbose, harness, &path)
    }));
    // What the run ended with: its report, or why the trial broke before it had one.
    let ended = match run {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(why)) => Err(why),
        Err(panic) => Err(format!(
            "the harness panicked: {}",
            chaos_runtime::error::ActivityFailure::from_panic(panic)
        )),
    };
    if let Err(why) = &ended {
        recorder.with(|j| j.finish_broken(why));
    }
    let journal = recorder.journal();
    let write = journal.write_atomic(&path);
    let outcome = journal.outcome;
    if write.is_ok() {
        let value = journal.to_value();
        crate::run_history::append(&harness.settings, &value, path.clone());
        if !harness.setup.observers.is_empty() {
            observe(harness, &value, &path);
        }
    }

    let mut problems: Vec<String> = Vec::new();
    let mut code = None;
    if outcome != expect {
        let text = match &ended {
            Ok(r) => verdict::render(r, &path),
            Err(why) => verdict::render_broken(&name, why, &path),
        };
        let text = chaos_runtime::redact::redact(&text).into_owned();
        if expect == Outcome::Passed {
            code = Some((outcome.exit_code(), outcome.severity()));
            problems.push(text);
        } else {
            problems.push(format!(
                "expected outcome `{}` (expect = {}), got `{}`\n{text}",
                expect,
                expect.as_str().replace('-', "_"),
                outcome
            ));
        }
    }
    if let Err(e) = write {
        problems.push(e.to_string());
    }
    let mut snapshot_matched = None;
    if spec.snapshot() {
        let checked = check_snapshot(&name, &journal.to_value(), snapshot);
        snapshot_matched = Some(checked.is_ok());
        if let Err(msg) = checked {
            problems.push(msg);
        }
    }
    crate::report::cases::record(
        &outputs(harness),
        crate::report::cases::Case {
            name: name.clone(),
            outcome: Some(outcome),
            expected: expect,
            seed: Some(journal.seed),
            journal: Some(path.clone()),
            seconds: journal.duration.unwrap_or(0.0),
            start: Some(journal.start.clone()),
            problems: problems.clone(),
            snapshot: snapshot_matched,
            skipped: None,
        },
    );
    if problems.is_empty() {
        return Ok(());
    }
    let (c, sev) = code.unwrap_or((OTHER_FAILURE, u8::MAX));
    record_failure(c, if c == OTHER_FAILURE { 0 } else { sev });
    Err(Failed::from(problems.join("\n")))
}

pub(crate) fn run_experiment(
    spec: &Spec,
    name: &str,
    recorder: &JournalRecorder,
    verbose: bool,
    harness: &Harness,
    path: &Path,
) -> Result<RunReport, String> {
    let mut runner = Runner::new()
        .sink(recorder.clone())
        .sink(Console::new(name, verbose))
        .interrupt(Interrupt::on_signals());
    if !ledger_off() {
        runner = runner.ledger(ledger_dir());
        if let Some(guardian) = crate::guardian::for_this_process(&ledger_dir(), &journal_dir()) {
            runner = runner.guardian(guardian);
        }
    }
    let mut deliveries = None;
    if let Some(notifier) = &harness.notifier {
        // Reads the journal `recorder` (added above) has recorded.
        let sink = NotificationSink::new(
            recorder,
            notifier.clone(),
            harness.setup.channels.clone(),
            Some(path.to_path_buf()),
        );
        deliveries = Some(sink.deliveries());
        runner = runner.sink(sink);
    }
    for hook in &harness.setup.hooks {
        runner = runner.hook(hook.clone());
    }
    for control in &harness.setup.controls {
        runner = runner.control(control.clone());
    }
    for extension in &harness.setup.extensions {
        runner = runner.extension(extension.clone());
    }
    let report = run_with(runner, spec, name, harness);
    if let Some(d) = deliveries {
        // Written to the journal's `notifications`.
        d.flush(harness.settings.journal.flush_timeout);
    }
    report
}

fn run_with(
    runner: Runner,
    spec: &Spec,
    name: &str,
    harness: &Harness,
) -> Result<RunReport, String> {
    let seed = match chaos_runtime::context::seed_from_env() {
        Ok(seed) => seed,
        Err(e) => return Ok(runner.fail(name, 0, e.to_string())),
    };
    if let Some(e) = &harness.error {
        return Ok(runner.fail(name, seed, e.clone()));
    }
    let exp = match spec.build(&harness.settings) {
        Ok(exp) => exp,
        Err(e) => return Ok(runner.fail(name, seed, e)),
    };
    // Held until the run, rollbacks included, is over: no other experiment of the group
    // starts meanwhile, in this process or another.
    let _group_lock = match exp.concurrency().group() {
        Some(group) => match crate::exclusion::acquire(name, group) {
            Ok(lock) => Some(lock),
            Err(e) => return Ok(runner.fail(name, seed, e.to_string())),
        },
        None => None,
    };
    let settings = &harness.settings;
    let mut vars = settings.variables.clone();
    if let Spec::File(f) | Spec::Command(f, _) = spec {
        // In the ledger's header: a recovery rebuilds the experiment from the file.
        let path = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
        vars.insert(
            crate::chaostoolkit::FILE_VAR.to_owned(),
            path.display().to_string(),
        );
    }
    let cx = Context::builder()
        .experiment(name)
        .seed(seed)
        .vars(vars)
        .secrets(settings.secrets.clone())
        .credentials(harness.credentials.clone())
        .target_settings(settings.targets.clone())
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the tokio runtime: {e}"))?;
    Ok(rt.block_on(runner.run(&exp, cx)))
}

/// Where this run's reports go: the JUnit file when asked for, the HTML report unless `off`
/// (default `report.html` in the journal directory).
fn outputs(harness: &Harness) -> crate::report::cases::Outputs {
    let report = &harness.settings.report;
    crate::report::cases::Outputs {
        target: TARGET
            .get()
            .map_or_else(|| "experiments".to_owned(), String::clone),
        junit: report.junit.clone(),
        html: match &report.html {
            Some(p) if p.as_os_str() == "off" => None,
            Some(p) => Some(p.clone()),
            None => Some(journal_dir().join("report.html")),
        },
        history: crate::run_history::path(&harness.settings),
        parts: journal_dir().join(".run-parts"),
    }
}

/// Calls every observer with the (redacted) journal; a panicking observer is logged.
fn observe(harness: &Harness, journal: &serde_json::Value, path: &Path) {
    for o in &harness.setup.observers {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| o.journal(journal, path))) {
            tracing::warn!(
                observer = o.name(),
                "observer panicked: {}",
                chaos_runtime::error::ActivityFailure::from_panic(panic)
            );
        }
    }
}

fn check_snapshot(
    name: &str,
    journal: &serde_json::Value,
    snapshot: fn(&str, &serde_json::Value),
) -> Result<(), String> {
    let redacted = redact_for_snapshot(journal.clone());
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!(
        "journal of experiment `{name}` (run-specific values redacted)"
    ));
    let snap_name = name.replace("::", "__");
    let result =
        settings.bind(|| catch_unwind(AssertUnwindSafe(|| snapshot(&snap_name, &redacted))));
    result.map_err(|panic| {
        format!(
            "the journal of `{name}` does not match its snapshot (review with `cargo insta review`): {}",
            chaos_runtime::error::ActivityFailure::from_panic(panic)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chaos_runtime::{Action, Experiment, ExperimentError};

    fn build() -> Result<Experiment, ExperimentError> {
        Experiment::builder("m::f")
            .method(Action::new("a", |_| async { Ok(()) }))
            .build()
    }

    fn reg(module_path: &'static str, function: &'static str, line: u32) -> &'static Registration {
        Box::leak(Box::new(Registration {
            module_path,
            function,
            ignore: None,
            expect: Outcome::Passed,
            snapshot: false,
            file: "suite.rs",
            line,
            build,
        }))
    }

    #[test]
    fn trials_are_sorted_and_duplicates_rejected() {
        let sorted = trial_order(
            vec![reg("suite", "b", 1), reg("suite", "a", 2)],
            "suite.rs",
            0,
        )
        .unwrap();
        let names: Vec<_> = sorted.iter().map(|r| r.name()).collect();
        assert_eq!(names, ["suite::a", "suite::b"]);
        let err = trial_order(
            vec![reg("suite", "a", 1), reg("suite", "a", 9)],
            "suite.rs",
            0,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "two experiments are named `suite::a` (suite.rs:1 and suite.rs:9)"
        );
        let err = trial_order(Vec::new(), "suite.rs", 0).unwrap_err();
        assert!(err.starts_with("no experiments are registered in this test target (suite.rs)"));
    }
}

#[cfg(test)]
mod partition_tests {
    use super::Partition;

    #[test]
    fn partitions_are_taken_out_of_the_arguments() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (p, rest) =
            Partition::take(args(&["bin", "--partition", "index:1/3", "--exact", "x"])).unwrap();
        assert_eq!(p, Some(Partition { index: 1, of: 3 }));
        assert_eq!(rest, args(&["bin", "--exact", "x"]));
        let (p, _) = Partition::take(args(&["bin", "--partition=count:3/3"])).unwrap();
        assert_eq!(p, Some(Partition { index: 2, of: 3 }));
        let kept: Vec<usize> = (0..7).filter(|i| p.unwrap().keeps(*i)).collect();
        assert_eq!(kept, [2, 5]);
        for bad in ["index:3/3", "count:0/3", "hash:1/2", "index:x/2", "index:1"] {
            let e = Partition::take(args(&["bin", "--partition", bad])).unwrap_err();
            assert!(
                e.starts_with(&format!("--partition {bad}: expected")),
                "{e}"
            );
        }
    }
}
