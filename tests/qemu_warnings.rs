//! Damage verinit boots past with a warning, for real: the Debian kernel boots verinit as
//! PID 1 in QEMU. Real I/O errors come from QEMU's blkdebug driver, which makes chosen
//! sectors of a disk fail with EIO (`Boot::bad_sectors`, scripts/qemu-boot
//! `--bad-sectors`), as a failing flash region does; the image files themselves are
//! never changed (every boot checks that).
//!
//! - The first LVM metadata area of a `--pvmetadatacopies 2` PV (fixture two-mdas) fails
//!   to read: the VG comes from the second area, the boot passes, and the console warns,
//!   naming the device, both offsets and the cause.
//! - Both metadata areas fail: nothing else holds the VG, and the boot is refused.
//! - The primary GPT header of the disk holding the PV (fixture gpt-disk-pv) fails to
//!   read: verinit reads the backup, warns, and boots. (Linux itself reads a backup GPT
//!   only with `gpt` on the command line, so it exposes no partitions here: the tables
//!   address the whole disk plus the partition's offset.)
//! - Bad bytes the same way: gpt-backup (both primary GPT headers, the disk's and the
//!   LV image's, fail their CRC) and damaged-sig (a rotted root-verity-sig partition, with
//!   roothash= given and no signature required) boot with their warnings.
//!
//! A boot that passes must also list each warning in its boot record
//! (/run/verinit/boot.json, printed by the test root's init).
//!
//! Where each metadata area lies comes from lvm2's own report of the fixture
//! (`reports/pvck-headers.txt`, `pvck --dump headers`), not from verinit's reader.
//!
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU, root and loop devices and
//! `make kernel initramfs`, and fails, saying so, when one is missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;

use common::Fixture;
use qemu::{qemu_fixture, Boot, Booted};

/// A number from lvm2's report: the first word after `key` on its line.
fn pvck(fix: &Fixture, key: &str) -> u64 {
    let path = fix.dir.join("reports/pvck-headers.txt");
    let report = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    report
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {key:?} in {}", path.display()))
}

/// The metadata areas of two-mdas's PV (the whole of disk0.img): (offset, size) in bytes,
/// and the 512-byte sectors each covers.
fn areas(fix: &Fixture) -> [(u64, u64, u64, u64); 2] {
    [1, 2].map(|n| {
        let at = pvck(fix, &format!("mda_header_{n} at"));
        let size = pvck(fix, &format!("mda_header_{n}.size"));
        (at, size, at / 512, (at + size) / 512 - 1)
    })
}

/// A boot that passed said `words` in one warning on the console and in one of the boot
/// record's `warnings` (the root's init prints /run/verinit/boot.json).
fn assert_warned_and_recorded(booted: &Booted, words: &[&str]) {
    assert_warned(booted, words);
    let record = booted.boot_record();
    let recorded = record["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str())
        .any(|w| words.iter().all(|x| w.contains(x)));
    assert!(
        recorded,
        "expected a warning with all of {words:?} in the boot record: {}\n{}",
        record["warnings"],
        booted.describe()
    );
}

/// The console holds `words` on one of verinit's warning lines.
fn assert_warned(booted: &Booted, words: &[&str]) {
    let warned = booted
        .console
        .lines()
        .filter(|l| l.contains("verinit: "))
        .any(|l| words.iter().all(|w| l.contains(w)));
    assert!(
        warned,
        "expected a verinit line with all of {words:?}\n{}",
        booted.describe()
    );
}

/// Linux read no partitions from the damaged GPT (it uses a backup only with `gpt` on its
/// command line): verinit's tables address the whole disk vda (254:0) plus an offset.
fn assert_tables_on_whole_disk(booted: &Booted) {
    let linear: Vec<&str> = booted
        .console
        .lines()
        .filter(|l| l.contains("verinit: ") && l.contains(" linear "))
        .collect();
    assert!(
        !linear.is_empty() && linear.iter().all(|l| l.contains(" linear 254:0 ")),
        "expected every linear table on 254:0 (the whole disk): {linear:?}\n{}",
        booted.describe()
    );
}

/// The kernel saw the fault: its block layer logs the failed read.
fn assert_kernel_saw_eio(booted: &Booted) {
    assert!(
        booted.console.contains("I/O error"),
        "expected the kernel to log an I/O error on the bad sectors\n{}",
        booted.describe()
    );
}

#[test]
fn needs_qemu_root_loop_first_metadata_area_unreadable_boots_from_the_second() {
    let fix = qemu_fixture("two-mdas");
    let [(m1, _, first, last), (m2, ..)] = areas(&fix);
    let booted = Boot::of_fixture("eio-first-mda", &fix, "")
        .bad_sectors("disk0.img", first, last)
        .run();
    booted.assert_passed();
    assert_kernel_saw_eio(&booted);
    assert_warned_and_recorded(
        &booted,
        &[
            &format!("cannot read the LVM metadata area on /dev/vda at offset {m1}"),
            "(os error 5)",
            &format!("metadata area at offset {m2} of /dev/vda instead"),
            "vgck --updatemetadata vg0",
        ],
    );
}

#[test]
fn needs_qemu_root_loop_both_metadata_areas_unreadable_is_refused() {
    let fix = qemu_fixture("two-mdas");
    let [(m1, _, f1, l1), (m2, _, f2, l2)] = areas(&fix);
    let booted = Boot::of_fixture("eio-both-mdas", &fix, "rootdelay=2")
        .bad_sectors("disk0.img", f1, l1)
        .bad_sectors("disk0.img", f2, l2)
        .run();
    booted.assert_refused(
        "poweroff",
        &[
            &format!("/dev/vda at offset {m1}"),
            &format!("/dev/vda at offset {m2}"),
            "(os error 5)",
        ],
    );
}

#[test]
fn needs_qemu_root_loop_primary_gpt_unreadable_boots_from_the_backup() {
    let fix = qemu_fixture("gpt-disk-pv");
    let size = std::fs::metadata(fix.dir.join("disk0.img"))
        .expect("disk0.img")
        .len();
    // LBA 1: the primary GPT header.
    let booted = Boot::of_fixture("eio-primary-gpt", &fix, "")
        .bad_sectors("disk0.img", 1, 1)
        .run();
    booted.assert_passed();
    assert_tables_on_whole_disk(&booted);
    assert_kernel_saw_eio(&booted);
    assert_warned_and_recorded(
        &booted,
        &[
            "bad GPT on /dev/vda at offset 512",
            "(os error 5)",
            &format!("backup GPT at offset {}", size - 512),
            "sgdisk -e /dev/vda",
        ],
    );
}

#[test]
fn needs_qemu_root_loop_damaged_primary_gpt_headers_boot_from_their_backups() {
    let fix = qemu_fixture("gpt-backup");
    let booted = Boot::of_fixture("gpt-backup", &fix, "").run();
    booted.assert_passed();
    assert_tables_on_whole_disk(&booted);
    assert_warned_and_recorded(
        &booted,
        &["bad GPT on /dev/vda at offset 512", "sgdisk -e /dev/vda"],
    );
    assert_warned_and_recorded(
        &booted,
        &[
            "bad GPT on vg0/root at offset 512",
            "sgdisk -e /dev/vg0/root",
        ],
    );
}

#[test]
fn needs_qemu_root_loop_damaged_signature_partition_not_needed_boots() {
    let fix = qemu_fixture("damaged-sig");
    let booted = Boot::of_fixture("damaged-sig", &fix, "").run();
    booted.assert_passed();
    assert_warned_and_recorded(
        &booted,
        &[
            "bad root hash signature in /dev/vda",
            "not UTF-8",
            "booting on without it",
        ],
    );
}
