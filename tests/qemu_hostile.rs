//! A sample of the hostile disks (`tests/hostile_disks.rs`) booted for real: the Debian
//! kernel with verinit as PID 1 in QEMU, on the damaged copies of fixtures built with the
//! test root (`tests/qemu`). One case per layer: the LVM metadata area, the GPT of a disk,
//! the dm-verity superblock, the signature partition.
//!
//! Each boot must be refused: QEMU exits 0 through `rd.emergency=poweroff`, the root's
//! init never runs, verinit prints `verinit: failure policy: poweroff` and a report that
//! names the cause and the device; never a kernel panic (`Kernel panic`, which a panic of
//! PID 1 becomes) and never a hang (qemu-boot's timeout, exit 124). `rootdelay=2` bounds
//! the wait for devices that might still bring the volume.
//!
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU, root and loop devices and
//! `make kernel initramfs`, and fails, saying so, when one is missing.

mod common;
mod hostile;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;

use qemu::{qemu_fixture, Boot};

/// Boots hostile `case` (made from its scenario's QEMU fixture) and expects a refusal
/// whose report holds each of `words`.
fn refuses(case: &str, words: &[&str]) {
    let fix = qemu_fixture(&hostile::scenario_of(case));
    let made = hostile::make_case(&fix, case, &format!("qemu-{case}"));
    assert!(
        !made.via_proc_cmdline(),
        "{case}: a command line for /proc/cmdline cannot be given to a kernel"
    );
    let cmdline = format!("{} rootdelay=2", made.cmdline());
    let booted = Boot::new(&format!("hostile-{case}"), &made.images(), &cmdline).run();
    assert!(
        !booted.console.contains("Kernel panic"),
        "{case}: the kernel panicked\n{}",
        booted.describe()
    );
    booted.assert_refused("poweroff", words);
    made.remove();
}

/// A metadata text longer than its ring: the wrap would read the same bytes again.
#[test]
fn needs_qemu_root_loop_hostile_ring_wraps_onto_itself() {
    refuses(
        "ring-wraps-onto-itself",
        &["/dev/vda", "is said to be", "must be 1 to"],
    );
}

/// Both GPT headers of the disk claim 2^31 entries (CRCs valid); the kernel's own GPT
/// reader sees them too.
#[test]
fn needs_qemu_root_loop_hostile_gpt_entry_count() {
    refuses(
        "gpt-entry-count-2p31",
        &["/dev/vda", "2147483648 partition entries"],
    );
}

/// The hash LV's verity superblock says its salt is 300 bytes.
#[test]
fn needs_qemu_root_loop_hostile_verity_salt_size() {
    refuses(
        "verity-salt-size-300",
        &["vg0/root-verity", "salt size 300"],
    );
}

/// The signature partition holds arrays nested 100,000 deep.
#[test]
fn needs_qemu_root_loop_hostile_signature_nested_json() {
    refuses(
        "sig-json-nested-30000",
        &["/dev/vda", "root hash signature", "recursion limit"],
    );
}
