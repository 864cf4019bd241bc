//! Hostile disks for `tests/hostile_disks.rs` and `tests/qemu_hostile.rs`: damaged copies
//! of the make-fixture scenarios, made by `tests/hostile/make-hostile` (see README.md
//! beside it), and the dry run on them under limits.
//!
//! A case is made into `$CARGO_TARGET_TMPDIR/hostile/<case>` (QEMU cases: `.../qemu-<case>`;
//! with `VERINIT_TEST_ARCH=arm64`, `hostile-arm64/`, the arm64 binary under qemu-user)
//! from a fixture built by `tests/common` (or `tests/qemu`), with its `manifest.json`. The
//! dry run is the real binary, run through `prlimit --as=268435456` (256 MiB of address
//! space: a huge allocation fails and aborts) and killed after 10 s (a hang), with stdout
//! and stderr in files of the case's directory. A command line longer than one argument
//! may be (128 KiB) is bind-mounted over `/proc/cmdline` in a private mount namespace
//! (`unshare --mount`), which is where verinit reads it without `--cmdline`.

// Each test crate includes this module and uses a part of it.
#![allow(dead_code)]

use crate::common::Fixture;
use serde_json::Value;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Address space the dry run may use (prlimit --as).
pub const MEMORY_LIMIT: u64 = 256 << 20;
/// Address space qemu-aarch64-static needs beside its guest's (arm64 under test): its
/// JIT buffer is 128 MiB.
pub const EMULATOR_ALLOWANCE: u64 = 256 << 20;
/// Time after which the dry run is killed as hung.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);
/// An error longer than this is not one a person can read at a console (a serial console
/// at 115200 baud prints ~11 KiB/s).
pub const MAX_ERROR_BYTES: usize = 64 << 10;

pub fn generator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/make-hostile")
}

fn tool_path() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{path}:/usr/local/sbin:/usr/sbin:/sbin")
}

/// `make-hostile --list`: (case, scenario, description), in the generator's order.
pub fn list() -> &'static [(String, String, String)] {
    static LIST: OnceLock<Vec<(String, String, String)>> = OnceLock::new();
    LIST.get_or_init(|| {
        let out = Command::new("python3")
            .arg(generator())
            .arg("--list")
            .output()
            .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", generator().display()));
        assert!(
            out.status.success(),
            "make-hostile --list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let mut w = l.splitn(3, ' ');
                let mut next = || w.next().unwrap_or_default().to_string();
                (next(), next(), next())
            })
            .collect()
    })
}

/// The scenario a case is made from.
pub fn scenario_of(case: &str) -> String {
    list()
        .iter()
        .find(|(c, _, _)| c == case)
        .map(|(_, s, _)| s.clone())
        .unwrap_or_else(|| panic!("make-hostile --list has no case {case}"))
}

/// A made case: its directory and manifest.
pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: Value,
}

/// Runs the generator for `case` on `fix` into `$CARGO_TARGET_TMPDIR/hostile/<dir_name>`
/// (`hostile-arm64/` when arm64 is under test).
pub fn make_case(fix: &Fixture, case: &str, dir_name: &str) -> Case {
    let cases = match crate::common::test_arch() {
        crate::common::Arch::X86_64 => "hostile".to_string(),
        arch => format!("hostile-{}", arch.name()),
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(cases)
        .join(dir_name);
    let out = Command::new("python3")
        .arg(generator())
        .arg(case)
        .arg(&fix.dir)
        .arg(&dir)
        .env("PATH", tool_path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run make-hostile: {e}"));
    assert!(
        out.status.success(),
        "make-hostile {case} {} {} failed ({}):\n{}{}",
        fix.dir.display(),
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(dir.join("manifest.json"))
        .unwrap_or_else(|e| panic!("cannot read {}/manifest.json: {e}", dir.display()));
    Case {
        name: case.to_string(),
        manifest: serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}/manifest.json is not JSON: {e}", dir.display())),
        dir,
    }
}

impl Case {
    pub fn images(&self) -> Vec<PathBuf> {
        self.strings("images")
            .iter()
            .map(|i| self.dir.join(i))
            .collect()
    }

    pub fn cmdline_file(&self) -> PathBuf {
        self.dir.join("cmdline")
    }

    pub fn cmdline(&self) -> String {
        fs::read_to_string(self.cmdline_file())
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.cmdline_file().display()))
    }

    pub fn via_proc_cmdline(&self) -> bool {
        self.manifest["cmdline_via"] == "proc-cmdline"
    }

    pub fn verify(&self) -> bool {
        self.manifest["verify"] == true
    }

    pub fn expect_exit(&self) -> i64 {
        self.manifest["expect_exit"].as_i64().unwrap_or(1)
    }

    /// A list of strings of the manifest.
    pub fn strings(&self, key: &str) -> Vec<String> {
        self.manifest[key]
            .as_array()
            .unwrap_or_else(|| panic!("manifest {key} is not an array: {}", self.manifest))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Words of the manifest with `@disk0.img` replaced by that image's path, as the dry
    /// run names it.
    pub fn words(&self, key: &str) -> Vec<String> {
        let images = self.strings("images");
        self.strings(key)
            .into_iter()
            .map(|w| {
                images.iter().fold(w, |w, i| {
                    w.replace(&format!("@{i}"), &self.dir.join(i).display().to_string())
                })
            })
            .collect()
    }

    /// Removes the damaged copies (kept when the test fails, to look at).
    pub fn remove(&self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What one limited dry run did.
pub struct Outcome {
    pub command: String,
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub hung: bool,
    pub seconds: f64,
    pub stdout: String,
    pub stderr: String,
    pub json: Option<Value>,
}

/// The dry run on the case's images, under the memory and time limits.
pub fn run_dry(case: &Case, verify: bool) -> Outcome {
    // arm64's binary runs under qemu-user, whose -R gives it MEMORY_LIMIT of address
    // space; prlimit then bounds the emulator too, with room for its own mappings. (Under
    // prlimit alone the guest would get what qemu leaves, and qemu's mremap moves every
    // growing block to fresh addresses: the same allocations need ~2x the space.)
    let arm64 = crate::common::test_arch() == crate::common::Arch::Arm64;
    let process_limit = MEMORY_LIMIT + if arm64 { EMULATOR_ALLOWANCE } else { 0 };
    let mut verinit: Vec<String> = vec![
        "prlimit".into(),
        format!("--as={process_limit}"),
        "--".into(),
    ];
    verinit.extend(crate::common::verinit_argv(Some(MEMORY_LIMIT)));
    verinit.extend(["--dry-run".into(), "--json".into()]);
    if verify {
        verinit.push("--verify".into());
    }
    if !case.via_proc_cmdline() {
        verinit.push("--cmdline".into());
        verinit.push(case.cmdline());
    }
    verinit.extend(case.images().iter().map(|p| p.display().to_string()));
    let argv: Vec<String> = if case.via_proc_cmdline() {
        // unshare execs (no fork), sh execs prlimit, prlimit execs verinit: one process,
        // the one killed on a hang.
        let mut a: Vec<String> = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            "mount --bind \"$0\" /proc/cmdline && exec \"$@\"",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push(case.cmdline_file().display().to_string());
        a.extend(verinit);
        a
    } else {
        verinit
    };
    let suffix = if verify { "-verify" } else { "" };
    let out_path = case.dir.join(format!("stdout{suffix}.json"));
    let err_path = case.dir.join(format!("stderr{suffix}.txt"));
    let command = describe_argv(&argv);
    let started = Instant::now();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .env("PATH", tool_path())
        // glibc reserves 64 MiB of address space per thread arena: --verify's threads
        // would count against the limit without allocating anything.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("create the stdout file"))
        .stderr(fs::File::create(&err_path).expect("create the stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command}: {e}"));
    let (status, hung) = loop {
        if let Some(status) = child.try_wait().expect("wait for the dry run") {
            break (status, false);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            break (child.wait().expect("wait for the killed dry run"), true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&fs::read(&out_path).unwrap_or_default()).to_string();
    let stderr = String::from_utf8_lossy(&fs::read(&err_path).unwrap_or_default()).to_string();
    Outcome {
        command,
        code: status.code(),
        signal: status.signal(),
        hung,
        seconds,
        json: serde_json::from_str(&stdout).ok(),
        stdout,
        stderr,
    }
}

/// A shell-like command line, long arguments shortened.
fn describe_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.len() > 200 {
                format!("'{}…' ({} bytes)", &a[..floor(a, 120)], a.len())
            } else if a.contains(' ') || a.contains('"') || a.is_empty() {
                format!("'{a}'")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The largest char boundary of `text` at or before `at`.
fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        text.to_string()
    } else {
        let head = &text[..floor(text, max / 2)];
        let mut from = text.len() - max / 2;
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let tail = &text[from..];
        format!("{head}\n… ({} bytes in all) …\n{tail}", text.len())
    }
}

impl Outcome {
    pub fn error(&self) -> String {
        self.json
            .as_ref()
            .and_then(|j| j["error"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.json
            .as_ref()
            .and_then(|j| j["warnings"].as_array())
            .map(|a| {
                a.iter()
                    .map(|w| w.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How it ended, in words.
    pub fn ending(&self) -> String {
        if self.hung {
            format!(
                "HUNG: killed after {} s ({:.1} s)",
                TIME_LIMIT.as_secs(),
                self.seconds
            )
        } else if let Some(sig) = self.signal {
            let what = match sig {
                6 => " (SIGABRT: an allocation failed under the address-space limit, or a panic)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV: a stack overflow?)",
                _ => "",
            };
            format!("killed by signal {sig}{what} after {:.2} s", self.seconds)
        } else {
            format!("exit status {:?} after {:.2} s", self.code, self.seconds)
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{}\n{}\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.ending(),
            shorten(&self.stdout, 4000),
            shorten(&self.stderr, 4000)
        )
    }

    /// Never a panic, a hang, an abort or an allocation failure, whatever the case.
    pub fn assert_survived(&self, case: &Case) {
        let troubles = [
            (self.hung, "hung"),
            (self.signal.is_some(), "was killed by a signal"),
            (self.stderr.contains("panicked"), "panicked"),
            (
                self.stderr.contains("memory allocation of"),
                "failed to allocate",
            ),
        ];
        for (bad, what) in troubles {
            assert!(
                !bad,
                "case {}: verinit {what}\n{}",
                case.name,
                self.describe()
            );
        }
        assert!(
            self.json.is_some(),
            "case {}: stdout is not one JSON object\n{}",
            case.name,
            self.describe()
        );
    }

    /// Exit status 1, `"ok": false`, no plan, an error of readable length holding each of
    /// the manifest's `error_contains`, and every `report_contains` in the error or a
    /// warning.
    pub fn assert_refused(&self, case: &Case) {
        self.assert_survived(case);
        let json = self.json.as_ref().expect("checked above");
        assert_eq!(
            self.code,
            Some(1),
            "case {}: expected exit status 1\n{}",
            case.name,
            self.describe()
        );
        assert_eq!(
            json["ok"],
            Value::Bool(false),
            "case {}: expected \"ok\": false\n{}",
            case.name,
            self.describe()
        );
        assert_eq!(
            json["plan"],
            Value::Null,
            "case {}: a refused boot has no plan\n{}",
            case.name,
            self.describe()
        );
        let error = self.error();
        assert!(
            !error.is_empty() && error.len() <= MAX_ERROR_BYTES,
            "case {}: the error is {} bytes long (1 to {MAX_ERROR_BYTES} are readable)\n{}",
            case.name,
            error.len(),
            self.describe()
        );
        let error_lc = error.to_lowercase();
        let warnings_lc: Vec<String> = self.warnings().iter().map(|w| w.to_lowercase()).collect();
        for w in case.words("error_contains") {
            let w_lc = w.to_lowercase();
            let in_warning = warnings_lc.iter().any(|x| x.contains(&w_lc));
            assert!(
                error_lc.contains(&w_lc),
                "case {}: the error should say {w:?}{}\nerror: {error}\n{}",
                case.name,
                if in_warning {
                    " (only a warning says it)"
                } else {
                    ""
                },
                self.describe()
            );
        }
        for w in case.words("report_contains") {
            let w_lc = w.to_lowercase();
            assert!(
                error_lc.contains(&w_lc) || warnings_lc.iter().any(|x| x.contains(&w_lc)),
                "case {}: neither the error nor a warning says {w:?}\nerror: {error}\nwarnings: {:?}\n{}",
                case.name,
                self.warnings(),
                self.describe()
            );
        }
    }

    /// The boot would go ahead: exit 0, `"ok": true`, and the selected candidate uses the
    /// manifest's `expect_algorithm`.
    pub fn assert_booted(&self, case: &Case) {
        self.assert_survived(case);
        let json = self.json.as_ref().expect("checked above");
        assert!(
            self.code == Some(0) && json["ok"] == true,
            "case {}: expected the boot to go ahead (exit 0, \"ok\": true)\n{}",
            case.name,
            self.describe()
        );
        if let Some(alg) = case.manifest["expect_algorithm"].as_str() {
            let selected: Vec<&Value> = json["candidates"]
                .as_array()
                .map(|c| c.iter().filter(|c| c["selected"] == true).collect())
                .unwrap_or_default();
            assert!(
                selected.len() == 1 && selected[0]["verity"]["algorithm"] == alg,
                "case {}: the selected candidate should use {alg}\n{}",
                case.name,
                self.describe()
            );
        }
    }
}

/// The whole check of one case: the dry run (and with `--verify` when the manifest says
/// so) ends as the manifest expects. The damaged copies are removed when it passes.
pub fn check_case(fix: &Fixture, case: &str) {
    let made = make_case(fix, case, case);
    let runs: &[bool] = if made.verify() {
        &[false, true]
    } else {
        &[false]
    };
    for &verify in runs {
        let outcome = run_dry(&made, verify);
        eprintln!(
            "hostile {case}{}: {}",
            if verify { " --verify" } else { "" },
            outcome.ending()
        );
        match made.expect_exit() {
            0 => outcome.assert_booted(&made),
            _ => outcome.assert_refused(&made),
        }
    }
    made.remove();
}
