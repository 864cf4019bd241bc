//! verinit as PID 1 in a kernel of our own: `build/vmlinux-embedded` (`make
//! kernel-embedded`, mk/embedded.mk: Debian's linux-source, tinyconfig +
//! initramfs/kernel.config, everything built in) carries verinit as its built-in
//! initramfs, so QEMU boots it with no -initrd and there are no modules to load. The
//! boots are those of `tests/qemu_boot.rs` (every one that must pass), and three refusals
//! that need the kernel's own parts: ACPI poweroff (verinit's failure policy), a reboot,
//! and dm-verity rejecting a corrupted block. Same disks, same test root, same checks:
//! helpers in `tests/qemu/mod.rs`.
//!
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU, root and loop devices, and `make
//! kernel-embedded` (about 5 minutes the first time on a machine, seconds after that).
//! It fails, saying so, when one is missing. `VERINIT_TEST_EMBEDDED_KERNEL` names another
//! kernel with verinit built in (then `make` is not run).

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;

use common::corrupt_root_data;
use qemu::{embedded, make_disk, qemu_fixture, root_hash, Boot};

/// Boots `scenario` with its own command line and expects a pass on the image the
/// scenario names with `fstype`, as `boots` of tests/qemu_boot.rs does.
fn boots(name: &str, scenario: &str, fstype: &str) {
    embedded();
    let fix = qemu_fixture(scenario);
    let booted = Boot::of_fixture(&format!("embedded-{name}"), &fix, "").run();
    let pass = booted.assert_passed();
    booted.assert_pass_says(&pass, "image", &format!("{scenario}/a"));
    booted.assert_pass_says(&pass, "fstype", fstype);
    booted.assert_pass_says(&pass, "dm-name", "root");
    let uuid = format!("CRYPT-VERITY-{}-root", &root_hash(&fix)[..32]);
    booted.assert_pass_says(&pass, "dm-uuid", &uuid);
    assert_no_initrd(&booted);
}

/// QEMU had no -initrd, and the kernel found no initramfs but its own.
fn assert_no_initrd(booted: &qemu::Booted) {
    let qemu_line = booted.console.lines().next().unwrap_or_default();
    assert!(
        qemu_line.starts_with("qemu-boot: ")
            && !qemu_line.contains(" -initrd ")
            && !booted.console.contains("unpack rootfs image as initramfs")
            && !booted.console.contains("Unpacking initramfs"),
        "the boot should have had no -initrd\n{}",
        booted.describe()
    );
}

// ---------------------------------------------------------------- boots

/// (test, scenario, root file system type): the scenarios of tests/qemu_boot.rs.
macro_rules! boots {
    ($($test:ident: $scenario:literal, $fstype:literal;)*) => {$(
        #[test]
        fn $test() {
            boots($scenario, $scenario, $fstype);
        }
    )*};
}

boots! {
    needs_qemu_root_loop_embedded_boots_by_partition_uuid: "one-pv", "squashfs";
    needs_qemu_root_loop_embedded_boots_by_lv_uuid_on_gpt_partition: "gpt-disk-pv", "squashfs";
    needs_qemu_root_loop_embedded_boots_with_damaged_first_mda: "damaged-mda1", "squashfs";
    needs_qemu_root_loop_embedded_boots_with_wrapped_metadata: "wrapped", "squashfs";
    needs_qemu_root_loop_embedded_boots_by_root_hash_alone: "dps-in-lv", "squashfs";
    needs_qemu_root_loop_embedded_boots_same_image_in_two_lvs: "ab-pair", "squashfs";
    needs_qemu_root_loop_embedded_boots_separate_hash_lv: "separate-hash-lv", "squashfs";
    needs_qemu_root_loop_embedded_boots_appended_hash_tree: "appended-hash", "squashfs";
    needs_qemu_root_loop_embedded_boots_without_superblock: "no-superblock", "squashfs";
    needs_qemu_root_loop_embedded_boots_lv_spread_over_disks: "three-pv-segments", "squashfs";
    needs_qemu_root_loop_embedded_boots_striped_lv: "striped", "squashfs";
    needs_qemu_root_loop_embedded_boots_newest_metadata_over_stale_pv: "stale-pv", "squashfs";
    needs_qemu_root_loop_embedded_boots_plain_gpt_partition: "plain-gpt", "squashfs";
    needs_qemu_root_loop_embedded_boots_erofs_root: "erofs", "erofs";
    needs_qemu_root_loop_embedded_boots_sha512_tree: "sha512", "squashfs";
    needs_qemu_root_loop_embedded_boots_empty_salt: "empty-salt", "squashfs";
    needs_qemu_root_loop_embedded_boots_4k_sector_disk: "sector4k", "squashfs";
}

/// `make disk`'s image: root=ddi:lvm:vg0/root_a, with init= and arguments after `--`.
#[test]
fn needs_qemu_root_loop_embedded_boots_by_vg_lv_name_with_init_and_args() {
    embedded();
    let dir = make_disk();
    let cmdline = std::fs::read_to_string(dir.join("disk.cmdline")).expect("disk.cmdline");
    let booted = Boot::new(
        "embedded-by-vg-lv-name",
        &[dir.join("disk.img")],
        &format!(
            "{} init=/usr/lib/verinit-test/init -- verinit-arg-one verinit-arg-two",
            cmdline.trim()
        ),
    )
    .run();
    let pass = booted.assert_passed();
    assert_no_initrd(&booted);
    booted.assert_pass_says(&pass, "image", "demo/a");
    let markers = booted.markers();
    for want in [
        "init /usr/lib/verinit-test/init pid 1, 2 argument(s)",
        "arg 1: verinit-arg-one",
        "arg 2: verinit-arg-two",
    ] {
        assert!(
            markers.contains(&want),
            "the root's init should say {want:?}\n{}",
            booted.describe()
        );
    }
}

/// The only disk appears 6 s after QEMU starts: ACPI PCI hotplug (QMP device_add).
#[test]
fn needs_qemu_root_loop_embedded_boots_disk_that_appears_late() {
    embedded();
    let fix = qemu_fixture("one-pv");
    let booted = Boot::of_fixture("embedded-late-disk", &fix, "rootdelay=30")
        .hot_add("disk0.img", 6.0)
        .run();
    booted.assert_passed();
    assert_no_initrd(&booted);
    let started = booted.position("verinit: ");
    let added = booted.position("qemu-boot: hot-added");
    let seen = booted.position("virtio_blk virtio");
    assert!(
        matches!((started, added, seen), (Some(s), Some(a), Some(v)) if s < a && a < v),
        "expected verinit to start, then the disk to be added, then the kernel to see it\n{}",
        booted.describe()
    );
}

// ---------------------------------------------------------------- refusals

/// A root hash one digit off: refused before any verity table, powered off (ACPI).
#[test]
fn needs_qemu_root_loop_embedded_refuses_wrong_root_hash() {
    embedded();
    let fix = qemu_fixture("separate-hash-lv");
    let hash = root_hash(&fix);
    let mut wrong = hash.clone().into_bytes();
    let mid = wrong.len() / 2;
    wrong[mid] = if wrong[mid] == b'0' { b'1' } else { b'0' };
    let cmdline = fix
        .cmdline()
        .replace(&hash, std::str::from_utf8(&wrong).expect("hex"));
    assert_ne!(cmdline, fix.cmdline(), "no root hash on the command line");
    let booted = Boot::new("embedded-wrong-root-hash", &fix.image_paths(), &cmdline).run();
    booted.assert_refused("poweroff", &["root hash"]);
    assert!(
        !booted.console.contains("device-mapper: verity"),
        "a dm-verity table was loaded for a root hash that is not the image's\n{}",
        booted.describe()
    );
}

/// One flipped byte in the root's data: the built-in dm-verity answers EIO for it.
#[test]
fn needs_qemu_root_loop_embedded_refuses_corrupted_data_block() {
    embedded();
    let fix = qemu_fixture("one-pv");
    let boot = Boot::of_fixture("embedded-corrupt-block", &fix, "");
    corrupt_root_data(&fix, &boot.dir);
    let booted = boot.run();
    assert!(
        matches!(booted.code, Some(0) | Some(5))
            && !booted.markers().iter().any(|m| m.starts_with("PASS")),
        "expected the boot to fail (QEMU exit 0 or 5, no PASS)\n{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("is corrupted"),
        "expected dm-verity's `data block N is corrupted`\n{}",
        booted.describe()
    );
}

/// `rw` on a verity root: refused with the default policy, reboot (-no-reboot: exit 0).
#[test]
fn needs_qemu_root_loop_embedded_refuses_rw() {
    embedded();
    let fix = qemu_fixture("one-pv");
    let booted = Boot::of_fixture("embedded-rw", &fix, "rw")
        .default_failure_policy()
        .run();
    booted.assert_refused("reboot", &["rw", "read-only"]);
}
