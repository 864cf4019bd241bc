//! A data block of the verified root is corrupted on disk; the plan is fine (the top of
//! the tree still matches the root hash), so the boot mounts the root and the kernel's
//! dm-verity finds the bad block when it is read. What happens then is the corruption
//! policy of `systemd.verity_root_options=`, which verinit passes in the verity table:
//!   (none)                   the read fails with EIO: the root's init cannot pass
//!   restart-on-corruption    the kernel restarts (QEMU, with -no-reboot, exits 0)
//!   panic-on-corruption      the kernel panics (panic=-1: QEMU exits 0)
//!   ignore-corruption        the read returns the bad data and the kernel logs it; here
//!                            squashfs then finds its compressed block damaged
//! The corrupted byte lies in a file the root's init reads in full (it reads every file).
//!
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU, root and loop devices and
//! `make kernel initramfs`, and fails, saying so, when one is missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;

use common::corrupt_root_data;
use qemu::{qemu_fixture, Boot};

/// Boots a copy of the one-pv fixture with one flipped byte in the root's data, with
/// `options` as the verity options; returns the boot.
fn boot_corrupted(name: &str, options: &str) -> qemu::Booted {
    let fix = qemu_fixture("one-pv");
    let extra = if options.is_empty() {
        String::new()
    } else {
        format!("systemd.verity_root_options={options}")
    };
    let boot = Boot::of_fixture(name, &fix, &extra);
    corrupt_root_data(&fix, &boot.dir);
    boot.run()
}

/// The verity table verinit loaded, from its log.
fn verity_table(booted: &qemu::Booted) -> String {
    booted
        .console
        .lines()
        .find(|l| l.contains(" verity 1 "))
        .unwrap_or_else(|| panic!("no verity table in the log\n{}", booted.describe()))
        .to_string()
}

fn assert_no_pass(booted: &qemu::Booted) {
    assert!(
        !booted.markers().iter().any(|m| m.starts_with("PASS")),
        "a corrupted root must not pass\n{}",
        booted.describe()
    );
}

#[test]
fn needs_qemu_root_loop_corruption_restarts_with_restart_on_corruption() {
    let booted = boot_corrupted("corrupt-restart", "restart-on-corruption");
    assert!(
        verity_table(&booted).ends_with(" 1 restart_on_corruption"),
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

#[test]
fn needs_qemu_root_loop_corruption_panics_with_panic_on_corruption() {
    let booted = boot_corrupted("corrupt-panic", "panic-on-corruption");
    assert!(
        verity_table(&booted).ends_with(" 1 panic_on_corruption"),
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

#[test]
fn needs_qemu_root_loop_corruption_is_logged_and_passed_on_with_ignore_corruption() {
    let booted = boot_corrupted("corrupt-ignore", "ignore-corruption");
    assert!(
        verity_table(&booted).ends_with(" 1 ignore_corruption"),
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

#[test]
fn needs_qemu_root_loop_corruption_fails_reads_by_default() {
    let booted = boot_corrupted("corrupt-default", "");
    assert!(
        !verity_table(&booted).contains("_corruption"),
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
