//! Booting verinit in QEMU for `tests/qemu_boot.rs`.
//!
//! A boot is the Debian kernel (`build/vmlinux`) with `build/initramfs.cpio` (verinit as
//! `/init`), both made by `make kernel initramfs` once per test process, on disk images
//! from `tests/fixtures/make-fixture` built with `ROOTFS_DIR` set to the test root
//! (`rootfs-skel/` + busybox, assembled by `scripts/make-disk --rootfs`). The root's
//! `/sbin/init` prints `VERINIT-TEST: PASS ...` or `VERINIT-TEST: FAIL ...` and ends QEMU
//! (x86_64: isa-debug-exit; arm64: Arm semihosting SYS_EXIT): status 3 is a pass, 5 a
//! failure. Status 0 is a poweroff, a reboot or a panic (`panic=-1` with `-no-reboot`):
//! never a pass.
//!
//! Each boot runs `scripts/qemu-boot` on its own copies of the images, in
//! `$CARGO_TARGET_TMPDIR/qemu/runs/<name>/` (QEMU locks an image it has open, and boots
//! run in parallel), with the console in `console.log` there, and checks that every image
//! is byte-identical afterwards. At most as many QEMUs run at once as there are cores:
//! TCG keeps one busy.
//!
//! `VERINIT_TEST_KERNEL` and `VERINIT_TEST_INITRAMFS` name other files to boot (then
//! `make` is not run; on arm64 `VERINIT_TEST_ARM64_KERNEL` and
//! `VERINIT_TEST_ARM64_INITRAMFS`).
//!
//! The machine is chosen once per test process, before its first boot (the first call
//! wins; another choice later fails the test):
//!   - the architecture, `use_arch(Arch::Arm64)` (default `Arch::X86_64`): it decides
//!     QEMU's binary and machine (`scripts/qemu-boot --arch`), the console on the command
//!     line (ttyS0, ttyAMA0), `make ... ARCH=` for the kernel, initramfs and binary
//!     (`build/` or `build/arm64/`), and the test root and fixtures (`make-fixture`,
//!     `make-disk` with `ARCH=`, cached apart: `$CARGO_TARGET_TMPDIR/qemu-arm64/`);
//!   - the kernel: by default `make kernel initramfs`'s (Debian's); `use_boot_files`
//!     names another kernel and initramfs (another kernel series), and
//!     `use_embedded_kernel` / `embedded()` a kernel that carries verinit itself, with no
//!     `-initrd` (`tests/qemu_embedded.rs`).

use crate::common::{on_path, require_root_and_tools, str_of, Fixture};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

/// What every boot's command line starts with after `console=<the arch's console>`: a
/// panic ends QEMU at once (`-no-reboot`), and a failed boot powers off instead of
/// rebooting.
pub const BASE_CMDLINE_AFTER_CONSOLE: &str = "panic=-1 rd.emergency=poweroff";

/// What every boot's command line starts with: the serial console of this process's
/// machine, then `BASE_CMDLINE_AFTER_CONSOLE`. On x86_64 also `no_timer_check`: under a
/// loaded TCG host the kernel's IO-APIC timer check can misjudge the emulated timer and
/// panic ("IO-APIC + timer doesn't work!"), which happened once in this suite at a load
/// of 8 on 2 cores; the check proves nothing about verinit.
pub fn base_cmdline() -> String {
    let quirk = match arch() {
        Arch::X86_64 => " no_timer_check",
        Arch::Arm64 => "",
    };
    format!(
        "console={}{quirk} {BASE_CMDLINE_AFTER_CONSOLE}",
        arch().console()
    )
}

// ---------------------------------------------------------------- the machine

/// The architecture every boot of a test process emulates: the one `tests/common`
/// names (`name`, `target`, `dps`), with what a QEMU boot of it needs besides.
pub use crate::common::Arch;

impl Arch {
    /// The serial console: the PC's 16550, or QEMU virt's PL011.
    pub fn console(self) -> &'static str {
        match self {
            Arch::X86_64 => "ttyS0",
            Arch::Arm64 => "ttyAMA0",
        }
    }

    /// QEMU's program and the Debian package that has it.
    pub fn qemu(self) -> (&'static str, &'static str) {
        match self {
            Arch::X86_64 => ("qemu-system-x86_64", "qemu-system-x86"),
            Arch::Arm64 => ("qemu-system-aarch64", "qemu-system-arm"),
        }
    }

    /// The Makefile's $(BUILD), relative to the source root.
    pub fn build_dir(self) -> &'static str {
        match self {
            Arch::X86_64 => "build",
            Arch::Arm64 => "build/arm64",
        }
    }

    /// What the environment variables naming other boot files start with.
    fn env_prefix(self) -> &'static str {
        match self {
            Arch::X86_64 => "VERINIT_TEST_",
            Arch::Arm64 => "VERINIT_TEST_ARM64_",
        }
    }
}

/// Which kernel (and initramfs) the boots of a process use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelChoice {
    /// `make kernel initramfs ARCH=<arch>`: Debian's kernel with verinit's initramfs (or
    /// the files the environment names).
    Made,
    /// These files; `initramfs: None` for a kernel that carries its own (no -initrd).
    Files {
        kernel: PathBuf,
        initramfs: Option<PathBuf>,
    },
}

/// What every boot of a test process runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    pub arch: Arch,
    pub kernel: KernelChoice,
}

/// The arch and the kernel of this process, each fixed by its first use: by `use_arch`
/// or `use_boot_files`, or their defaults (x86_64, `make kernel initramfs`) once anything
/// needed them.
static ARCH: OnceLock<Arch> = OnceLock::new();
static KERNEL: OnceLock<KernelChoice> = OnceLock::new();

/// This process's machine (fixes both choices).
pub fn machine() -> Machine {
    Machine {
        arch: arch(),
        kernel: KERNEL.get_or_init(|| KernelChoice::Made).clone(),
    }
}

/// This process's arch (fixes it: x86_64 unless `use_arch` chose first).
pub fn arch() -> Arch {
    *ARCH.get_or_init(|| Arch::X86_64)
}

/// Every boot of this process emulates `arch`. Call it first in each test (the suite's
/// `prepare`), always with the same arch: anything of this module fixes the default.
#[allow(dead_code)] // only the arm64 suites call it
pub fn use_arch(arch: Arch) {
    let set = *ARCH.get_or_init(|| arch);
    assert_eq!(
        set, arch,
        "this test process already runs on {set:?}: use_arch({arch:?}) must come first"
    );
}

/// Every boot of this process boots `kernel` with `initramfs` (None: the kernel carries
/// its initramfs; QEMU gets no -initrd), made by the caller for `arch()`. Call it before
/// the first boot, always with the same files. (Another kernel series, an embedded
/// kernel: `use_embedded_kernel`.)
#[allow(dead_code)] // not every test file boots its own kernel
pub fn use_boot_files(kernel: PathBuf, initramfs: Option<PathBuf>) {
    let want = KernelChoice::Files { kernel, initramfs };
    let set = KERNEL.get_or_init(|| want.clone());
    assert_eq!(
        *set, want,
        "this test process already boots another kernel: use_boot_files must come before \
         the first boot"
    );
}

/// Seconds a boot may take before QEMU is killed. A boot takes ~3-5 s under TCG (arm64's
/// ~6-8 s: Debian's arm64 kernel starts slower, its modules take longer to load).
pub const BOOT_TIMEOUT: u64 = 120;

pub fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The QEMU tests' files of this process's arch: the test root, fixtures, runs.
fn work_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    match arch() {
        Arch::X86_64 => tmp.join("qemu"),
        arch => tmp.join(format!("qemu-{}", arch.name())),
    }
}

fn tool_path() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{path}:/usr/local/sbin:/usr/sbin:/sbin")
}

/// Runs a command to completion; Err carries its command line, status and output.
fn run_checked(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .env("PATH", tool_path())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{cmd:?} failed ({}):\n{text}", out.status))
    }
}

// ---------------------------------------------------------------- the kernel and initramfs

pub struct BootFiles {
    pub kernel: PathBuf,
    /// None: the kernel carries its initramfs (CONFIG_INITRAMFS_SOURCE), no -initrd.
    pub initramfs: Option<PathBuf>,
    /// Made by `make` (not named by the environment).
    pub from_make: bool,
}

/// Every boot of this process boots `kernel`, which carries verinit as its built-in
/// initramfs, with no -initrd. Call it before the first boot, always with the same file.
#[allow(dead_code)] // only the embedded kernels' suites call it
pub fn use_embedded_kernel(kernel: PathBuf) {
    use_boot_files(kernel, None);
}

/// The kernel and initramfs, made once per process (or named by the environment).
pub fn boot_files() -> &'static BootFiles {
    static FILES: OnceLock<Result<BootFiles, String>> = OnceLock::new();
    let files = FILES.get_or_init(|| {
        let Machine { arch, kernel } = machine();
        if let KernelChoice::Files { kernel, initramfs } = kernel {
            for f in std::iter::once(&kernel).chain(&initramfs) {
                if !f.is_file() {
                    return Err(format!(
                        "{} (chosen by the test) does not exist",
                        f.display()
                    ));
                }
            }
            return Ok(BootFiles {
                kernel,
                initramfs,
                from_make: false,
            });
        }
        let prefix = arch.env_prefix();
        if let (Ok(k), Ok(i)) = (
            std::env::var(format!("{prefix}KERNEL")),
            std::env::var(format!("{prefix}INITRAMFS")),
        ) {
            let files = BootFiles {
                kernel: PathBuf::from(k),
                initramfs: Some(PathBuf::from(i)),
                from_make: false,
            };
            for f in std::iter::once(&files.kernel).chain(&files.initramfs) {
                if !f.is_file() {
                    return Err(format!("{} (from {prefix}*) does not exist", f.display()));
                }
            }
            return Ok(files);
        }
        // make knows whether they are up to date: an initramfs holding an older verinit
        // would test the wrong binary.
        let build = arch.build_dir();
        run_checked(make().args(["kernel", "initramfs"])).map_err(|e| {
            format!(
                "the QEMU tests need {build}/vmlinux and {build}/initramfs.cpio, made by \
                 `make kernel initramfs ARCH={}` (mk/boot.mk): {e}",
                arch.name()
            )
        })?;
        let files = BootFiles {
            kernel: source_root().join(build).join("vmlinux"),
            initramfs: Some(source_root().join(build).join("initramfs.cpio")),
            from_make: true,
        };
        for f in std::iter::once(&files.kernel).chain(&files.initramfs) {
            if !f.is_file() {
                return Err(format!(
                    "`make kernel initramfs ARCH={}` did not make {}",
                    arch.name(),
                    f.display()
                ));
            }
        }
        Ok(files)
    });
    files.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

/// The initramfs without one kernel module: `make build/initramfs-without-<module>.cpio`
/// (mk/boot.mk: the module, the modules that need it and their modules.dep lines left
/// out), or, when the initramfs was named by the environment, that archive with the
/// module's files taken out.
pub fn initramfs_without_module(module: &str) -> PathBuf {
    if !boot_files().from_make {
        return archive_without_module(module);
    }
    let target = format!("{}/initramfs-without-{module}.cpio", arch().build_dir());
    run_checked(make().arg(&target)).unwrap_or_else(|e| panic!("cannot make {target}: {e}"));
    source_root().join(target)
}

/// The environment's initramfs without the files of `module` (`dm-verity` or
/// `dm_verity`, any `.ko` compression), written next to the test's runs. The archive is
/// rewritten entry by entry (newc, several concatenated archives allowed), so it needs
/// neither root nor cpio; a compressed initramfs is decompressed first.
fn archive_without_module(module: &str) -> PathBuf {
    let base = boot_files()
        .initramfs
        .as_ref()
        .expect("the embedded kernel's initramfs has no modules to leave out");
    let bytes = decompressed(base);
    let names = [module.replace('_', "-"), module.replace('-', "_")];
    let is_module = |name: &str| {
        let file = name.rsplit('/').next().unwrap_or(name);
        names
            .iter()
            .any(|m| file == format!("{m}.ko") || file.starts_with(&format!("{m}.ko.")))
    };
    let (out, removed) = cpio_without(&bytes, is_module)
        .unwrap_or_else(|e| panic!("cannot read {} as a newc cpio archive: {e}", base.display()));
    assert!(
        !removed.is_empty(),
        "{} holds no {module}.ko: cannot test a boot without it",
        base.display()
    );
    let dir = work_dir();
    fs::create_dir_all(&dir).expect("create the QEMU work directory");
    let path = dir.join(format!("initramfs-without-{module}.cpio"));
    fs::write(&path, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    eprintln!(
        "{}: {} without {}",
        path.display(),
        base.display(),
        removed.join(", ")
    );
    path
}

fn decompressed(path: &Path) -> Vec<u8> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let tool = match bytes.get(..4) {
        Some([0x1f, 0x8b, _, _]) => "gzip",
        Some([0x28, 0xb5, 0x2f, 0xfd]) => "zstd",
        Some([0xfd, b'7', b'z', b'X']) => "xz",
        _ => return bytes,
    };
    let out = Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} -dc {}: {e}", path.display()));
    assert!(out.status.success(), "{tool} -dc {} failed", path.display());
    out.stdout
}

/// Copies a newc archive (or several, concatenated, with zero padding between them)
/// without the entries `drop` names. Returns the new archive and the dropped names.
fn cpio_without(
    data: &[u8],
    drop: impl Fn(&str) -> bool,
) -> Result<(Vec<u8>, Vec<String>), String> {
    let pad4 = |n: usize| (n + 3) & !3;
    let (mut at, mut out, mut dropped) = (0usize, Vec::new(), Vec::new());
    while at < data.len() {
        if data[at] == 0 {
            at += 1; // padding between concatenated archives
            continue;
        }
        let header = data
            .get(at..at + 110)
            .ok_or_else(|| format!("truncated header at {at}"))?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return Err(format!("no newc magic at offset {at}"));
        }
        let field = |i: usize| {
            let hex = std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i]).unwrap_or("");
            usize::from_str_radix(hex, 16).map_err(|_| format!("bad header field {i} at {at}"))
        };
        let (file_size, name_size) = (field(6)?, field(11)?);
        let name_end = at + 110 + name_size;
        let data_start = at + pad4(110 + name_size);
        let next = data_start + pad4(file_size);
        let name = data
            .get(at + 110..name_end.saturating_sub(1))
            .map(|n| String::from_utf8_lossy(n).to_string())
            .ok_or_else(|| format!("truncated name at {at}"))?;
        if next > data.len() + 3 {
            return Err(format!("entry {name} runs past the end"));
        }
        let entry = &data[at..next.min(data.len())];
        if drop(&name) {
            dropped.push(name);
        } else {
            out.extend_from_slice(entry);
            out.resize(pad4(out.len()), 0);
        }
        at = next;
    }
    Ok((out, dropped))
}

// ---------------------------------------------------------------- the root file system

/// The test root's tree, assembled once per process; its hash keys the fixtures.
fn rootfs() -> &'static (PathBuf, String) {
    static ROOTFS: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();
    let r = ROOTFS.get_or_init(|| {
        let dir = work_dir().join("rootfs");
        run_checked(
            Command::new(source_root().join("scripts/make-disk"))
                .arg("--rootfs")
                .arg(&dir)
                .env("ARCH", arch().name()),
        )
        .map_err(|e| format!("cannot assemble the test root file system: {e}"))?;
        let mut h = Sha256::new();
        hash_tree(&dir, &dir, &mut h);
        Ok((dir, hex(&h.finalize())))
    });
    r.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Names, modes, link targets and contents under `dir`, in name order.
fn hash_tree(top: &Path, dir: &Path, h: &mut Sha256) {
    use std::os::unix::fs::PermissionsExt;
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = fs::symlink_metadata(&path).expect("stat");
        let rel = path.strip_prefix(top).expect("inside the tree");
        h.update(rel.as_os_str().as_encoded_bytes());
        h.update(meta.permissions().mode().to_le_bytes());
        if meta.file_type().is_symlink() {
            h.update(
                fs::read_link(&path)
                    .expect("readlink")
                    .as_os_str()
                    .as_encoded_bytes(),
            );
        } else if meta.is_dir() {
            hash_tree(top, &path, h);
        } else {
            h.update(fs::read(&path).expect("read a file of the tree"));
        }
        h.update([0]);
    }
}

/// Fails a QEMU test at once, before it builds any image, when QEMU is missing.
pub fn require_qemu() {
    let (qemu, package) = arch().qemu();
    assert!(
        on_path(qemu),
        "this test boots QEMU: {qemu} not found in PATH (Debian package {package}): run \
         make deps"
    );
}

/// A make-fixture scenario whose root file systems are the test root, built once per
/// generator and root, with `ARCH=` this process's arch (cached in
/// `$CARGO_TARGET_TMPDIR/qemu/fixtures/<scenario>`, arm64's in `qemu-arm64/`).
pub fn qemu_fixture(scenario: &str) -> Fixture {
    require_qemu();
    let (tree, tree_hash) = rootfs();
    let arch = arch().name();
    crate::common::fixture_in(
        scenario,
        &work_dir().join("fixtures"),
        &format!("{tree_hash}-{arch}"),
        &[("ROOTFS_DIR", tree.as_path()), ("ARCH", Path::new(arch))],
    )
}

/// The root hash of a fixture's root image.
pub fn root_hash(fix: &Fixture) -> String {
    str_of(&fix.expect["verity"]["root_hash"]).to_string()
}

/// `make -C <source root>`, building the binary where the Makefile looks for it: a
/// `CARGO_TARGET_DIR` the tests run with would send it elsewhere and leave an old one in
/// the initramfs.
/// `make` in the checkout, with `DEPS=check`: a test never installs anything, so a
/// missing tool fails it at once with one line naming `make deps`.
/// `ARCH=` is this process's arch, whatever the environment says.
pub fn make() -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(source_root())
        .arg("DEPS=check")
        .arg(format!("ARCH={}", arch().name()))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("ARCH");
    cmd
}

/// Makes the embedded kernel of `arch()` once per process (`make kernel-embedded
/// ARCH=<arch>`: `$(BUILD)/vmlinux-embedded`) and has every boot use it (for
/// `tests/qemu_embedded.rs` and `tests/qemu_signatures.rs`). `VERINIT_TEST_EMBEDDED_KERNEL`
/// (arm64: `VERINIT_TEST_ARM64_EMBEDDED_KERNEL`) names another one.
#[allow(dead_code)] // not every test file boots the embedded kernel
pub fn embedded() {
    static EMBEDDED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let kernel = EMBEDDED.get_or_init(|| {
        let var = format!("{}EMBEDDED_KERNEL", arch().env_prefix());
        if let Ok(k) = std::env::var(&var) {
            let k = PathBuf::from(k);
            return if k.is_file() {
                Ok(k)
            } else {
                Err(format!("{} (from {var}) does not exist", k.display()))
            };
        }
        // make knows whether it is up to date: a kernel holding an older verinit would
        // test the wrong binary.
        let root = source_root();
        let out = make()
            .arg("kernel-embedded")
            .output()
            .map_err(|e| format!("cannot run make: {e}"))?;
        let build = arch().build_dir();
        if !out.status.success() {
            return Err(format!(
                "the embedded QEMU tests need {build}/vmlinux-embedded, made by `make \
                 kernel-embedded ARCH={}` (mk/embedded.mk, included by the Makefile), which \
                 failed ({}):\n{}{}",
                arch().name(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let k = root.join(build).join("vmlinux-embedded");
        if k.is_file() {
            Ok(k)
        } else {
            Err(format!(
                "`make kernel-embedded ARCH={}` did not make {}",
                arch().name(),
                k.display()
            ))
        }
    });
    use_embedded_kernel(kernel.clone().unwrap_or_else(|e| panic!("{e}")));
}

/// `scripts/make-disk OUTDIR` (what `make disk` runs), once per process: the directory
/// holding disk.img and disk.cmdline.
pub fn make_disk() -> PathBuf {
    static DISK: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    require_qemu();
    let r = DISK.get_or_init(|| {
        require_root_and_tools();
        let dir = work_dir().join("make-disk");
        run_checked(
            Command::new(source_root().join("scripts/make-disk"))
                .arg(&dir)
                .env("ARCH", arch().name()),
        )
        .map(|_| dir)
    });
    r.as_ref().unwrap_or_else(|e| panic!("{e}")).clone()
}

// ---------------------------------------------------------------- running QEMU

/// A slot among as many as there are cores: each TCG QEMU keeps one busy.
struct Slot;

static SLOTS: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

impl Slot {
    fn take() -> Slot {
        let max = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut used = SLOTS.0.lock().unwrap_or_else(|e| e.into_inner());
        while *used >= max {
            used = SLOTS.1.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *SLOTS.0.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        SLOTS.1.notify_one();
    }
}

/// One boot to run: its own copies of the disks, in `dir`.
pub struct Boot {
    pub name: String,
    pub dir: PathBuf,
    pub cmdline: String,
    disks: Vec<PathBuf>,
    hot_add: Vec<(f64, PathBuf)>,
    /// The console text the hot-add times count from (None: QEMU's start).
    hot_add_after: Option<String>,
    /// Sectors whose reads fail with EIO: (disk, first, last), 512-byte sectors.
    bad_sectors: Vec<(PathBuf, u64, u64)>,
    sector_size: u64,
    initramfs: Option<PathBuf>,
    timeout: u64,
}

impl Boot {
    /// A boot of `images` (copied into the run directory, attached in this order) with
    /// `base_cmdline()` followed by `cmdline`.
    pub fn new(name: &str, images: &[PathBuf], cmdline: &str) -> Boot {
        require_qemu();
        boot_files();
        let dir = work_dir().join("runs").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the run directory");
        let disks = images
            .iter()
            .map(|image| {
                let to = dir.join(image.file_name().expect("an image file name"));
                run_checked(
                    Command::new("cp")
                        .arg("--sparse=always")
                        .arg(image)
                        .arg(&to),
                )
                .unwrap_or_else(|e| panic!("{e}"));
                to
            })
            .collect();
        Boot {
            name: name.to_string(),
            dir,
            cmdline: format!("{} {cmdline}", base_cmdline()),
            disks,
            hot_add: Vec::new(),
            hot_add_after: None,
            bad_sectors: Vec::new(),
            sector_size: 512,
            initramfs: None,
            timeout: BOOT_TIMEOUT,
        }
    }

    /// A boot of a fixture's images with its own command line and `extra` after it.
    pub fn of_fixture(name: &str, fix: &Fixture, extra: &str) -> Boot {
        let mut boot = Boot::new(
            name,
            &fix.image_paths(),
            &format!("{} {extra}", fix.cmdline()),
        );
        boot.sector_size = fix.sector_size();
        boot
    }

    /// The run directory's copy of `image` (e.g. "disk0.img"), to damage before the boot.
    pub fn disk(&self, image: &str) -> PathBuf {
        self.disks
            .iter()
            .chain(self.hot_add.iter().map(|(_, p)| p))
            .find(|p| p.file_name().is_some_and(|n| n == image))
            .unwrap_or_else(|| panic!("no disk {image} in boot {}", self.name))
            .clone()
    }

    /// Attaches `image` only `secs` after QEMU starts (QMP device_add).
    pub fn hot_add(mut self, image: &str, secs: f64) -> Boot {
        let path = self.disk(image);
        self.disks.retain(|p| *p != path);
        self.hot_add.push((secs, path));
        self
    }

    /// The `hot_add` times count from the first console line holding `text`, not from
    /// QEMU's start: on a loaded machine the kernel may take seconds longer to get there.
    #[allow(dead_code)] // only the late-disk case uses it
    pub fn hot_add_after(mut self, text: &str) -> Boot {
        self.hot_add_after = Some(text.to_string());
        self
    }

    /// Reads of 512-byte sectors `first..=last` of `image` fail with EIO in the guest
    /// (QEMU's blkdebug driver): a failing flash region. The image itself is untouched.
    #[allow(dead_code)] // only some test files fail sectors
    pub fn bad_sectors(mut self, image: &str, first: u64, last: u64) -> Boot {
        let path = self.disk(image);
        assert!(
            self.disks.contains(&path),
            "bad sectors on {image}: only disks attached at start can have them"
        );
        self.bad_sectors.push((path, first, last));
        self
    }

    /// Leaves `rd.emergency=` off the command line: verinit's default policy applies.
    pub fn default_failure_policy(mut self) -> Boot {
        self.cmdline = self.cmdline.replacen(" rd.emergency=poweroff", "", 1);
        self
    }

    pub fn initramfs(mut self, path: PathBuf) -> Boot {
        self.initramfs = Some(path);
        self
    }

    pub fn run(self) -> Booted {
        let files = boot_files();
        let log = self.dir.join("console.log");
        let initrd = match self.initramfs.as_ref().or(files.initramfs.as_ref()) {
            Some(path) => vec!["--initrd".into(), path.display().to_string()],
            None => vec!["--no-initrd".into()],
        };
        let mut args: Vec<String> = vec![
            "--arch".into(),
            arch().name().into(),
            "--kernel".into(),
            files.kernel.display().to_string(),
        ];
        args.extend(initrd);
        args.extend([
            "--append".into(),
            self.cmdline.clone(),
            "--timeout".into(),
            self.timeout.to_string(),
            "--log".into(),
            log.display().to_string(),
            "--quiet".into(),
        ]);
        if self.sector_size != 512 {
            args.extend(["--disk-sector-size".into(), self.sector_size.to_string()]);
        }
        for d in &self.disks {
            args.extend(["--disk".into(), d.display().to_string()]);
        }
        for (d, first, last) in &self.bad_sectors {
            args.extend([
                "--bad-sectors".into(),
                format!("{}:{first}-{last}", d.display()),
            ]);
        }
        if let Some(text) = &self.hot_add_after {
            args.extend(["--hot-add-after".into(), text.clone()]);
        }
        for (secs, d) in &self.hot_add {
            args.extend(["--hot-add".into(), format!("{secs}:{}", d.display())]);
        }
        let all_disks: Vec<PathBuf> = self
            .disks
            .iter()
            .chain(self.hot_add.iter().map(|(_, p)| p))
            .cloned()
            .collect();
        let before: Vec<String> = all_disks.iter().map(|d| sha256_file(d)).collect();

        let slot = Slot::take();
        let started = Instant::now();
        let out = Command::new(source_root().join("scripts/qemu-boot"))
            .args(&args)
            .env("PATH", tool_path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/qemu-boot: {e}"));
        let seconds = started.elapsed().as_secs_f64();
        drop(slot);

        let console = fs::read_to_string(&log)
            .map(|s| s.replace('\r', ""))
            .unwrap_or_default();
        let booted = Booted {
            name: self.name.clone(),
            args,
            code: out.status.code(),
            console,
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
            log,
            seconds,
        };
        eprintln!(
            "boot {}: QEMU exit {:?} after {seconds:.1} s (console: {})",
            booted.name,
            booted.code,
            booted.log.display()
        );
        for (disk, sum) in all_disks.iter().zip(before) {
            assert_eq!(
                sha256_file(disk),
                sum,
                "{} changed during the boot: verinit must never write to a disk\n{}",
                disk.display(),
                booted.describe()
            );
        }
        booted
    }
}

fn sha256_file(path: &Path) -> String {
    let mut f =
        fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).expect("read a disk image");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex(&h.finalize())
}

/// What one boot did.
pub struct Booted {
    pub name: String,
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub console: String,
    pub stderr: String,
    pub log: PathBuf,
    pub seconds: f64,
}

/// The marker lines of the test root's init.
const MARKER: &str = "VERINIT-TEST: ";

impl Booted {
    /// For failure messages: the command, the status and the console's last lines.
    pub fn describe(&self) -> String {
        let lines: Vec<&str> = self.console.lines().collect();
        let tail = lines[lines.len().saturating_sub(80)..].join("\n");
        format!(
            "scripts/qemu-boot {:?}\nQEMU exit status: {:?} after {:.1} s (3: the root's init passed, \
             5: it failed, 0: poweroff, reboot or panic, 124: timeout)\nstderr:\n{}\nconsole \
             (last 80 lines; all of it in {}):\n{tail}",
            self.args,
            self.code,
            self.seconds,
            self.stderr,
            self.log.display()
        )
    }

    /// The verity table verinit loaded, from its log.
    #[allow(dead_code)] // only the corruption cases read it
    pub fn verity_table(&self) -> String {
        self.console
            .lines()
            .find(|l| l.contains(" verity 1 "))
            .unwrap_or_else(|| panic!("no verity table in the log\n{}", self.describe()))
            .to_string()
    }

    /// The root's init did not pass (it may have run and failed, or never run).
    #[allow(dead_code)] // only the corruption cases need it
    pub fn assert_no_pass(&self, why: &str) {
        assert!(
            !self.markers().iter().any(|m| m.starts_with("PASS")),
            "{why} must not pass\n{}",
            self.describe()
        );
    }

    /// The marker lines (`VERINIT-TEST: ...`), without what precedes the marker.
    pub fn markers(&self) -> Vec<&str> {
        self.console
            .lines()
            .filter_map(|l| l.find(MARKER).map(|i| &l[i + MARKER.len()..]))
            .collect()
    }

    /// verinit's report: the console from its first `verinit: ` on, in lower case (a
    /// report may go on over lines of its own, e.g. one per candidate).
    pub fn verinit_text(&self) -> String {
        self.console
            .find("verinit: ")
            .map(|i| self.console[i..].to_lowercase())
            .unwrap_or_default()
    }

    /// The root's init ran on a verified root and passed: QEMU exit 3 and one PASS line,
    /// no FAIL. Returns the PASS line.
    pub fn assert_passed(&self) -> String {
        let markers = self.markers();
        let passes: Vec<&&str> = markers.iter().filter(|m| m.starts_with("PASS")).collect();
        let fails: Vec<&&str> = markers.iter().filter(|m| m.starts_with("FAIL")).collect();
        assert!(
            self.code == Some(3) && passes.len() == 1 && fails.is_empty(),
            "expected the root's init to pass (QEMU exit 3, one `VERINIT-TEST: PASS` line)\n{}",
            self.describe()
        );
        passes[0].to_string()
    }

    /// The PASS line says `key=value` (words of the line).
    pub fn assert_pass_says(&self, pass: &str, key: &str, value: &str) {
        let want = format!("{key}={value}");
        assert!(
            pass.split_whitespace().any(|w| w == want),
            "the PASS line should say {want}: {pass}\n{}",
            self.describe()
        );
    }

    /// Nothing of the root ran: no marker at all.
    pub fn assert_root_never_ran(&self) {
        assert!(
            self.markers().is_empty(),
            "the root's init ran, it should not have\n{}",
            self.describe()
        );
    }

    /// verinit refused the boot: QEMU exited 0 by the failure policy (never 3), the
    /// root's init never ran, `verinit: failure policy: <policy>` was printed and
    /// verinit's lines contain each of `words` (case-insensitive).
    pub fn assert_refused(&self, policy: &str, words: &[&str]) {
        assert_eq!(
            self.code,
            Some(0),
            "expected QEMU to exit 0 (verinit's failure policy: {policy})\n{}",
            self.describe()
        );
        self.assert_root_never_ran();
        let text = self.verinit_text();
        // "verinit: failure policy: reboot", maybe followed by " in 10 s (...)".
        let line = format!("verinit: failure policy: {policy}");
        assert!(
            text.lines().any(|l| l
                .find(&line)
                .map(|i| &l[i + line.len()..])
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))),
            "expected the line `{line}`\n{}",
            self.describe()
        );
        for w in words {
            assert!(
                text.contains(&w.to_lowercase()),
                "verinit's report should mention {w:?}\n{}",
                self.describe()
            );
        }
    }

    /// The boot record verinit wrote (`/run/verinit/boot.json`), as the root's init
    /// printed it.
    #[allow(dead_code)] // only some test files read the record
    pub fn boot_record(&self) -> serde_json::Value {
        let line = self
            .markers()
            .into_iter()
            .find_map(|m| m.strip_prefix("boot-record "))
            .unwrap_or_else(|| {
                panic!(
                    "the root's init printed no boot record\n{}",
                    self.describe()
                )
            });
        serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "the boot record is not JSON ({e}): {line}\n{}",
                self.describe()
            )
        })
    }

    /// The kernel's timestamp (`[    2.291646] ...`) of the first console line holding
    /// `needle`, in seconds since boot.
    pub fn kernel_time_of(&self, needle: &str) -> Option<f64> {
        let line = self.console.lines().find(|l| l.contains(needle))?;
        let stamp = line.trim_start().strip_prefix('[')?.split(']').next()?;
        stamp.trim().parse().ok()
    }

    /// Where `needle` first occurs on the console.
    pub fn position(&self, needle: &str) -> Option<usize> {
        self.console.find(needle)
    }
}
