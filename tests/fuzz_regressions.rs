//! Replays, on stable, every input under `fuzz/regressions/<target>/` (each found a bug by
//! a fuzzer) and every seed under `fuzz/seeds/<target>/`, through the same
//! `fuzz_targets::<target>` function the fuzzer ran: the fuzz crate's library
//! (`fuzz/src/lib.rs`), compiled into this test, whose unit tests run here too. Each
//! input runs on its own thread and must return within `LIMIT`: a panic is a kernel panic
//! in PID 1, and a hang a dead device. Every failing input is reported, not only the
//! first.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

// The fuzz crate's entry points, not a module of verinit (so not in the boot binary).
#[path = "../fuzz/src/lib.rs"]
mod fuzz_targets;

type Target = fn(&[u8]);

/// The fuzz targets, by the name of their directory (`fuzz/fuzz_targets/<name>.rs`).
const TARGETS: [(&str, Target); 10] = [
    ("cmdline", fuzz_targets::cmdline),
    ("lvm_label", fuzz_targets::lvm_label),
    ("lvm_mda", fuzz_targets::lvm_mda),
    ("lvm_text", fuzz_targets::lvm_text),
    ("gpt", fuzz_targets::gpt),
    ("verity_superblock", fuzz_targets::verity_superblock),
    ("signature", fuzz_targets::signature),
    ("pkcs7", fuzz_targets::pkcs7),
    ("planner", fuzz_targets::planner),
    ("fec", fuzz_targets::fec),
];

/// The most one input may take. The fuzzers allow 5 s to an optimized build; this is an
/// unoptimized one running beside other tests: the planner regressions (4096 partitions
/// that all match, planned for four command lines) take about 2.5 s here, and took
/// minutes and gigabytes before matches shared their disk image.
const LIMIT: Duration = Duration::from_secs(20);

fn fuzz_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
}

/// (target, function, input file) for every file under `fuzz/<kind>/<target>/`; a
/// directory that names no target is an error.
fn inputs(kind: &str) -> Result<Vec<(String, Target, PathBuf)>, String> {
    let root = fuzz_dir(kind);
    let mut out = Vec::new();
    let dirs = match fs::read_dir(&root) {
        Ok(dirs) => dirs,
        // No bug found yet: no fuzz/regressions/. The seeds test needs its directory.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && kind == "regressions" => {
            return Ok(out)
        }
        Err(e) => return Err(format!("cannot list {}: {e}", root.display())),
    };
    for dir in dirs {
        let dir = dir.map_err(|e| format!("cannot list {}: {e}", root.display()))?;
        let name = dir.file_name().to_string_lossy().into_owned();
        let Some(&(_, f)) = TARGETS.iter().find(|(t, _)| *t == name) else {
            return Err(format!(
                "{} is not a fuzz target's directory; targets: {}",
                dir.path().display(),
                TARGETS.map(|(t, _)| t).join(" ")
            ));
        };
        for file in fs::read_dir(dir.path()).map_err(|e| e.to_string())? {
            let path = file.map_err(|e| e.to_string())?.path();
            if path.is_file() {
                out.push((name.clone(), f, path));
            }
        }
    }
    out.sort_by(|a, b| a.2.cmp(&b.2));
    Ok(out)
}

/// Runs `f` on the bytes of `path` on a thread of its own; `Err` says how it failed.
fn replay_one(f: Target, path: &Path) -> Result<Duration, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let (done, wait) = mpsc::channel();
    let started = Instant::now();
    thread::Builder::new()
        .name(path.display().to_string())
        .spawn(move || {
            f(&bytes);
            let _ = done.send(());
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    match wait.recv_timeout(LIMIT) {
        Ok(()) => Ok(started.elapsed()),
        Err(RecvTimeoutError::Timeout) => Err(format!("still running after {LIMIT:?}: a hang")),
        Err(RecvTimeoutError::Disconnected) => Err("panicked (message above)".to_string()),
    }
}

/// Replays every input of `fuzz/<kind>/`; fails listing each input that failed.
fn replay_all(kind: &str) -> Vec<(String, PathBuf)> {
    let all = inputs(kind).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for (target, f, path) in &all {
        match replay_one(*f, path) {
            Ok(took) => eprintln!("{target}: {} in {took:.2?}", path.display()),
            Err(why) => failures.push(format!("{target}: {}: {why}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs under fuzz/{kind}/ failed:\n  {}",
        failures.len(),
        all.len(),
        failures.join("\n  ")
    );
    all.into_iter().map(|(t, _, p)| (t, p)).collect()
}

#[test]
fn fuzz_regressions_replay() {
    replay_all("regressions");
}

/// The seeds run through every target, so the replay never passes by finding nothing.
#[test]
fn fuzz_seeds_replay_every_target() {
    let replayed = replay_all("seeds");
    let missing: Vec<&str> = TARGETS
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| !replayed.iter().any(|(r, _)| r == t))
        .collect();
    assert!(
        missing.is_empty(),
        "no seed under fuzz/seeds/ for {}: commit at least one small seed for each target",
        missing.join(", ")
    );
}
