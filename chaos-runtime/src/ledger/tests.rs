//! The ledger against real files: durability framing, damage, locks between owners and
//! recoveries, and the guardian's wait.

use super::*;
use serde_json::json;
use std::io::Write;
use std::time::Duration;

fn temp_ledger(name: &str) -> (Ledger, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "chaos-ledger-test-{name}-{}-{}",
        std::process::id(),
        crate::time::rfc3339(std::time::SystemTime::now()).replace(':', "")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    (Ledger::open(&dir).unwrap(), dir)
}

fn undo(n: u32) -> UndoRecord {
    UndoRecord::new("test.undo", format!("undo {n}"), json!({ "n": n }))
}

#[test]
fn a_dead_runs_entry_is_claimed_with_its_undos_latest_first() {
    let (ledger, dir) = temp_ledger("dead");
    let mut header = Header::new("shop::scale", 9);
    header.stash = json!({"replicas": 3});
    let entry = ledger.begin(&header).unwrap();
    let first = entry.intend(&undo(1)).unwrap();
    entry.applied(first).unwrap();
    entry.intend(&undo(2)).unwrap();
    drop(entry); // the run dies: no close

    let orphans = ledger.orphans();
    assert!(orphans.errors.is_empty(), "{:?}", orphans.errors);
    assert_eq!(orphans.claimed.len(), 1);
    let state = orphans.claimed[0].state();
    assert_eq!(state.header, header);
    assert!(!state.closed);
    let pending: Vec<_> = state
        .pending()
        .map(|u| (u.undo.label.clone(), u.applied))
        .collect();
    assert_eq!(
        pending,
        [("undo 2".to_owned(), false), ("undo 1".to_owned(), true)]
    );
    assert!(orphans.claimed[0].damage().is_none());
    drop(orphans);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_live_entry_and_a_claimed_one_are_left_alone() {
    let (ledger, dir) = temp_ledger("busy");
    let live = ledger.begin(&Header::new("a::live", 1)).unwrap();
    live.intend(&undo(1)).unwrap();
    let dead = ledger.begin(&Header::new("a::dead", 2)).unwrap();
    drop(dead);

    let first = ledger.orphans();
    assert_eq!(first.claimed.len(), 1, "only the dead run's entry");
    assert_eq!(first.claimed[0].state().header.experiment, "a::dead");
    // Another recovery meanwhile finds nothing: one holds the dead entry, its run the live one.
    let second = ledger.orphans();
    assert!(second.claimed.is_empty() && second.errors.is_empty());
    drop(first);
    // Released without finishing: the next recovery takes it again.
    assert_eq!(ledger.orphans().claimed.len(), 1);
    drop(live);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_closed_entry_is_removed_and_never_recovered() {
    let (ledger, dir) = temp_ledger("closed");
    let entry = ledger.begin(&Header::new("a::b", 1)).unwrap();
    let seq = entry.intend(&undo(1)).unwrap();
    entry.undone(seq, &UndoOutcome::Done).unwrap();
    let path = entry.path().to_owned();
    assert!(path.exists());
    entry.close().unwrap();
    assert!(!path.exists());
    let orphans = ledger.orphans();
    assert!(orphans.claimed.is_empty() && orphans.errors.is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_write_cut_short_is_reported_and_what_precedes_it_recovered() {
    let (ledger, dir) = temp_ledger("cut");
    let entry = ledger.begin(&Header::new("a::cut", 1)).unwrap();
    let one = entry.intend(&undo(1)).unwrap();
    entry.intend(&undo(2)).unwrap();
    let path = entry.path().to_owned();
    drop(entry);
    // The kill came in the middle of the next record.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"0badc0de {\"record\":\"app").unwrap();
    drop(f);

    let mut orphans = ledger.orphans();
    let claimed = &mut orphans.claimed[0];
    let damage = claimed.damage().cloned().unwrap();
    assert_eq!(damage.line, 4, "{damage}");
    assert!(damage.reason.contains("cut short"), "{damage}");
    assert_eq!(claimed.state().undos.len(), 2);
    // Recording an outcome cuts the damaged tail first, so it reads back cleanly.
    claimed.undone(one, &UndoOutcome::Done).unwrap();
    drop(orphans);
    let again = ledger.orphans();
    let claimed = &again.claimed[0];
    assert!(claimed.damage().is_none());
    let pending: Vec<_> = claimed.state().pending().map(|u| u.seq).collect();
    assert_eq!(pending, [2]);
    drop(again);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_checksum_mismatch_stops_reading_at_its_line() {
    let (ledger, dir) = temp_ledger("crc");
    let entry = ledger.begin(&Header::new("a::crc", 1)).unwrap();
    entry.intend(&undo(1)).unwrap();
    entry.intend(&undo(2)).unwrap();
    let path = entry.path().to_owned();
    drop(entry);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replace("undo 2", "undo 3");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let orphans = ledger.orphans();
    let claimed = &orphans.claimed[0];
    assert_eq!(claimed.damage().map(|d| d.line), Some(3));
    assert!(claimed.damage().unwrap().reason.contains("checksum"));
    assert_eq!(claimed.state().undos.len(), 1);
    drop(orphans);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_entry_without_a_header_is_reported_once_with_its_path() {
    let (ledger, dir) = temp_ledger("headerless");
    let path = dir.join("feed-1-0.entry");
    std::fs::write(&path, b"garbage\n").unwrap();
    let orphans = ledger.orphans();
    assert!(orphans.claimed.is_empty());
    assert_eq!(orphans.errors.len(), 1);
    let message = orphans.errors[0].to_string();
    assert!(message.contains("feed-1-0.entry"), "{message}");
    assert!(message.contains("no readable header"), "{message}");
    assert!(dir.join("feed-1-0.entry.damaged").exists());
    assert!(ledger.orphans().errors.is_empty(), "reported once");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_ledger_that_cannot_be_written_refuses_to_begin_and_names_its_path() {
    let (ledger, dir) = temp_ledger("unwritable");
    // Root ignores permissions: the directory is replaced by a file instead.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    let err = ledger.begin(&Header::new("a::b", 1)).unwrap_err();
    assert!(matches!(err.kind, LedgerErrorKind::Create(_)), "{err}");
    assert!(err.to_string().contains(&*dir.to_string_lossy()), "{err}");
    std::fs::remove_file(&dir).unwrap();
}

#[test]
fn a_guardian_waits_for_its_run_and_takes_the_entry_only_if_the_run_died() {
    let (ledger, dir) = temp_ledger("guardian");
    for dies in [false, true] {
        let entry = ledger.begin(&Header::new("a::guarded", 1)).unwrap();
        entry.intend(&undo(1)).unwrap();
        let path = entry.path().to_owned();
        let guardian = std::thread::spawn(move || Ledger::wait_for(&path));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !guardian.is_finished(),
            "the guardian waits while the run lives"
        );
        if dies {
            drop(entry);
        } else {
            entry.close().unwrap();
            drop(entry);
        }
        let taken = guardian.join().unwrap().unwrap();
        assert_eq!(taken.is_some(), dies);
        if let Some(claimed) = taken {
            assert_eq!(claimed.state().pending().count(), 1);
            claimed.finish().unwrap();
        }
    }
    assert!(ledger.orphans().claimed.is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_owner_is_this_process_with_its_start_time() {
    let me = Owner::this_process();
    assert_eq!(me.pid, std::process::id());
    #[cfg(target_os = "linux")]
    assert!(me.start.is_some());
    assert_eq!(Owner::this_process(), me);
}
