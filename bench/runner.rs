//! Running commands round-robin and summarising their timings.

use std::process::{Command, Stdio};
use std::time::Instant;

/// One command under test: a label and a way to build its n-th run.
pub struct Case {
    pub label: String,
    pub make: Box<dyn FnMut(usize) -> Command>,
}

impl Case {
    pub fn new(label: &str, make: impl FnMut(usize) -> Command + 'static) -> Case {
        Case {
            label: label.to_owned(),
            make: Box::new(make),
        }
    }
}

pub struct Stats {
    pub median_ms: f64,
}

/// Runs every case once per round, rotating the order each round, after
/// two warm-up rounds; returns each case's median wall time.
pub fn compare(cases: &mut [Case], rounds: usize) -> Vec<Stats> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut run = 0;
    for round in 0..rounds + 2 {
        for k in 0..cases.len() {
            let i = (k + round) % cases.len();
            let mut command = (cases[i].make)(run);
            run += 1;
            let elapsed = time_one(&mut command);
            if round >= 2 {
                times[i].push(elapsed);
            }
        }
    }
    if let Some(path) = std::env::var_os("VAULT_BENCH_RAW") {
        dump_raw(&path, cases, &times);
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(|a, b| a.total_cmp(b));
            Stats {
                median_ms: t[t.len() / 2],
            }
        })
        .collect()
}

/// `VAULT_BENCH_RAW=FILE`: every run's time, appended to FILE one case
/// per line in the order they ran, to see drift or two modes a median hides.
fn dump_raw(path: &std::ffi::OsStr, cases: &[Case], times: &[Vec<f64>]) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open VAULT_BENCH_RAW");
    for (case, t) in cases.iter().zip(times) {
        let runs: Vec<String> = t.iter().map(|ms| format!("{ms:.3}")).collect();
        writeln!(file, "{}\t{}", case.label, runs.join(" ")).expect("write VAULT_BENCH_RAW");
    }
}

fn time_one(command: &mut Command) -> f64 {
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let out = command.output().expect("run a benchmark command");
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

/// Peak resident memory of one run, from GNU time's `%M`, of a copy of
/// the program written just before.
///
/// Most of a static binary's peak is its own code, mapped from the page
/// cache, and the kernel maps around each page it faults in only the
/// pages the cache holds: envio peaks up to 700 KiB higher when its file
/// was just written (all of it cached) than as installed long ago, when
/// only the pages its runs read are (docs/BENCHMARKS.md).
/// The bench's vault was just built and envio may be months old, so each
/// program is measured in the one state every CI job has them in: just
/// installed.
pub fn peak_rss_kib(mut command: Command) -> u64 {
    let copy_dir = tempfile::Builder::new()
        .prefix("vault-bench-rss")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a directory for the program's copy");
    let program = std::path::Path::new(command.get_program());
    let program = if program.is_absolute() {
        program.to_owned()
    } else {
        which(program)
    };
    let copy = copy_dir
        .path()
        .join(program.file_name().expect("a program's file name"));
    std::fs::copy(&program, &copy).expect("copy the program");
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-f").arg("%M").arg(&copy);
    timed.args(command.get_args());
    for (k, v) in command.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    let stdin = crate::fixture::take_stdin(&mut command);
    timed.stdin(stdin).stdout(Stdio::null());
    let out = timed
        .output()
        .expect("run /usr/bin/time (Debian package time)");
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

/// `program` as found on `/usr/bin:/bin`, where the bench's commands look.
fn which(program: &std::path::Path) -> std::path::PathBuf {
    ["/usr/bin", "/bin"]
        .iter()
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{} on /usr/bin:/bin", program.display()))
}

/// The machine the numbers come from.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("Machine: {cpu}, {cores} cores. Times are wall-clock medians of whole commands.")
}
