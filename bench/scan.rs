//! `vault scan`'s throughput: files per second over a tree of small files
//! and MiB per second over one log on stdin, at 10, 1,000 and 10,000
//! secrets, as an identity that may use every secret (values and
//! fingerprints) and as one granted nothing (fingerprints only). The
//! corpus is clean (exit 0), and every line has words of the stored
//! values' length (32), so each is fingerprinted: the slow path, paid in
//! full.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::fixture::Fixture;
use crate::runner::{compare, Case};

const FILE_BYTES: usize = 4 * 1024;

/// The corpus: `files` files and a log of `log_mib` MiB (a tiny one under
/// `cargo test`, which only keeps the harness working).
struct Size {
    files: usize,
    log_mib: usize,
}

/// A line of text with words of many lengths, a 32-hex-digit hash and a
/// URL, numbered so that no two lines are alike.
fn line(n: usize) -> String {
    format!(
        "2026-12-01T10:{:02}:{:02}Z INFO worker-{} fetched https://cdn.example.com/a/{n}.tar.gz sha={:032x} in {}ms status=ok\n",
        n / 60 % 60,
        n % 60,
        n % 7,
        (n as u128).wrapping_mul(0x2545_f491_4f6c_dd1d_0000_0001_0000_0001),
        n % 997
    )
}

fn corpus(dir: &Path, files: usize) -> u64 {
    let mut n = 0;
    let mut total = 0u64;
    for f in 0..files {
        let sub = dir.join(format!("d{}", f % 50));
        std::fs::create_dir_all(&sub).unwrap();
        let mut text = String::with_capacity(FILE_BYTES + 200);
        while text.len() < FILE_BYTES {
            text.push_str(&line(n));
            n += 1;
        }
        total += text.len() as u64;
        std::fs::write(sub.join(format!("f{f}.log")), text).unwrap();
    }
    total
}

fn log(path: &Path, mib: usize) -> u64 {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut total = 0u64;
    let mut n = 0;
    while total < (mib << 20) as u64 {
        let l = line(n);
        out.write_all(l.as_bytes()).unwrap();
        total += l.len() as u64;
        n += 1;
    }
    out.flush().unwrap();
    total
}

pub fn throughput(sizes: &[usize], rounds: usize, full: bool) {
    let size = if full {
        Size {
            files: 5_000,
            log_mib: 64,
        }
    } else {
        Size {
            files: 20,
            log_mib: 1,
        }
    };
    let files = size.files;
    println!("## scan throughput\n");
    println!(
        "{files} files of {} KiB ({:.1} MiB) in 50 directories, and one log of {} MiB on stdin; \
         every line holds a 32-character word (the stored values' length), so each line costs a fingerprint.\n",
        FILE_BYTES / 1024,
        (files * FILE_BYTES) as f64 / (1 << 20) as f64,
        size.log_mib
    );
    println!("| secrets | identity | what | median ms | files/s | MiB/s |");
    println!("|---:|---|---|---:|---:|---:|");
    for &n in sizes {
        let fx = Fixture::build(n, 1, false);
        let tree = fx.root().join("tree");
        let tree_bytes = corpus(&tree, files);
        let log_path = fx.root().join("ci.log");
        let log_bytes = log(&log_path, size.log_mib);
        let empty = fx.root().join("empty.txt");
        std::fs::write(&empty, "").unwrap();
        let lookout = fx.add_ungranted("lookout");
        type Make = Box<dyn Fn(&Fixture) -> Command>;
        let who: [(&str, Make); 2] = [
            (
                "ci (every value)",
                Box::new(|fx: &Fixture| fx.vault_as_ci(&[])),
            ),
            ("lookout (no grant)", {
                let t = lookout.clone();
                Box::new(move |fx: &Fixture| fx.vault_with_token(&t, &[]))
            }),
        ];
        for (label, make) in who {
            let make = std::rc::Rc::new(make);
            let mut cases = vec![
                Case::new("start-up: one empty file", {
                    let (fx, make, empty) = (fx.clone(), make.clone(), empty.clone());
                    move |_| {
                        let mut c = make(&fx);
                        c.arg("scan").arg(&empty);
                        c
                    }
                }),
                Case::new("tree", {
                    let (fx, make, tree) = (fx.clone(), make.clone(), tree.clone());
                    move |_| {
                        let mut c = make(&fx);
                        c.arg("scan").arg(&tree);
                        c
                    }
                }),
                Case::new("log on stdin", {
                    let (fx, make, log_path) = (fx.clone(), make.clone(), log_path.clone());
                    move |_| {
                        let mut c = make(&fx);
                        c.args(["scan", "--stdin"]);
                        c.stdin(std::fs::File::open(&log_path).unwrap());
                        c
                    }
                }),
            ];
            let stats = compare(&mut cases, rounds);
            let start = stats[0].median_ms;
            let mib = |bytes: u64, ms: f64| bytes as f64 / (1 << 20) as f64 / (ms / 1000.0);
            println!("| {n} | {label} | start-up | {start:.1} | | |");
            let t = stats[1].median_ms;
            println!(
                "| {n} | {label} | tree | {t:.1} | {:.0} | {:.1} |",
                files as f64 / (t / 1000.0),
                mib(tree_bytes, t)
            );
            let l = stats[2].median_ms;
            println!(
                "| {n} | {label} | log on stdin | {l:.1} | | {:.1} |",
                mib(log_bytes, l)
            );
        }
    }
    println!();
}
