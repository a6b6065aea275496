//! vault's benchmarks: whole-command timings of the release binary against
//! the cost of starting the program directly, in vaults the harness builds
//! itself.
//!
//! Run with `cargo bench --bench vault` (prints a Markdown report; see
//! docs/BENCHMARKS.md). Under `cargo test` it runs once at a tiny size, to
//! keep it working. Commands of one comparison are alternated round by
//! round (not run in blocks, as hyperfine does), so the machine's drift
//! falls on all of them alike; medians are reported.

mod envio;
mod fixture;
mod runner;
mod scan;

use std::process::Command;

use fixture::Fixture;
use runner::{compare, peak_rss_kib, Case};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (all_sizes, rounds): (&[usize], usize) = if full {
        (&[1, 10, 100, 1_000, 10_000], 41)
    } else {
        (&[1, 10], 2)
    };
    // `VAULT_BENCH_SCAN=1`: only the scan table.
    if std::env::var_os("VAULT_BENCH_SCAN").is_some() {
        println!("# vault benchmarks\n");
        println!("{}\n", runner::machine());
        let sizes: &[usize] = if full { &[10, 1_000, 10_000] } else { &[10] };
        scan::throughput(sizes, if full { 5 } else { 1 }, full);
        return;
    }
    // `VAULT_BENCH_SIZES=100,1000`: only the exec table, at those sizes.
    let only: Option<Vec<usize>> = std::env::var("VAULT_BENCH_SIZES").ok().map(|s| {
        s.split(',')
            .map(|n| n.trim().parse().expect("a size"))
            .collect()
    });
    let sizes = only.as_deref().unwrap_or(all_sizes);
    if let Ok(n) = std::env::var("VAULT_BENCH_FIXTURE") {
        let fx = Fixture::build(n.parse().expect("a number of secrets"), 1, full);
        fx.keep();
        return;
    }
    println!("# vault benchmarks\n");
    println!("{}\n", runner::machine());
    println!("Binary: {}\n", fixture::vault_bin().display());
    // `VAULT_BENCH_MANIFEST=1`: only the manifest table.
    if std::env::var_os("VAULT_BENCH_MANIFEST").is_some() {
        exec_with_manifest(if full { 100 } else { 10 }, rounds);
        return;
    }
    exec_vs_floor(sizes, rounds, full);
    if only.is_none() {
        exec_with_manifest(if full { 100 } else { 10 }, rounds);
    }
    if full && only.is_none() {
        writes_do_not_grow(&[1_000, 100_000], 21);
        listing(&[10_000, 100_000], 11);
        rotate_wide_grant(21);
        passwd_does_not_grow(&[10, 100_000], 5);
        scan::throughput(&[10, 1_000, 10_000], 5, true);
    } else if only.is_none() {
        scan::throughput(&[10], 1, false);
    }
}

/// 1 and 2: `vault exec -- /bin/true` by token, and by passphrase, against
/// `env <the same variables> /bin/true`.
fn exec_vs_floor(sizes: &[usize], rounds: usize, full: bool) {
    println!("## exec -- /bin/true against the floor\n");
    println!("| secrets | command | median ms | over floor ms | ratio | peak RSS KiB |");
    println!("|---:|---|---:|---:|---:|---:|");
    let mut no_keyring = false;
    let mut no_envio = false;
    for &n in sizes {
        let fx = Fixture::build(n, 1, full);
        let floor = fx.floor_command();
        let mut cases = vec![
            Case::new("floor: env VARS /bin/true", move |_| floor.clone_command()),
            Case::new("exec, access token, masking into a pipe", {
                let fx = fx.clone();
                move |_| fx.vault_as_ci(&["exec", "--mask", "always", "--", "/bin/true"])
            }),
            Case::new("exec, access token", {
                let fx = fx.clone();
                move |_| fx.vault_as_ci(&["exec", "--mask", "never", "--", "/bin/true"])
            }),
            // A fresh CI clone: no trust state yet, so every signature of
            // the view is checked.
            Case::new("exec, access token, fresh clone", {
                let fx = fx.clone();
                move |i| {
                    let mut c = fx.vault_as_ci(&["exec", "--mask", "never", "--", "/bin/true"]);
                    c.env("XDG_DATA_HOME", fx.fresh_dir(i));
                    c
                }
            }),
        ];
        // `VAULT_BENCH_BASELINE=PATH`: the same three exec rows with another
        // build, alternated with these.
        if let Some(bin) = fixture::binary_from_env("VAULT_BENCH_BASELINE") {
            for (label, mask, fresh) in [
                (
                    "baseline: exec, access token, masking into a pipe",
                    "always",
                    false,
                ),
                ("baseline: exec, access token", "never", false),
                ("baseline: exec, access token, fresh clone", "never", true),
            ] {
                let (fx, bin) = (fx.clone(), bin.clone());
                cases.push(Case::new(label, move |i| {
                    let mut c = fx.other_as_ci(&bin, &["exec", "--mask", mask, "--", "/bin/true"]);
                    if fresh {
                        c.env("XDG_DATA_HOME", fx.fresh_dir(i));
                    }
                    c
                }));
            }
        }
        // envio (one symmetric blob), where it is installed.
        match envio::Envio::setup(fx.root(), fx.vars()) {
            Some(envio) => cases.push(Case::new("envio 0.8 run (symmetric key)", move |_| {
                envio.run(&["/bin/true"])
            })),
            None => no_envio = true,
        }
        if fx.unlock_cache() {
            cases.push(Case::new("exec, cached key", {
                let fx = fx.clone();
                move |_| fx.vault_cached(&["exec", "--mask", "never", "--", "/bin/true"])
            }));
        } else {
            no_keyring = true;
        }
        if full {
            cases.push(Case::new("exec, passphrase (Argon2id 64 MiB)", {
                let fx = fx.clone();
                move |_| fx.vault_as_owner(&["exec", "--mask", "never", "--", "/bin/true"])
            }));
        }
        let stats = compare(&mut cases, rounds);
        let floor_ms = stats[0].median_ms;
        for (case, s) in cases.iter_mut().zip(&stats) {
            let rss = if full {
                peak_rss_kib((case.make)(0))
            } else {
                0
            };
            println!(
                "| {n} | {} | {:.2} | {:+.2} | {:.2} | {rss} |",
                case.label,
                s.median_ms,
                s.median_ms - floor_ms,
                s.median_ms / floor_ms
            );
        }
    }
    if no_envio {
        println!("\nNo envio here: its rows are left out (`cargo install envio`, or set VAULT_BENCH_ENVIO).");
    }
    if no_keyring {
        println!("\nNo session keyring here: the cached-key rows are left out (run under `keyctl session -`).");
    }
    if full {
        let argon = fixture::argon2_default_ms();
        println!("\nArgon2id with the default parameters alone, in process: {argon:.1} ms (median of 5).\n");
    }
    println!();
}

/// 1b: exec in a project whose manifest declares every secret (a
/// description, a pattern, a length and a deny list each), against exec
/// of the same secrets with no manifest: what reading and applying the
/// manifest costs.
fn exec_with_manifest(n: usize, rounds: usize) {
    println!("## exec with a {n}-variable manifest\n");
    println!("Each variable has a description, a pattern, a length and a deny list.\n");
    println!("| secrets | command | median ms | over no manifest ms |");
    println!("|---:|---|---:|---:|");
    let fx = Fixture::build(n, 1, false);
    let project = fx.project_with_manifest(n);
    let mut cases = vec![
        Case::new("exec, access token, no manifest", {
            let fx = fx.clone();
            move |_| fx.vault_as_ci(&["exec", "--mask", "never", "--", "/bin/true"])
        }),
        Case::new("exec, access token, manifest", {
            let fx = fx.clone();
            move |_| {
                let mut c = fx.vault_as_ci(&["exec", "--mask", "never", "--", "/bin/true"]);
                c.current_dir(&project);
                c
            }
        }),
    ];
    let stats = compare(&mut cases, rounds);
    let base = stats[0].median_ms;
    for (case, s) in cases.iter().zip(&stats) {
        println!(
            "| {n} | {} | {:.3} | {:+.3} |",
            case.label,
            s.median_ms,
            s.median_ms - base
        );
    }
    println!();
}

/// 3: `add` and `rotate` cost the same in small and large vaults.
fn writes_do_not_grow(sizes: &[usize], rounds: usize) {
    println!("## add and rotate by vault size\n");
    println!("| secrets in vault | add ms | rotate ms | add peak RSS KiB |");
    println!("|---:|---:|---:|---:|");
    for &n in sizes {
        let fx = Fixture::build(n, 1, true);
        let mut cases = vec![
            Case::new("add", {
                let fx = fx.clone();
                move |i| fx.with_stdin(fx.vault_as_ci(&["add", &format!("NEW_{i}")]), "v")
            }),
            Case::new("rotate", {
                let fx = fx.clone();
                move |i| fx.with_stdin(fx.vault_as_ci(&["rotate", "S0"]), &format!("v{i}"))
            }),
        ];
        let stats = compare(&mut cases, rounds);
        let rss = peak_rss_kib(fx.with_stdin(fx.vault_as_ci(&["add", "RSS_PROBE"]), "v"));
        println!(
            "| {n} | {:.2} | {:.2} | {rss} |",
            stats[0].median_ms, stats[1].median_ms
        );
    }
    println!();
}

/// 4: `list --json` and the completion query at 10,000 and 100,000 secrets.
fn listing(sizes: &[usize], rounds: usize) {
    println!("## list --json and completion\n");
    println!("| secrets | list --json ms | peak RSS KiB | completion ms | peak RSS KiB |");
    println!("|---:|---:|---:|---:|---:|");
    let complete = |fx: &Fixture| {
        let mut c = fx.vault_as_ci(&["--", "vault", "rotate", "S1"]);
        c.env("VAULT_COMPLETE", "fish");
        c
    };
    for &n in sizes {
        let fx = Fixture::build(n, 1, true);
        let mut cases = vec![
            Case::new("list", {
                let fx = fx.clone();
                move |_| fx.vault_as_ci(&["list", "--json"])
            }),
            Case::new("complete", {
                let fx = fx.clone();
                move |_| complete(&fx)
            }),
        ];
        let stats = compare(&mut cases, rounds);
        let list_rss = peak_rss_kib(fx.vault_as_ci(&["list", "--json"]));
        let complete_rss = peak_rss_kib(complete(&fx));
        println!(
            "| {n} | {:.1} | {list_rss} | {:.1} | {complete_rss} |",
            stats[0].median_ms, stats[1].median_ms
        );
    }
    println!();
}

/// 5a: rotating a secret granted to 100 identities.
fn rotate_wide_grant(rounds: usize) {
    println!("## rotate a secret granted to 100 identities\n");
    let fx = Fixture::build(10, 100, true);
    let mut cases = vec![Case::new("rotate", {
        let fx = fx.clone();
        move |i| fx.with_stdin(fx.vault_as_ci(&["rotate", "S0"]), &format!("v{i}"))
    })];
    let stats = compare(&mut cases, rounds);
    let rss = peak_rss_kib(fx.with_stdin(fx.vault_as_ci(&["rotate", "S0"]), "x"));
    println!("median {:.2} ms, peak RSS {rss} KiB\n", stats[0].median_ms);
}

/// 5b: `passwd` costs the same at 10 and 100,000 secrets (two Argon2id runs).
fn passwd_does_not_grow(sizes: &[usize], rounds: usize) {
    println!("## passwd by vault size\n");
    println!("| secrets | passwd ms | peak RSS KiB |");
    println!("|---:|---:|---:|");
    for &n in sizes {
        let fx = Fixture::build(n, 1, true);
        let mut cases = vec![Case::new("passwd", {
            let fx = fx.clone();
            move |_| fx.passwd_same_passphrase()
        })];
        let stats = compare(&mut cases, rounds);
        let rss = peak_rss_kib(fx.passwd_same_passphrase());
        println!("| {n} | {:.1} | {rss} |", stats[0].median_ms);
    }
    println!();
}

/// A command that can be rebuilt for every run.
trait CloneCommand {
    fn clone_command(&self) -> Command;
}

impl CloneCommand for (String, Vec<String>) {
    fn clone_command(&self) -> Command {
        let mut c = Command::new(&self.0);
        c.args(&self.1);
        c
    }
}
