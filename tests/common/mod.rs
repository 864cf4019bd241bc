//! Helpers for the integration tests that need root and loop devices.
//!
//! Fixtures are built by `tests/fixtures/make-fixture` with the real tools (see
//! `tests/fixtures/README.md` for the scenarios and the shape of `expect.json`) into
//! `$CARGO_TARGET_TMPDIR/fixtures/<scenario>`, once per version of the generator: a
//! `complete` marker holds the SHA-256 of the generator's files. The dry run is the real
//! binary, `verinit --dry-run --json --cmdline TEXT DEVICE...`; what its JSON must say is
//! checked in `tests/dry_run_lvm.rs`.
//!
//! `VERINIT_TEST_ARCH` (environment: `x86_64`, the default, or `arm64`) is the
//! architecture under test. With `arm64` the dry run is the arm64 release binary
//! (`make ARCH=arm64`: `target/aarch64-unknown-linux-musl/release/verinit`) run by
//! `qemu-aarch64-static` (qemu-user; this machine has no binfmt_misc to do it on its own),
//! and the fixtures are made with `ARCH=arm64` (the DPS partitions of arm64) into
//! `$CARGO_TARGET_TMPDIR/fixtures-arm64/`. `make test-arm64` runs the dry-run suites so.

// Each test crate includes this module and uses a part of it.
#![allow(dead_code)]

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

/// The generator's files: a change to any of them rebuilds every fixture.
const GENERATOR_FILES: [&str; 4] = [
    "make-fixture",
    "tool_reports.py",
    "mda_bytes.py",
    "../../scripts/add-fec",
];

/// Programs the fixtures need, with the Debian package that has each.
const TOOLS: [(&str, &str); 8] = [
    ("lvm", "lvm2"),
    ("losetup", "mount"),
    ("sgdisk", "gdisk"),
    ("mksquashfs", "squashfs-tools"),
    ("mkfs.erofs", "erofs-utils"),
    ("veritysetup", "cryptsetup-bin"),
    ("python3", "python3"),
    ("cmp", "diffutils"),
];

/// An architecture verinit is built and tested for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    /// As `make ARCH=`, make-fixture's `ARCH=` and `VERINIT_TEST_ARCH` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// As the Discoverable Partitions Specification names its partitions: `root-<dps>`,
    /// `root-<dps>-verity`, `root-<dps>-verity-sig`.
    pub fn dps(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86-64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The arch make-fixture's `ARCH=` names, if it is one of these.
    pub fn from_name(name: &str) -> Option<Arch> {
        [Arch::X86_64, Arch::Arm64]
            .into_iter()
            .find(|a| a.name() == name)
    }

    /// The Rust target `make ARCH=` builds for.
    pub fn target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Arm64 => "aarch64-unknown-linux-musl",
        }
    }
}

/// The architecture under test: `VERINIT_TEST_ARCH`, x86_64 when unset. Any other value
/// fails the test: a typo must not quietly test x86_64 again.
pub fn test_arch() -> Arch {
    match std::env::var("VERINIT_TEST_ARCH").as_deref() {
        Err(_) | Ok("") | Ok("x86_64") => Arch::X86_64,
        Ok("arm64") => Arch::Arm64,
        Ok(other) => panic!("VERINIT_TEST_ARCH={other}: use x86_64 (the default) or arm64"),
    }
}

/// The verinit binary under test, ready for its arguments: the one cargo built for these
/// tests (x86_64), or the arm64 release binary under `qemu-aarch64-static`. A missing
/// emulator or binary fails the test with the command that provides it.
pub fn verinit() -> Command {
    let argv = verinit_argv(None);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd
}

/// [`verinit`] as words. `guest_address_space` (arm64 only) is qemu-user's `-R`: the
/// bytes of address space the emulated program gets, apart from the emulator's own (its
/// 128 MiB JIT buffer, its heap), as `prlimit --as` bounds a native program.
pub fn verinit_argv(guest_address_space: Option<u64>) -> Vec<String> {
    match test_arch() {
        Arch::X86_64 => vec![env!("CARGO_BIN_EXE_verinit").to_string()],
        Arch::Arm64 => {
            assert!(
                on_path("qemu-aarch64-static"),
                "VERINIT_TEST_ARCH=arm64 runs the arm64 binary with qemu-aarch64-static, not \
                 found in PATH (Debian package qemu-user-static): run make deps"
            );
            let bin = arm64_binary();
            assert!(
                bin.is_file(),
                "VERINIT_TEST_ARCH=arm64 tests the arm64 binary {}, which is not there: run \
                 make ARCH=arm64 (or make test-arm64, which builds it)",
                bin.display()
            );
            let mut argv = vec!["qemu-aarch64-static".to_string()];
            if let Some(bytes) = guest_address_space {
                argv.extend(["-R".to_string(), bytes.to_string()]);
            }
            argv.push(bin.display().to_string());
            argv
        }
    }
}

/// `target/aarch64-unknown-linux-musl/release/verinit` in the target directory these
/// tests were built in (`$CARGO_TARGET_TMPDIR` is its `tmp/`).
fn arm64_binary() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .unwrap_or(tmp)
        .join(Arch::Arm64.target())
        .join("release/verinit")
}

pub fn fixtures_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// PATH with the sbin directories added: lvm2, losetup and sgdisk live there.
fn tool_path() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{path}:/usr/local/sbin:/usr/sbin:/sbin")
}

/// Whether `tool` is a file in a directory of PATH (the sbin directories included).
pub fn on_path(tool: &str) -> bool {
    tool_path()
        .split(':')
        .any(|dir| Path::new(dir).join(tool).is_file())
}

/// Fails the test, never skips it, when it cannot do what its name says it needs.
pub fn require_root_and_tools() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test needs root (losetup, pvcreate on loop devices): run it as root, \
         e.g. `sudo -E cargo test --test dry_run_lvm`"
    );
    let missing: Vec<String> = TOOLS
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(tool, package)| format!("{tool} (Debian package {package})"))
        .collect();
    assert!(
        missing.is_empty(),
        "this test needs these programs, not found in PATH: {}: run make deps",
        missing.join(", ")
    );
}

fn run(cmd: &mut Command) -> Output {
    cmd.env("PATH", tool_path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// The test signing keys (`scripts/make-test-keys build/keys`, made once): every
/// fixture's signatures are by them, so they are part of what a fixture is made from.
pub fn test_keys() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("build/keys");
    let out = run(Command::new(root.join("scripts/make-test-keys")).arg(&dir));
    assert!(
        out.status.success(),
        "scripts/make-test-keys failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn generator_hash() -> String {
    let mut h = Sha256::new();
    let keys = test_keys();
    for name in ["trusted.crt", "untrusted.crt"] {
        let path = keys.join(name);
        let bytes =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        h.update(&bytes);
    }
    for name in GENERATOR_FILES {
        let path = fixtures_source().join(name);
        let bytes =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// One lock per scenario: tests in this process that share a fixture build it once.
fn scenario_lock(scenario: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks.entry(scenario.to_string()).or_default().clone()
}

/// A built scenario: its directory and its parsed `expect.json`.
pub struct Fixture {
    pub scenario: String,
    pub dir: PathBuf,
    pub expect: Value,
}

impl Fixture {
    pub fn cmdline(&self) -> String {
        str_of(&self.expect["cmdline"]).to_string()
    }

    pub fn images(&self) -> Vec<String> {
        array_of(&self.expect["images"])
            .iter()
            .map(|v| str_of(v).to_string())
            .collect()
    }

    pub fn image_paths(&self) -> Vec<PathBuf> {
        self.images().iter().map(|i| self.dir.join(i)).collect()
    }

    /// Placeholders for the dry run given the image files: `@disk0.img` -> its path.
    pub fn placeholders_for_paths(&self) -> HashMap<String, String> {
        self.images()
            .iter()
            .map(|i| (format!("@{i}"), self.dir.join(i).display().to_string()))
            .collect()
    }

    pub fn sector_size(&self) -> u64 {
        self.expect["sector_size"].as_u64().unwrap_or(512)
    }

    /// The DPS name of one of the fixture's root partitions, of its arch (`dps_arch`):
    /// `dps_name("")` is `root-x86-64` or `root-arm64`, `dps_name("-verity-sig")`
    /// `root-arm64-verity-sig`.
    pub fn dps_name(&self, suffix: &str) -> String {
        format!("root-{}{suffix}", str_of(&self.expect["dps_arch"]))
    }
}

/// Builds `scenario` for the architecture under test unless a complete build from the
/// same generator is cached (`fixtures/`; arm64's in `fixtures-arm64/`).
pub fn fixture(scenario: &str) -> Fixture {
    let dir = match test_arch() {
        Arch::X86_64 => "fixtures".to_string(),
        arch => format!("fixtures-{}", arch.name()),
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    fixture_in(scenario, &root, "", &[])
}

/// Builds `scenario` into `root/<scenario>` with `env` set for make-fixture (e.g.
/// `ROOTFS_DIR`), unless a complete build from the same generator, arch and `extra_key`
/// (what the environment's inputs hash to) is there. make-fixture's `ARCH` is the
/// architecture under test unless `env` names one; never the one the tests inherited
/// (`make ARCH=arm64 test` exports ARCH). Tests of one process that share a fixture build
/// it once; other processes that race use whichever build lands first.
pub fn fixture_in(scenario: &str, root: &Path, extra_key: &str, env: &[(&str, &Path)]) -> Fixture {
    require_root_and_tools();
    let lock = scenario_lock(&format!("{}/{scenario}", root.display()));
    let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root.join(scenario);
    let marker = dir.join("complete");
    let arch = env
        .iter()
        .find(|(k, _)| *k == "ARCH")
        .map(|(_, v)| v.display().to_string())
        .unwrap_or_else(|| test_arch().name().to_string());
    // x86_64's key is what it was before fixtures had an arch: its caches stay valid.
    let arch_key = match arch.as_str() {
        "x86_64" => String::new(),
        other => format!(" arch={other}"),
    };
    let hash = format!("{}{arch_key}{extra_key}", generator_hash());
    let cached = fs::read_to_string(&marker)
        .map(|m| m.trim() == hash)
        .unwrap_or(false);
    if !cached {
        fs::create_dir_all(root).expect("create the fixtures directory");
        let building = root.join(format!("{scenario}.building-{}", std::process::id()));
        let _ = fs::remove_dir_all(&building);
        let mut cmd = Command::new(fixtures_source().join("make-fixture"));
        cmd.arg(scenario).arg(&building).env("ARCH", &arch);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        assert!(
            out.status.success(),
            "make-fixture {scenario} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        fs::write(building.join("complete"), format!("{hash}\n")).expect("write the marker");
        let _ = fs::remove_dir_all(&dir);
        if fs::rename(&building, &dir).is_err() {
            // Another process put a fixture there first: use that one.
            let _ = fs::remove_dir_all(&building);
        }
    }
    let text = fs::read_to_string(dir.join("expect.json"))
        .unwrap_or_else(|e| panic!("cannot read {}/expect.json: {e}", dir.display()));
    let expect: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}/expect.json is not JSON: {e}", dir.display()));
    // The images are of the arch asked for, or every DPS expectation would be wrong.
    let dps = Arch::from_name(&arch).map(Arch::dps);
    assert!(
        dps.is_some() && expect["dps_arch"].as_str() == dps,
        "{}/expect.json: dps_arch is {}, but make-fixture was asked for ARCH={arch}: remove \
         the directory and run the test again",
        dir.display(),
        expect["dps_arch"]
    );
    Fixture {
        scenario: scenario.to_string(),
        dir,
        expect,
    }
}

/// A loop device attached read-only to an image; detached when dropped.
pub struct LoopDevice {
    pub path: String,
    /// "7:N", as a dm table names it.
    pub dev: String,
}

impl LoopDevice {
    pub fn attach_read_only(image: &Path, sector_size: u64) -> LoopDevice {
        let out = run(Command::new("losetup")
            .args(["-r", "-f", "--show", "-b", &sector_size.to_string()])
            .arg(image));
        assert!(
            out.status.success(),
            "losetup -r -f --show -b {sector_size} {} failed: {}",
            image.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let name = path.trim_start_matches("/dev/");
        let dev = fs::read_to_string(format!("/sys/block/{name}/dev"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|e| {
                let _ = run(Command::new("losetup").args(["-d", &path]));
                panic!("cannot read /sys/block/{name}/dev: {e}")
            });
        LoopDevice { path, dev }
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let out = run(Command::new("losetup").args(["-d", &self.path]));
        if !out.status.success() {
            eprintln!(
                "losetup -d {} failed: {}",
                self.path,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// What one dry run printed.
pub struct DryRun {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

impl DryRun {
    /// The command, its exit status and output: for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "verinit {:?}\nexit status: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    pub fn error_text(&self) -> String {
        self.json["error"].as_str().unwrap_or_default().to_string()
    }

    /// Exit status 1, "ok": false, and an error text containing one of `words`.
    pub fn assert_failed_with_any_of(&self, words: &[&str]) {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit status 1\n{}",
            self.describe()
        );
        assert_eq!(
            self.json["ok"],
            Value::Bool(false),
            "expected \"ok\": false\n{}",
            self.describe()
        );
        let error = self.error_text().to_lowercase();
        assert!(
            words.iter().any(|w| error.contains(&w.to_lowercase())),
            "expected the error to mention one of {words:?}\n{}",
            self.describe()
        );
    }
}

pub fn dry_run(cmdline: &str, devices: &[String], verify: bool) -> DryRun {
    let mut args = vec!["--dry-run".to_string(), "--json".to_string()];
    if verify {
        args.push("--verify".to_string());
    }
    args.push("--cmdline".to_string());
    args.push(cmdline.to_string());
    args.extend(devices.iter().cloned());
    dry_run_with(args)
}

/// The dry run with these arguments; its stdout must be one JSON object.
pub fn dry_run_with(args: Vec<String>) -> DryRun {
    let out = run(verinit().args(&args));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "the dry run did not print one JSON object on stdout ({e})\nverinit {args:?}\nexit status: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status.code()
        )
    });
    DryRun {
        args,
        code: out.status.code(),
        json,
        stdout,
        stderr,
    }
}

pub fn str_of(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
}

pub fn array_of(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, found {v}"))
}

/// Copies a fixture's images into a fresh directory (for tests that damage them); a failed
/// test leaves it there to look at, the next run replaces it.
pub fn copy_images(fix: &Fixture, label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("damaged")
        .join(format!("{}-{label}", fix.scenario));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create a directory for damaged copies");
    for image in fix.images() {
        fs::copy(fix.dir.join(&image), dir.join(&image))
            .unwrap_or_else(|e| panic!("cannot copy {image}: {e}"));
    }
    dir
}

/// Flips every bit of the byte `expect.json` names in `corrupt_at`, in the copy in `dir`.
pub fn corrupt_root_data(fix: &Fixture, dir: &Path) {
    use std::os::unix::fs::FileExt;
    let at = &fix.expect["corrupt_at"];
    let image = dir.join(str_of(&at["image"]));
    let offset = at["offset"].as_u64().expect("corrupt_at.offset");
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&image)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", image.display()));
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, offset)
        .expect("read the byte to corrupt");
    byte[0] ^= 0xff;
    file.write_all_at(&byte, offset)
        .expect("write the corrupted byte");
}
