//! The QEMU core cases on Linux 6.12: Debian 12 ships it beside 6.1, and it changes
//! dm-verity (restart_on_error, panic_on_error; its status line). `make kernel initramfs
//! KERNEL_SERIES=6.12` stages the current one (the `linux-image-6.12-amd64` metapackage's;
//! its vmlinuz is zstd-compressed, scripts/fetch-kernel decompresses it) and packs its
//! modules with verinit: `build/6.12/vmlinux` and `build/6.12/initramfs.cpio`, apart from
//! 6.1's files. Every boot of this process runs on them (`qemu::use_boot_files`), and each
//! is checked to have run 6.12.
//!
//! The cases: the core ones of `tests/qemu_cases/` (every way to name the root, a late
//! disk, a wrong root hash, a flipped byte), the corruption policy
//! (`tests/qemu_cases/corruption.rs`), and the signed root as Debian's kernel can check it
//! (`tests/qemu_cases/signatures.rs`'s untrusted_signatures: it does not trust the test
//! key). And one case for the verity status line, which verinit reads after a failed read
//! (its first field, `C` for a corrupted block: 6.19 appends an FEC count). Cases for what
//! only 6.12 has (its new verity options) belong in a module of their own below, with
//! this file's `LINUX612`.
//!
//! Each test is `needs_qemu_root_loop_linux612*`: it needs QEMU, root and loop devices,
//! and `make kernel initramfs KERNEL_SERIES=6.12` (one download of about 100 MB the first
//! time). It fails, saying so, when one is missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;
#[macro_use]
#[allow(dead_code)]
mod qemu_cases;

use common::corrupt_root_data;
use qemu::{make, qemu_fixture, source_root, use_boot_files, Booted};
use qemu_cases::Kernel;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The series `make kernel KERNEL_SERIES=` stages, and the directory of its files.
const SERIES: &str = "6.12";

/// Makes 6.12's kernel and initramfs once per process; every boot uses them.
fn linux612() {
    static FILES: OnceLock<Result<(PathBuf, PathBuf), String>> = OnceLock::new();
    let files = FILES.get_or_init(|| {
        // make knows whether they are up to date: an initramfs holding an older verinit
        // would test the wrong binary.
        let out = make()
            .args(["kernel", "initramfs", &format!("KERNEL_SERIES={SERIES}")])
            .output()
            .map_err(|e| format!("cannot run make: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "the Linux {SERIES} QEMU tests need build/{SERIES}/vmlinux and \
                 build/{SERIES}/initramfs.cpio, made by `make kernel initramfs \
                 KERNEL_SERIES={SERIES}` (mk/boot.mk), which failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let dir = source_root().join("build").join(SERIES);
        let (kernel, initramfs) = (dir.join("vmlinux"), dir.join("initramfs.cpio"));
        match [&kernel, &initramfs].iter().find(|f| !f.is_file()) {
            Some(f) => Err(format!(
                "`make kernel initramfs KERNEL_SERIES={SERIES}` did not make {}",
                f.display()
            )),
            None => Ok((kernel, initramfs)),
        }
    });
    let (kernel, initramfs) = files.clone().unwrap_or_else(|e| panic!("{e}"));
    use_boot_files(kernel, Some(initramfs));
}

/// The kernel that ran was 6.12 (its banner).
fn assert_linux612(booted: &Booted) {
    assert!(
        booted.console.contains(&format!("Linux version {SERIES}.")),
        "the boot should have run Linux {SERIES} (build/{SERIES}/vmlinux)\n{}",
        booted.describe()
    );
}

/// Debian's 6.12 kernel with build/6.12/initramfs.cpio.
const LINUX612: Kernel = Kernel {
    prefix: "linux612-",
    prepare: linux612,
    check: assert_linux612,
};

/// The core cases of tests/qemu_cases/.
mod needs_qemu_root_loop_linux612 {
    qemu_cases!(core: super::LINUX612);
}

/// The corruption policy cases of tests/qemu_cases/corruption.rs.
mod needs_qemu_root_loop_linux612_corruption {
    qemu_cases!(corruption: super::LINUX612);
}

/// The signed root on a kernel that does not trust the test key.
mod needs_qemu_root_loop_linux612_signatures {
    qemu_cases!(untrusted_signatures: super::LINUX612);
}

/// The dm-verity status line of 6.12's target (1.10.0).
mod needs_qemu_root_loop_linux612_status {
    use super::*;

    /// `verinit.verify=full` reads the whole root before switching to it; one flipped byte
    /// in its data fails that read, and verinit asks the kernel for the verity status: its
    /// first field is `C` (a block did not match its hash), which verinit adds to the
    /// error. The policy then powers off.
    #[test]
    fn full_check_reads_corruption_from_status_line() {
        linux612();
        let fix = qemu_fixture("one-pv");
        let boot = LINUX612.boot_of_fixture("full-check-status", &fix, "verinit.verify=full");
        corrupt_root_data(&fix, &boot.dir);
        let booted = LINUX612.run(boot);
        booted.assert_refused(
            "poweroff",
            &[
                "verinit.verify=full",
                "dm-verity found a block that does not match its hash",
            ],
        );
        booted.assert_root_never_ran();
    }
}
