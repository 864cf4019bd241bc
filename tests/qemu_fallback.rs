//! Every installed copy is a spare: boots in QEMU (Debian's kernel, verinit's initramfs)
//! of one image installed twice, in vg0/root_a and vg0/root_b (tests/fixtures ab-pair,
//! ab-two-disks), with real faults aimed at copy A: a flipped byte, sectors that fail with
//! EIO (QEMU's blkdebug, a failing flash region), a disk that never appears. Each case
//! asserts which copy booted, from the boot record (/run/verinit/boot.json) the root's
//! init prints, and that the root's init ran on the read-only dm-verity root (its PASS
//! line); the harness checks that every disk image is unchanged after the boot.
//! Needs root, loop devices and QEMU; fails saying so when they are missing.

mod common;
#[allow(dead_code)]
mod qemu;

use common::{require_root_and_tools, str_of, Fixture};
use qemu::{qemu_fixture, Boot, Booted};
use serde_json::Value;
use std::os::unix::fs::FileExt;

/// Where copy `lv` keeps `block` (`data_block_0` or `top_hash_block`): image, byte offset.
fn block_of(fix: &Fixture, lv: &str, block: &str) -> (String, u64) {
    let at = &fix.expect["copies"][lv][block];
    (
        str_of(&at["image"]).to_string(),
        at["offset"].as_u64().expect("an offset"),
    )
}

/// Flips a byte 100 bytes into `block` of copy `lv`, in the boot's copy of the images.
fn flip(boot: &Boot, fix: &Fixture, lv: &str, block: &str) {
    let (image, offset) = block_of(fix, lv, block);
    let path = boot.disk(&image);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open the boot's image");
    let mut b = [0u8; 1];
    file.read_exact_at(&mut b, offset + 100).expect("read");
    b[0] ^= 0xff;
    file.write_all_at(&b, offset + 100).expect("write");
}

/// Reads of the 4 KiB `block` of copy `lv` fail with EIO.
fn failing(boot: Boot, fix: &Fixture, lv: &str, block: &str) -> Boot {
    let (image, offset) = block_of(fix, lv, block);
    boot.bad_sectors(&image, offset / 512, offset / 512 + 7)
}

/// The root's init passed, and the boot record names `lv` as the copy booted; returns
/// the record.
fn booted_copy(booted: &Booted, lv: &str) -> Value {
    let pass = booted.assert_passed();
    booted.assert_pass_says(&pass, "record", "/run/verinit/boot.json");
    let record = booted.boot_record();
    assert_eq!(record["boot_record"], 1, "{record:#}");
    let name = format!("{lv} partition 1");
    assert_eq!(
        record["booted"]["name"],
        name,
        "the record should name {name} as booted: {record:#}\n{}",
        booted.describe()
    );
    let (vg, lv_name) = lv.split_once('/').expect("vg/lv");
    assert_eq!(record["booted"]["lv"]["vg"], vg, "{record:#}");
    assert_eq!(record["booted"]["lv"]["name"], lv_name, "{record:#}");
    assert_eq!(record["booted"]["partition"]["number"], 1, "{record:#}");
    let pvs = record["booted"]["pvs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !pvs.is_empty()
            && pvs
                .iter()
                .all(|p| p["dev"].is_string() && p["device"].is_string()),
        "the booted copy's PVs, with their devices: {record:#}"
    );
    let dm: Vec<&str> = record["dm_devices"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(dm.last(), Some(&"root"), "the dm devices made: {record:#}");
    assert!(
        dm.iter().any(|d| d.contains(lv_name)),
        "the dm devices should be {lv_name}'s: {dm:?}"
    );
    record
}

/// The record's entry for copy `lv`.
fn copy<'a>(record: &'a Value, lv: &str) -> &'a Value {
    let name = format!("{lv} partition 1");
    record["copies"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name.as_str()))
        .unwrap_or_else(|| panic!("no copy {name} in the record: {record:#}"))
}

/// Copy A's status in the record, and that its failure mentions each of `words`.
fn copy_a_was(record: &Value, status: &str, words: &[&str]) {
    let a = copy(record, "vg0/root_a");
    assert_eq!(a["status"], status, "copy A: {a:#}");
    let failure = a["failure"].as_str().unwrap_or_default().to_lowercase();
    for w in words {
        assert!(
            failure.contains(w),
            "copy A's failure should say {w:?}: {a:#}"
        );
    }
}

fn ab_pair() -> Fixture {
    require_root_and_tools();
    qemu_fixture("ab-pair")
}

#[test]
fn needs_root_qemu_intact_pair_boots_a_and_keeps_b_as_spare() {
    let fix = ab_pair();
    let booted = Boot::of_fixture("fallback-none", &fix, "").run();
    let record = booted_copy(&booted, "vg0/root_a");
    assert_eq!(copy(&record, "vg0/root_b")["status"], "spare", "{record:#}");
    // The updater's question, answered by the README's jq line.
    let spares: Vec<&str> = record["copies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "spare")
        .filter_map(|c| c["lv"]["name"].as_str())
        .collect();
    assert_eq!(spares, ["root_b"]);
}

#[test]
fn needs_root_qemu_corrupted_first_block_of_a_boots_b() {
    let fix = ab_pair();
    let boot = Boot::of_fixture("fallback-corrupt-a", &fix, "");
    flip(&boot, &fix, "vg0/root_a", "data_block_0");
    let booted = boot.run();
    let record = booted_copy(&booted, "vg0/root_b");
    copy_a_was(&record, "failed", &["mount", "dm-verity found a block"]);
    assert!(
        booted.console.contains("is corrupted"),
        "the kernel should report the corrupted block\n{}",
        booted.describe()
    );
    let text = booted.verinit_text();
    assert!(
        text.contains("copy vg0/root_a partition 1 failed")
            && text.contains("removed its dm devices root vg0-root_a2 vg0-root_a1")
            && text.contains("trying vg0/root_b partition 1"),
        "one line naming the copy, the cause, what was removed and the next copy\n{}",
        booted.describe()
    );
}

#[test]
fn needs_root_qemu_eio_under_data_of_a_boots_b() {
    let fix = ab_pair();
    // The last data block: squashfs's tables, which the mount reads (the planner reads
    // only the first block, for the file system's type).
    let boot = failing(
        Boot::of_fixture("fallback-eio-data-a", &fix, ""),
        &fix,
        "vg0/root_a",
        "data_block_last",
    );
    let booted = boot.run();
    let record = booted_copy(&booted, "vg0/root_b");
    copy_a_was(&record, "failed", &["mount", "i/o error"]);
    assert!(
        booted.console.contains("I/O error"),
        "the kernel should report the failing sectors\n{}",
        booted.describe()
    );
}

#[test]
fn needs_root_qemu_eio_under_first_block_of_a_is_found_when_planning() {
    let fix = ab_pair();
    let boot = failing(
        Boot::of_fixture("fallback-eio-first-a", &fix, ""),
        &fix,
        "vg0/root_a",
        "data_block_0",
    );
    let booted = boot.run();
    let record = booted_copy(&booted, "vg0/root_b");
    // The planner reads the file system's superblock: A is no candidate, and says why.
    let rejected = record["rejected"].to_string().to_lowercase();
    assert!(
        rejected.contains("vg0/root_a partition 1") && rejected.contains("i/o error"),
        "the record should list copy A as rejected for the I/O error: {record:#}"
    );
}

#[test]
fn needs_root_qemu_eio_under_top_hash_block_of_a_boots_b() {
    let fix = ab_pair();
    let boot = failing(
        Boot::of_fixture("fallback-eio-top-a", &fix, ""),
        &fix,
        "vg0/root_a",
        "top_hash_block",
    );
    let booted = boot.run();
    let record = booted_copy(&booted, "vg0/root_b");
    // Found at planning, by reading the top block: A is never tried.
    copy_a_was(&record, "unusable", &["cannot read"]);
}

#[test]
fn needs_root_qemu_corrupted_top_hash_block_of_a_boots_b() {
    let fix = ab_pair();
    let boot = Boot::of_fixture("fallback-corrupt-top-a", &fix, "");
    flip(&boot, &fix, "vg0/root_a", "top_hash_block");
    let booted = boot.run();
    let record = booted_copy(&booted, "vg0/root_b");
    copy_a_was(&record, "unusable", &[]);
    assert!(
        !booted.console.contains("vg0-root_a"),
        "no dm device may be made for a copy whose tree does not match\n{}",
        booted.describe()
    );
}

#[test]
fn needs_root_qemu_disk_of_a_never_appears_boots_b_after_the_wait() {
    require_root_and_tools();
    let fix = qemu_fixture("ab-two-disks");
    // Only disk0 (root_b's); disk1 (root_a's) never appears.
    let disk0 = fix.dir.join("disk0.img");
    let booted = Boot::new(
        "fallback-absent-a",
        &[disk0],
        &format!("{} rootdelay=3", fix.cmdline()),
    )
    .run();
    let record = booted_copy(&booted, "vg0/root_b");
    let warnings = record["warnings"].to_string();
    assert!(
        warnings.contains("gave up waiting") && warnings.contains("vg0/root_a"),
        "the record should say the wait for root_a's PV was given up: {record:#}"
    );
    let text = booted.verinit_text();
    assert!(
        text.contains("still waiting") || text.contains("gave up waiting"),
        "verinit should have waited for the missing PV first\n{}",
        booted.describe()
    );
}

#[test]
fn needs_root_qemu_full_check_moves_past_a_block_the_mount_never_reads() {
    let fix = ab_pair();
    // The middle data block (corrupt_at), which mounting squashfs does not read.
    let boot = Boot::of_fixture("fallback-full-check", &fix, "verinit.verify=full");
    let (image, offset) = block_of(&fix, "vg0/root_a", "data_block_0");
    let middle = fix.expect["corrupt_at"]["offset"].as_u64().unwrap();
    assert_eq!(str_of(&fix.expect["corrupt_at"]["image"]), image);
    assert!(
        middle > offset + 4096,
        "corrupt_at should lie past the first block"
    );
    common::corrupt_root_data(&fix, &boot.dir);
    let booted = boot.run();
    let record = booted_copy(&booted, "vg0/root_b");
    copy_a_was(&record, "failed", &["cannot read", "verinit.verify=full"]);
}

#[test]
fn needs_root_qemu_without_full_check_a_block_the_mount_never_reads_is_found_later() {
    // The documented limit: without verinit.verify=full, copy A mounts, and the kernel
    // finds the corruption only when the booted system reads the block.
    let fix = ab_pair();
    let boot = Boot::of_fixture("fallback-no-full-check", &fix, "");
    common::corrupt_root_data(&fix, &boot.dir);
    let booted = boot.run();
    assert_eq!(
        booted.code,
        Some(5),
        "the root's init should fail reading the corrupted block\n{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("is corrupted"),
        "{}",
        booted.describe()
    );
    let record = booted.boot_record();
    assert_eq!(record["booted"]["name"], "vg0/root_a partition 1");
}

#[test]
fn needs_root_qemu_every_copy_damaged_is_refused_listing_each_copy_tried() {
    let fix = ab_pair();
    let boot = Boot::of_fixture("fallback-both-corrupt", &fix, "");
    flip(&boot, &fix, "vg0/root_a", "data_block_0");
    flip(&boot, &fix, "vg0/root_b", "data_block_0");
    let booted = boot.run();
    booted.assert_refused(
        "poweroff",
        &[
            "copy vg0/root_a partition 1 failed",
            "trying vg0/root_b partition 1",
            "dm-verity found a block that does not match its hash",
        ],
    );
    // The failure report names each copy tried and why it failed.
    let tried = booted.verinit_text().matches("tried, failed:").count();
    assert_eq!(
        tried,
        2,
        "the failure report should list both copies as tried\n{}",
        booted.describe()
    );
}

#[test]
fn needs_root_qemu_rootwait_does_not_wait_forever_for_a_possible_copy() {
    // rootwait waits for the root without limit; once a copy is there, the wait for
    // others that may appear is 30 s (no rootdelay=), then B boots.
    require_root_and_tools();
    let fix = qemu_fixture("ab-two-disks");
    let disk0 = fix.dir.join("disk0.img");
    let booted = Boot::new(
        "fallback-absent-a-rootwait",
        &[disk0],
        &format!("{} rootwait", fix.cmdline()),
    )
    .run();
    let record = booted_copy(&booted, "vg0/root_b");
    assert!(
        record["warnings"]
            .to_string()
            .contains("gave up waiting after 30"),
        "the wait for root_a should end after 30 s: {record:#}"
    );
}
