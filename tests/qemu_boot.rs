//! verinit as PID 1: the real Debian kernel boots `build/initramfs.cpio` in QEMU (TCG) on
//! disk images made by the real tools, whose root file system is `rootfs-skel/` + busybox.
//!
//! A boot passes only when the root's `/sbin/init` (rootfs-skel) finds itself on a
//! read-only dm-verity device named `root` for the command line's root hash, reads every
//! byte of the root and ends QEMU with status 3; it never passes on status 0 (a panic,
//! a poweroff). A refusal is QEMU exiting 0 through `rd.emergency=poweroff` (or the
//! default reboot, with `-no-reboot`) after verinit printed its cause and
//! `verinit: failure policy: ...`, with no line from the root's init. Every boot checks
//! that its disk images are byte-identical afterwards. Helpers: `tests/qemu/mod.rs`.
//!
//! Every way to name the root, and the refusals both kernels share, are the table of
//! `tests/qemu_cases/`, which `tests/qemu_embedded.rs` runs on the embedded kernel too;
//! here are the refusals of this kernel and initramfs only.
//!
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU (qemu-system-x86_64; scripts/qemu-boot
//! installs it when missing), root and loop devices (the images are made by lvm2 on loop
//! devices), and `make kernel initramfs`. It fails, saying so, when one is missing.

mod common;
mod qemu;
#[macro_use]
mod qemu_cases;

use qemu::{initramfs_without_module, qemu_fixture, root_hash, Boot, Booted};
use qemu_cases::Kernel;

fn nothing() {}

fn no_more_checks(_: &Booted) {}

/// Debian's kernel with build/initramfs.cpio (`qemu::boot_files`).
const DEBIAN: Kernel = Kernel {
    prefix: "",
    prepare: nothing,
    check: no_more_checks,
};

/// The cases of tests/qemu_cases/.
mod needs_qemu_root_loop {
    qemu_cases!(super::DEBIAN);
}

// ---------------------------------------------------------------- refusals

/// root= names no volume: verinit waits rootdelay= seconds, then says what it found.
#[test]
fn needs_qemu_root_loop_refuses_when_no_volume_matches() {
    let fix = qemu_fixture("one-pv");
    let cmdline = format!(
        "root=ddi:lvm:vg0/absent roothash={} rootdelay=3",
        root_hash(&fix)
    );
    let booted = Boot::new("no-volume", &fix.image_paths(), &cmdline).run();
    booted.assert_refused("poweroff", &["no volume matches", "vg0/absent"]);
    let started = booted.kernel_time_of("verinit: ");
    let gave_up = booted.kernel_time_of("verinit: failure policy");
    assert!(
        matches!((started, gave_up), (Some(s), Some(g)) if g - s >= 3.0),
        "verinit should give up only after rootdelay=3 s (started at {started:?} s, gave up \
         at {gave_up:?} s)\n{}",
        booted.describe()
    );
}

/// root_a and root_b both claim the root hash but hold different images.
#[test]
fn needs_qemu_root_loop_refuses_two_different_matching_volumes() {
    let fix = qemu_fixture("ab-differ");
    let booted = Boot::of_fixture("ab-differ", &fix, "").run();
    booted.assert_refused(
        "poweroff",
        &["not the same image", "vg0/root_a", "vg0/root_b"],
    );
}

/// An initramfs without dm-verity.ko: the missing module is named.
#[test]
fn needs_qemu_root_loop_refuses_missing_dm_verity_module() {
    let fix = qemu_fixture("one-pv");
    let initramfs = initramfs_without_module("dm-verity");
    let booted = Boot::of_fixture("no-dm-verity", &fix, "")
        .initramfs(initramfs)
        .run();
    booted.assert_refused("poweroff", &["module", "dm-verity"]);
}

/// Debian's kernel has CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG in a modular dm-verity, and
/// does not trust the test key: a signed image with no roothash= goes through the keyring
/// and the table's root_hash_sig_key_desc, and the kernel says ENOKEY. The option
/// dm_verity.require_signatures=1 reaches the module as its parameter. (The signature
/// boots that pass run on the embedded kernel, which trusts the key:
/// tests/qemu_signatures.rs.)
#[test]
fn needs_qemu_root_loop_refuses_signature_debian_does_not_trust() {
    let fix = qemu_fixture("signed");
    let booted = Boot::of_fixture("signed-debian", &fix, "dm_verity.require_signatures=1").run();
    booted.assert_refused("poweroff", &["does not trust the key", "ENOKEY"]);
    let text = booted.verinit_text();
    assert!(
        text.contains("module dm_verity: parameters require_signatures=1")
            && text.contains("root_hash_sig_key_desc verinit:root:"),
        "the module should get its parameter and the table the signature\n{}",
        booted.describe()
    );
}
