//! The exec log: exec appends its audit entry beside the vault instead of
//! writing it, the next write folds the entries into the chain, and
//! `vault audit` and `audit verify` see them all along. A line changed by
//! hand is pinpointed and stops every write until someone looks.

use std::os::unix::fs::PermissionsExt;

use crate::support::Env;

fn exec(env: &Env, name: &str) {
    env.vault(&["exec", "--mask", "never", "--only", name, "--", "true"])
        .passphrase()
        .run()
        .success()
        .stderr_is("");
}

/// `vault audit` lines without the time column.
fn shown(env: &Env) -> Vec<String> {
    let out = env.vault(&["audit", "--json"]).run().success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["seq"],
                e["action"].as_str().unwrap(),
                e["secrets"]
            )
        })
        .collect()
}

/// `audit verify` passes, counting `entries` (pending ones included).
fn intact(env: &Env, entries: usize) {
    env.vault(&["audit", "verify"])
        .passphrase()
        .run()
        .success()
        .stdout_has(&format!("audit log intact: {entries} entries, "));
}

/// The hint of `exec log broken at line N`.
fn broken_hint(env: &Env) -> String {
    format!(
        "{} was changed outside vault; move it aside to write the vault again \
         (the runs it records then stay unrecorded)",
        env.exec_log_path().display()
    )
}

fn table_count(env: &Env) -> i64 {
    env.int("audit", "count(*)", "1")
}

#[test]
fn exec_appends_and_the_next_write_folds_into_the_chain() {
    let env = Env::init();
    env.add("A", "value-a-123");
    exec(&env, "A");
    exec(&env, "A");
    assert_eq!(table_count(&env), 2);
    assert_eq!(env.exec_log().lines().count(), 2);
    let mode = std::fs::metadata(env.exec_log_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let expected = [
        "1 init []",
        "2 add [\"A\"]",
        "3 exec [\"A\"]",
        "4 exec [\"A\"]",
    ];
    assert_eq!(shown(&env), expected);
    intact(&env, 4);

    env.add("B", "value-b-123");
    assert!(
        !env.exec_log_path().exists(),
        "the fold removes the exec log"
    );
    assert_eq!(table_count(&env), 5);
    let mut folded = expected.to_vec();
    folded.push("5 add [\"B\"]");
    assert_eq!(shown(&env), folded);
    intact(&env, 5);
}

#[test]
fn an_edited_line_is_pinpointed_and_stops_writes() {
    let env = Env::init();
    env.add("A", "value-a-123");
    env.add("B", "value-b-123");
    exec(&env, "A");
    exec(&env, "B");
    let log = env.exec_log();
    std::fs::write(env.exec_log_path(), log.replacen("[\\\"B\\\"]", "[]", 1)).unwrap();
    let edited = env.exec_log();
    assert_ne!(edited, log);
    let message = "exec log broken at line 2: the entry does not match its authentication code";
    let hint = broken_hint(&env);
    env.refuses(
        env.vault(&["audit", "verify"]).passphrase(),
        2,
        message,
        Some(&hint),
    );
    env.refuses(
        env.vault(&["add", "C"]).passphrase().stdin("value-c-123"),
        2,
        message,
        Some(&hint),
    );
    assert_eq!(env.exec_log(), edited);
    // Moved aside, as the hint says: writes go on, the two runs unrecorded.
    std::fs::rename(env.exec_log_path(), env.path().join("exec-log.bad")).unwrap();
    env.add("C", "value-c-123");
    assert_eq!(table_count(&env), 4);
}

#[test]
fn a_line_that_is_not_an_entry_is_pinpointed() {
    let env = Env::init();
    env.add("A", "value-a-123");
    exec(&env, "A");
    let mut log = env.exec_log();
    log.push_str("{\"id\":\"not hex\"}\n");
    std::fs::write(env.exec_log_path(), &log).unwrap();
    let hint = broken_hint(&env);
    env.refuses(
        env.vault(&["audit", "verify"]).passphrase(),
        2,
        "exec log broken at line 2: the line is not an exec entry",
        Some(&hint),
    );
}

#[test]
fn a_line_cut_off_mid_append_is_dropped_and_the_rest_folded() {
    let env = Env::init();
    env.add("A", "value-a-123");
    exec(&env, "A");
    exec(&env, "A");
    let log = env.exec_log();
    let cut = &log[..log.len() - 20];
    std::fs::write(env.exec_log_path(), cut).unwrap();
    assert_eq!(shown(&env).len(), 3);
    env.add("B", "value-b-123");
    assert_eq!(table_count(&env), 4);
    intact(&env, 4);
}

#[test]
fn entries_folded_before_are_not_recorded_twice() {
    let env = Env::init();
    env.add("A", "value-a-123");
    exec(&env, "A");
    // A fold whose commit landed but whose removal of the log did not.
    let log = env.exec_log();
    env.add("B", "value-b-123");
    std::fs::write(env.exec_log_path(), &log).unwrap();
    std::fs::set_permissions(env.exec_log_path(), PermissionsExt::from_mode(0o600)).unwrap();
    env.add("C", "value-c-123");
    assert_eq!(table_count(&env), 5);
    assert!(!env.exec_log_path().exists());
    intact(&env, 5);
}

#[test]
fn a_large_log_is_folded_by_exec_itself() {
    let env = Env::init();
    env.add("A", "value-a-123");
    // Each run records its working directory: two about 3.8 KB long,
    // taken in turn (a repeat would be written as a short line), make each
    // line as long, so some seventy runs pass the 256 KiB mark.
    let dirs: Vec<std::path::PathBuf> = ["d", "e"]
        .iter()
        .map(|c| {
            let mut cwd = env.path().to_owned();
            for _ in 0..15 {
                cwd.push(c.repeat(250));
            }
            std::fs::create_dir_all(&cwd).unwrap();
            cwd
        })
        .collect();
    let mut runs = 0;
    while runs < 200 {
        env.vault(&["exec", "--mask", "never", "--only", "A", "--", "true"])
            .passphrase()
            .current_dir(&dirs[runs % 2])
            .run()
            .success()
            .stderr_is("");
        runs += 1;
        if !env.exec_log_path().exists() {
            break;
        }
    }
    assert!(runs > 60 && runs < 200, "folded after {runs} runs");
    assert_eq!(table_count(&env), 2 + runs as i64);
    intact(&env, 2 + runs);
}

/// A job run again and again with the same secrets in the same place
/// grows the log by a short line per run, not by its list of names: the
/// line leaves out what the line before says, and the fold reads it back.
#[test]
fn repeated_runs_add_short_lines_and_fold_with_every_name() {
    let env = Env::init();
    let names: Vec<String> = (0..60)
        .map(|i| format!("A_FAIRLY_LONG_SECRET_NAME_{i:02}"))
        .collect();
    let import: String = names
        .iter()
        .map(|n| format!("{n}=value-of-{n}\n"))
        .collect();
    let file = env.path().join("names.env");
    std::fs::write(&file, import).unwrap();
    env.vault(&["import", file.to_str().unwrap()])
        .passphrase()
        .run()
        .success();
    let run = || {
        env.vault(&["exec", "--mask", "never", "--", "true"])
            .passphrase()
            .run()
            .success()
            .stderr_is("");
    };
    run();
    let first = std::fs::metadata(env.exec_log_path()).unwrap().len();
    assert!(
        first > 1_700,
        "the first line has every name: {first} bytes"
    );
    for _ in 0..20 {
        run();
    }
    let log = env.exec_log();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 21);
    for line in &lines[1..] {
        assert!(line.len() < 400, "a repeat is short: {} bytes", line.len());
        assert!(!line.contains("A_FAIRLY_LONG"), "{line}");
    }
    intact(&env, 23);
    // Pending entries show their names before the fold, and keep them after.
    let every = serde_json::to_string(&names).unwrap();
    let before = shown(&env);
    assert_eq!(before.len(), 23);
    assert!(
        before[2..]
            .iter()
            .all(|l| l.ends_with(&format!("exec {every}"))),
        "{before:?}"
    );
    env.add("LAST", "value-l-123");
    assert!(!env.exec_log_path().exists());
    let after = shown(&env);
    assert_eq!(after[..23], before[..]);
    intact(&env, 24);
}

/// A short line whose digest was changed by hand (to borrow another
/// selection's names) is pinpointed: it names no line it repeats.
#[test]
fn a_short_line_with_another_digest_is_pinpointed() {
    let env = Env::init();
    env.add("A", "value-a-123");
    env.add("B", "value-b-123");
    exec(&env, "A");
    exec(&env, "A");
    exec(&env, "B");
    let log = env.exec_log();
    let lines: Vec<&str> = log.lines().collect();
    assert!(!lines[1].contains("\"names\""), "{}", lines[1]);
    let b: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    let mut edited: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    edited["same"] = b["same"].clone();
    let edited = format!("{}\n{}\n{}\n", lines[0], edited, lines[2]);
    std::fs::write(env.exec_log_path(), &edited).unwrap();
    let hint = broken_hint(&env);
    let message =
        "exec log broken at line 2: the line leaves out names that the line before it does not have";
    env.refuses(
        env.vault(&["audit", "verify"]).passphrase(),
        2,
        message,
        Some(&hint),
    );
    env.refuses(
        env.vault(&["add", "C"]).passphrase().stdin("value-c-123"),
        2,
        message,
        Some(&hint),
    );
    assert_eq!(env.exec_log(), edited);
}

#[test]
fn a_symlink_in_place_of_the_log_is_not_followed() {
    let env = Env::init();
    env.add("A", "value-a-123");
    let target = env.path().join("elsewhere");
    std::fs::write(&target, "").unwrap();
    std::os::unix::fs::symlink(&target, env.exec_log_path()).unwrap();
    let out = env
        .vault(&["exec", "--mask", "never", "--only", "A", "--", "true"])
        .passphrase()
        .run()
        .success();
    out.stderr_is(&format!(
        "warning: this run is not recorded in the audit log: refusing {}: it is a symbolic link\n",
        env.exec_log_path().display()
    ));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}

#[test]
fn concurrent_execs_and_writes_record_every_run_once() {
    let env = Env::init();
    env.add("A", "value-a-123");
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                for _ in 0..8 {
                    exec(&env, "A");
                }
            });
        }
        s.spawn(|| {
            for i in 0..4 {
                env.add(&format!("W{i}"), "value-w-123");
            }
        });
    });
    // init, add A, 48 runs, 4 adds.
    assert_eq!(env.audit_count(), 54);
    env.add("LAST", "value-l-123");
    assert_eq!(table_count(&env), 55);
    intact(&env, 55);
}

#[test]
fn exec_does_not_wait_behind_a_write_queued_for_the_lock() {
    let env = Env::init();
    env.add("A", "value-a-123");
    let holder = rusqlite::Connection::open(&env.vault).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let add = env.vault(&["add", "B"]).passphrase().stdin("value-b-123");
    std::thread::scope(|s| {
        let queued = s.spawn(|| add.run());
        // Let the add reach the lock and queue behind the holder.
        std::thread::sleep(std::time::Duration::from_millis(300));
        // exec records without the vault's lock: it returns while the add
        // still waits (were the exec log taken before the lock, exec would
        // wait out the add's busy timeout, and the add would fail).
        exec(&env, "A");
        holder.execute_batch("ROLLBACK").unwrap();
        queued.join().unwrap().success();
    });
    assert!(!env.exec_log_path().exists());
    assert_eq!(
        shown(&env),
        [
            "1 init []",
            "2 add [\"A\"]",
            "3 exec [\"A\"]",
            "4 add [\"B\"]"
        ]
    );
}

/// Lines reordered or removed from the middle break the chain of lines:
/// each names the MAC of the one before it.
#[test]
fn swapped_or_removed_lines_are_pinpointed_and_stop_writes() {
    let moved = "the line does not follow the line before it (lines were moved or removed)";
    for (what, keep) in [
        ("swapped", [1usize, 0, 2].as_slice()),
        ("last two swapped", &[0, 2, 1]),
        ("first removed", &[1, 2]),
        ("middle removed", &[0, 2]),
    ] {
        let env = Env::init();
        env.add("A", "value-a-123");
        env.add("B", "value-b-123");
        exec(&env, "A");
        exec(&env, "B");
        exec(&env, "A");
        let log = env.exec_log();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 3);
        let edited: String = keep.iter().map(|&i| format!("{}\n", lines[i])).collect();
        std::fs::write(env.exec_log_path(), &edited).unwrap();
        let at = keep.iter().enumerate().position(|(n, &i)| n != i).unwrap() + 1;
        let at = if what == "first removed" { 1 } else { at };
        let message = format!("exec log broken at line {at}: {moved}");
        let hint = broken_hint(&env);
        let audit = env.audit_dump();
        env.refuses(
            env.vault(&["audit", "verify"]).passphrase(),
            2,
            &message,
            Some(&hint),
        );
        env.refuses(
            env.vault(&["add", "C"]).passphrase().stdin("value-c-123"),
            2,
            &message,
            Some(&hint),
        );
        assert_eq!(env.exec_log(), edited, "{what}");
        assert_eq!(env.audit_dump(), audit, "{what}");
    }
}

#[test]
fn an_append_after_a_cut_off_line_follows_the_last_whole_line() {
    let env = Env::init();
    env.add("A", "value-a-123");
    exec(&env, "A");
    exec(&env, "A");
    let log = env.exec_log();
    std::fs::write(env.exec_log_path(), &log[..log.len() - 20]).unwrap();
    exec(&env, "A");
    assert_eq!(env.exec_log().lines().count(), 2);
    intact(&env, 4);
    env.add("B", "value-b-123");
    assert_eq!(table_count(&env), 5);
    intact(&env, 5);
}
