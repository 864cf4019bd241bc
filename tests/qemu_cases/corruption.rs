//! The corruption policy cases, for every kernel's suite (`qemu_cases!(corruption:
//! KERNEL);`: `tests/qemu_corruption.rs` on Debian's x86_64 kernel, `tests/qemu_arm64.rs`
//! on Debian's arm64 one). A data block of the verified root is corrupted on disk; the
//! plan is fine (the top of the tree still matches the root hash), so the boot mounts the
//! root and the kernel's dm-verity finds the bad block when it is read. What happens then
//! is the corruption policy of `systemd.verity_root_options=`, which verinit passes in the
//! verity table:
//!   (none)                   the read fails with EIO: the root's init cannot pass
//!   restart-on-corruption    the kernel restarts (QEMU, with -no-reboot, exits 0)
//!   panic-on-corruption      the kernel panics (panic=-1: QEMU exits 0)
//!   ignore-corruption        the read returns the bad data and the kernel logs it; here
//!                            squashfs then finds its compressed block damaged
//! The corrupted byte lies in a file the root's init reads in full (it reads every file).

use super::Kernel;
use crate::common::corrupt_root_data;
use crate::qemu::{qemu_fixture, Booted};

/// Boots a copy of the one-pv fixture with one flipped byte in the root's data, with
/// `options` as the verity options; returns the boot.
fn boot_corrupted(kernel: &Kernel, name: &str, options: &str) -> Booted {
    let fix = qemu_fixture("one-pv");
    let extra = if options.is_empty() {
        String::new()
    } else {
        format!("systemd.verity_root_options={options}")
    };
    let boot = kernel.boot_of_fixture(name, &fix, &extra);
    corrupt_root_data(&fix, &boot.dir);
    kernel.run(boot)
}

fn assert_no_pass(booted: &Booted) {
    booted.assert_no_pass("a corrupted root");
}

pub fn corruption_restarts_with_restart_on_corruption(kernel: &Kernel) {
    let booted = boot_corrupted(kernel, "corrupt-restart", "restart-on-corruption");
    assert!(
        booted.verity_table().ends_with(" 1 restart_on_corruption"),
        "{}",
        booted.describe()
    );
    assert_no_pass(&booted);
    assert_eq!(
        booted.code,
        Some(0),
        "a restart ends QEMU (-no-reboot)\n{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("dm-verity device corrupted"),
        "expected the kernel's restart on corruption\n{}",
        booted.describe()
    );
}

pub fn corruption_panics_with_panic_on_corruption(kernel: &Kernel) {
    let booted = boot_corrupted(kernel, "corrupt-panic", "panic-on-corruption");
    assert!(
        booted.verity_table().ends_with(" 1 panic_on_corruption"),
        "{}",
        booted.describe()
    );
    assert_no_pass(&booted);
    assert_eq!(booted.code, Some(0), "{}", booted.describe());
    assert!(
        booted.console.contains("Kernel panic") && booted.console.contains("corrupted"),
        "expected the kernel's panic on corruption\n{}",
        booted.describe()
    );
}

pub fn corruption_is_logged_and_passed_on_with_ignore_corruption(kernel: &Kernel) {
    let booted = boot_corrupted(kernel, "corrupt-ignore", "ignore-corruption");
    assert!(
        booted.verity_table().ends_with(" 1 ignore_corruption"),
        "{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("is corrupted"),
        "dm-verity logs the bad block even when it lets the read through\n{}",
        booted.describe()
    );
    // The bad bytes reach the filesystem (dm-verity returned them, not EIO): squashfs
    // fails to decompress them.
    assert!(
        booted.console.contains("decompression failed"),
        "{}",
        booted.describe()
    );
    assert_no_pass(&booted);
}

pub fn corruption_fails_reads_by_default(kernel: &Kernel) {
    let booted = boot_corrupted(kernel, "corrupt-default", "");
    assert!(
        !booted.verity_table().contains("_corruption"),
        "{}",
        booted.describe()
    );
    assert_no_pass(&booted);
    // dm-verity fails the read: squashfs gets EIO (-5), never the bad bytes.
    assert!(
        booted.console.contains("is corrupted")
            && booted.console.contains("Failed to read block")
            && !booted.console.contains("decompression failed"),
        "{}",
        booted.describe()
    );
}
