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
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU (qemu-system-x86_64; scripts/qemu-boot
//! installs it when missing), root and loop devices (the images are made by lvm2 on loop
//! devices), and `make kernel initramfs`. It fails, saying so, when one is missing.

mod common;
mod qemu;

use common::{corrupt_root_data, Fixture};
use qemu::{initramfs_without_module, make_disk, qemu_fixture, root_hash, Boot};

/// Boots `scenario` with its own command line (plus `extra`) and expects a pass on the
/// image the scenario names (`image=<scenario>/a`) with `fstype`. Returns the PASS line.
fn boots(name: &str, scenario: &str, extra: &str, fstype: &str) -> String {
    let fix = qemu_fixture(scenario);
    let booted = Boot::of_fixture(name, &fix, extra).run();
    let pass = booted.assert_passed();
    booted.assert_pass_says(&pass, "image", &format!("{scenario}/a"));
    booted.assert_pass_says(&pass, "fstype", fstype);
    booted.assert_pass_says(&pass, "dm-name", "root");
    let uuid = format!("CRYPT-VERITY-{}-root", &root_hash(&fix)[..32]);
    booted.assert_pass_says(&pass, "dm-uuid", &uuid);
    pass
}

/// The fixture's command line with its root hash replaced by one that differs in one
/// hex digit in the middle.
fn with_wrong_root_hash(fix: &Fixture) -> String {
    let hash = root_hash(fix);
    let mut wrong = hash.clone().into_bytes();
    let mid = wrong.len() / 2;
    wrong[mid] = if wrong[mid] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).expect("hex");
    let cmdline = fix.cmdline().replace(&hash, &wrong);
    assert_ne!(cmdline, fix.cmdline(), "no root hash on the command line");
    cmdline
}

// ---------------------------------------------------------------- boots

/// root=PARTUUID=<the root partition inside the LV's disk image>.
#[test]
fn needs_qemu_root_loop_boots_by_partition_uuid() {
    boots("by-partition-uuid", "one-pv", "", "squashfs");
}

/// root=PARTUUID=<LV UUID>, the PV in a GPT partition of type Linux LVM.
#[test]
fn needs_qemu_root_loop_boots_by_lv_uuid_on_gpt_partition() {
    boots("by-lv-uuid", "gpt-disk-pv", "", "squashfs");
}

/// root=PARTUUID=<LV UUID>, the first metadata area's header damaged.
#[test]
fn needs_qemu_root_loop_boots_by_lv_uuid_with_damaged_first_mda() {
    boots("damaged-mda1", "damaged-mda1", "", "squashfs");
}

/// `make disk`'s image (scripts/make-disk): root=ddi:lvm:vg0/root_a, with init= naming
/// another path to the init and arguments after `--` for it.
#[test]
fn needs_qemu_root_loop_boots_by_vg_lv_name_with_init_and_args() {
    let dir = make_disk();
    let cmdline = std::fs::read_to_string(dir.join("disk.cmdline")).expect("disk.cmdline");
    assert!(
        cmdline.contains("root=ddi:lvm:vg0/root_a"),
        "make-disk's command line: {cmdline}"
    );
    let booted = Boot::new(
        "by-vg-lv-name",
        &[dir.join("disk.img")],
        &format!(
            "{} init=/usr/lib/verinit-test/init -- verinit-arg-one verinit-arg-two",
            cmdline.trim()
        ),
    )
    .run();
    let pass = booted.assert_passed();
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

/// root=/dev/mapper/vg0-root, the metadata text wrapped around the end of its ring.
#[test]
fn needs_qemu_root_loop_boots_by_dm_name_with_wrapped_metadata() {
    boots("by-dm-name", "wrapped", "", "squashfs");
}

/// roothash= alone: the partition whose UUID is the root hash's first half, inside one
/// of two LVs holding disk images (`dps-in-lv`: the other LV holds image b).
#[test]
fn needs_qemu_root_loop_boots_by_root_hash_alone() {
    boots("by-root-hash", "dps-in-lv", "", "squashfs");
}

/// The same image in root_a and root_b: one of them boots.
#[test]
fn needs_qemu_root_loop_boots_same_image_in_two_lvs() {
    let pass = boots("ab-pair", "ab-pair", "", "squashfs");
    assert!(
        pass.contains("vg0-root_a") || pass.contains("vg0-root_b"),
        "the root should sit on root_a or root_b: {pass}"
    );
}

/// The hash tree in its own LV (root-verity), root=/dev/vg0/root.
#[test]
fn needs_qemu_root_loop_boots_separate_hash_lv() {
    boots("separate-hash-lv", "separate-hash-lv", "", "squashfs");
}

/// The hash tree appended to the squashfs in the same LV, found by its superblock.
#[test]
fn needs_qemu_root_loop_boots_appended_hash_tree() {
    boots("appended-hash", "appended-hash", "", "squashfs");
}

/// The appended tree without a superblock: every parameter from the command line.
#[test]
fn needs_qemu_root_loop_boots_appended_hash_tree_without_superblock() {
    boots("no-superblock", "no-superblock", "", "squashfs");
}

/// An LV of four segments over three disks (vda, vdb, vdc).
#[test]
fn needs_qemu_root_loop_boots_lv_spread_over_disks() {
    boots("three-disks", "three-pv-segments", "", "squashfs");
}

/// An LV striped over three disks.
#[test]
fn needs_qemu_root_loop_boots_striped_lv() {
    boots("striped", "striped", "", "squashfs");
}

/// Two disks, one with older metadata: the newer copy's layout is the one booted.
#[test]
fn needs_qemu_root_loop_boots_newest_metadata_over_stale_pv() {
    boots("stale-pv", "stale-pv", "", "squashfs");
}

/// No LVM: root, root-verity and root-verity-sig partitions on the disk itself.
#[test]
fn needs_qemu_root_loop_boots_plain_gpt_partition() {
    boots("plain-gpt", "plain-gpt", "", "squashfs");
}

#[test]
fn needs_qemu_root_loop_boots_erofs_root() {
    boots("erofs", "erofs", "", "erofs");
}

#[test]
fn needs_qemu_root_loop_boots_sha512_tree() {
    boots("sha512", "sha512", "", "squashfs");
}

#[test]
fn needs_qemu_root_loop_boots_empty_salt() {
    boots("empty-salt", "empty-salt", "", "squashfs");
}

/// A disk with 4096-byte logical sectors (the DDI inside uses them too).
#[test]
fn needs_qemu_root_loop_boots_4k_sector_disk() {
    boots("sector4k", "sector4k", "", "squashfs");
}

/// The only disk appears 6 s after QEMU starts (QMP device_add), after verinit has begun
/// to wait for it (rootdelay=30).
#[test]
fn needs_qemu_root_loop_boots_disk_that_appears_late() {
    let fix = qemu_fixture("one-pv");
    let booted = Boot::of_fixture("late-disk", &fix, "rootdelay=30")
        .hot_add("disk0.img", 6.0)
        .run();
    booted.assert_passed();
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

/// A root hash that is not the image's: refused before anything is mounted (the top hash
/// block does not hash to it).
#[test]
fn needs_qemu_root_loop_refuses_wrong_root_hash() {
    let fix = qemu_fixture("separate-hash-lv");
    let cmdline = with_wrong_root_hash(&fix);
    let booted = Boot::new("wrong-root-hash", &fix.image_paths(), &cmdline).run();
    booted.assert_refused("poweroff", &["root hash"]);
    // The kernel reports each verity table it builds: none may have been.
    assert!(
        !booted.console.contains("device-mapper: verity"),
        "a dm-verity table was loaded for a root hash that is not the image's\n{}",
        booted.describe()
    );
}

/// One flipped byte in the root file system's data: dm-verity answers EIO for that
/// block, so the boot must fail, whichever file the block belongs to (the init, which
/// then cannot run, or another one, which the init reads).
#[test]
fn needs_qemu_root_loop_refuses_corrupted_data_block() {
    let fix = qemu_fixture("one-pv");
    let boot = Boot::of_fixture("corrupt-block", &fix, "");
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

/// `rw` cannot be honoured on a dm-verity root. The failure policy is reboot here (the
/// default), which QEMU's -no-reboot turns into exit 0.
#[test]
fn needs_qemu_root_loop_refuses_rw() {
    let fix = qemu_fixture("one-pv");
    let booted = Boot::of_fixture("rw", &fix, "rw")
        .default_failure_policy()
        .run();
    booted.assert_refused("reboot", &["rw", "read-only"]);
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
