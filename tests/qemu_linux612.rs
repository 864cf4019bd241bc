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
//! (its first field, `C` for a corrupted block: 6.19 appends an FEC count). What only 6.12
//! has, veritytab's `error-as-corruption` (the kernel's `restart_on_error` and
//! `panic_on_error`), has a module of its own below, with this file's `LINUX612`.
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

/// What only 6.12 has: veritytab's `error-as-corruption`, the kernel's `restart_on_error`
/// and `panic_on_error`. An I/O error (QEMU's blkdebug fails the sector of a byte the
/// root's init reads, after the switch) then restarts or panics the machine as a
/// corrupted block does; without it the reader gets EIO and the root's init fails
/// (status 5). Linux 6.1 refuses the option before the table loads
/// (`tests/qemu_kernel_needs.rs`).
mod needs_qemu_root_loop_linux612_error_as_corruption {
    use super::*;

    /// Boots one-pv with the sector of `corrupt_at` failing with EIO and these options.
    fn boot_with_bad_sector(name: &str, options: &str) -> Booted {
        linux612();
        let fix = qemu_fixture("one-pv");
        let at = &fix.expect["corrupt_at"];
        let image = at["image"].as_str().expect("corrupt_at.image").to_string();
        let sector = at["offset"].as_u64().expect("corrupt_at.offset") / 512;
        let extra = format!("systemd.verity_root_options={options}");
        let boot = LINUX612
            .boot_of_fixture(name, &fix, &extra)
            .bad_sectors(&image, sector, sector);
        LINUX612.run(boot)
    }

    fn assert_table_ends(booted: &Booted, words: &str) {
        let table = booted.verity_table();
        assert!(table.ends_with(words), "{table}\n{}", booted.describe());
    }

    fn assert_no_pass(booted: &Booted) {
        booted.assert_no_pass("a root with an unreadable block");
    }

    #[test]
    fn restarts_on_an_io_error_with_restart_on_corruption_and_error_as_corruption() {
        let booted = boot_with_bad_sector(
            "restart-on-error",
            "restart-on-corruption,error-as-corruption",
        );
        assert_table_ends(&booted, " 2 restart_on_corruption restart_on_error");
        assert_no_pass(&booted);
        assert_eq!(
            booted.code,
            Some(0),
            "a restart ends QEMU (-no-reboot)\n{}",
            booted.describe()
        );
        assert!(
            booted
                .console
                .contains("Restarting system with command 'dm-verity device has I/O error'"),
            "expected the kernel's restart on the I/O error\n{}",
            booted.describe()
        );
    }

    #[test]
    fn panics_on_an_io_error_with_panic_on_corruption_and_error_as_corruption() {
        let booted =
            boot_with_bad_sector("panic-on-error", "panic-on-corruption,error-as-corruption");
        assert_table_ends(&booted, " 2 panic_on_corruption panic_on_error");
        assert_no_pass(&booted);
        assert_eq!(
            booted.code,
            Some(0),
            "a panic ends QEMU (panic=-1, -no-reboot)\n{}",
            booted.describe()
        );
        assert!(
            booted.console.contains("Kernel panic")
                && booted.console.contains("dm-verity device has I/O error"),
            "expected the kernel's panic on the I/O error\n{}",
            booted.describe()
        );
    }

    #[test]
    fn an_io_error_fails_the_read_without_error_as_corruption() {
        let booted = boot_with_bad_sector("io-error-no-restart", "restart-on-corruption");
        assert_table_ends(&booted, " 1 restart_on_corruption");
        assert_eq!(
            booted.code,
            Some(5),
            "the root's init should run and fail reading the block (status 5)\n{}",
            booted.describe()
        );
        assert!(
            booted
                .markers()
                .iter()
                .any(|m| m.starts_with("FAIL cannot read"))
                && !booted.console.contains("dm-verity device has I/O error"),
            "{}",
            booted.describe()
        );
    }
}
