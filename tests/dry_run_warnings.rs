//! Damage the dry run passes over with a warning, and where the same damage must still
//! refuse. The warnings themselves (text and JSON) are checked by `tests/dry_run_lvm.rs`
//! from each scenario's `expect_warnings_contain` (damaged-mda1, damaged-sig, gpt-backup;
//! tests/fixtures/README.md); here are their near misses:
//!
//! - damaged-sig's rotted root-verity-sig partition is a refusal as soon as a signature is
//!   needed: `dm_verity.require_signatures=1`, or no `roothash=` (the root hash would have
//!   to come from the signature);
//! - gpt-backup read through read-only loop devices: the warnings name the devices, as a
//!   boot would;
//! - sector4k's disk image (4096-byte sectors) with its primary GPT header damaged: the
//!   offsets in the warning are in its own sectors;
//! - ab-pair with copy A's signature partition rotted the same way: a warning, and the two
//!   copies are still the same verified image (B stays A's fallback).
//!
//! Each `needs_root_loop_*` test builds its fixture with `tests/fixtures/make-fixture`
//! (root and loop devices); without them it fails, saying so.

mod common;

use common::{array_of, copy_images, dry_run, fixture, str_of, LoopDevice};

/// The signature partition damaged-sig's make-fixture rotted, as the dry run names it.
fn sig_partition(fix: &common::Fixture) -> String {
    format!("{} partition 4", fix.image_paths()[0].display())
}

fn paths(fix: &common::Fixture) -> Vec<String> {
    fix.image_paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn needs_root_loop_damaged_signature_refuses_when_signatures_are_required() {
    let fix = fixture("damaged-sig");
    let cmdline = format!("{} dm_verity.require_signatures=1", fix.cmdline());
    let run = dry_run(&cmdline, &paths(&fix), false);
    run.assert_failed_with_any_of(&["bad root hash signature"]);
    let error = run.error_text();
    for want in [sig_partition(&fix).as_str(), "at offset 2", "not UTF-8"] {
        assert!(error.contains(want), "{want:?}\n{}", run.describe());
    }
    assert!(
        array_of(&run.json["warnings"])
            .iter()
            .all(|w| !str_of(w).contains("booting on")),
        "a refusal must not also say it boots on\n{}",
        run.describe()
    );
}

#[test]
fn needs_root_loop_damaged_signature_refuses_when_the_root_hash_must_come_from_it() {
    let fix = fixture("damaged-sig");
    // The root partition by its label: no roothash=, so only the signature could give it.
    let run = dry_run(
        &format!("root=PARTLABEL={}", fix.dps_name("")),
        &paths(&fix),
        false,
    );
    run.assert_failed_with_any_of(&["bad root hash signature"]);
    assert!(
        run.error_text().contains(&sig_partition(&fix)),
        "{}",
        run.describe()
    );
}

#[test]
fn needs_root_loop_gpt_backup_warnings_name_the_loop_devices() {
    let fix = fixture("gpt-backup");
    let disk = LoopDevice::attach_read_only(&fix.image_paths()[0], 512);
    let run = dry_run(&fix.cmdline(), std::slice::from_ref(&disk.path), false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let warnings: Vec<&str> = array_of(&run.json["warnings"]).iter().map(str_of).collect();
    for want in [
        format!("bad GPT on {} at offset 512", disk.path),
        format!("sgdisk -e {}", disk.path),
        "bad GPT on vg0/root at offset 512".to_string(),
        "sgdisk -e /dev/vg0/root".to_string(),
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(&want)),
            "no warning says {want:?}\n{}",
            run.describe()
        );
    }
}

/// Where LV `lv` of the fixture's one VG starts in disk0.img, in 512-byte sectors: its one
/// linear segment, as lvm2 reported it (`0 N linear @disk0.img START`).
fn lv_start(fix: &common::Fixture, lv: &str) -> u64 {
    fix.expect["volume_groups"][0]["lvs"]
        .as_array()
        .expect("lvs")
        .iter()
        .find(|l| l["name"] == lv)
        .and_then(|l| str_of(&l["table"][0]).rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{lv}'s table: 0 N linear @disk0.img START"))
}

/// A copy of the fixture's disk0.img with `bytes` written at `offset`.
fn damaged_copy(fix: &common::Fixture, label: &str, offset: u64, bytes: &[u8]) -> String {
    use std::os::unix::fs::FileExt;
    let disk = copy_images(fix, label).join("disk0.img");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&disk)
        .expect("open the copy");
    f.write_all_at(bytes, offset).expect("damage the copy");
    disk.display().to_string()
}

#[test]
fn needs_root_loop_gpt_backup_in_4k_sectors() {
    let fix = fixture("sector4k");
    let ss = fix.expect["root"]["ddi"]["sector_size"]
        .as_u64()
        .expect("sector_size");
    assert_eq!(ss, 4096);
    let start = lv_start(&fix, "root") * 512;
    // A byte of the DDI's primary header (LBA 1) inside its disk GUID: the CRC fails.
    let at = start + ss + 56;
    let image = std::fs::read(fix.dir.join("disk0.img")).expect("disk0.img");
    let disk = damaged_copy(&fix, "primary-gpt", at, &[image[at as usize] ^ 1]);
    let run = dry_run(&fix.cmdline(), &[disk], false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let lv_bytes = fix.expect["volume_groups"][0]["lvs"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["name"] == "root"))
        .and_then(|l| l["size"].as_u64())
        .expect("root's size")
        * 512;
    let want = format!("bad GPT on vg0/root at offset {ss}: header CRC32");
    let backup = format!("backup GPT at offset {}", lv_bytes - ss);
    assert!(
        array_of(&run.json["warnings"])
            .iter()
            .map(str_of)
            .any(|w| w.contains(&want) && w.contains(&backup)),
        "no warning says {want:?} and {backup:?}\n{}",
        run.describe()
    );
}

#[test]
fn needs_root_loop_one_copy_with_a_rotted_signature_is_still_the_same_image() {
    let fix = fixture("ab-pair");
    // Where root_a's signature partition lies in disk0.img: its LV's start plus the
    // partition's first sector in the DDI (sgdisk's report).
    let sig_first = fix.expect["root"]["ddi"]["partitions"]
        .as_array()
        .expect("the DDI's partitions")
        .iter()
        .find(|p| p["name"] == fix.dps_name("-verity-sig").as_str())
        .and_then(|p| p["first_sector"].as_u64())
        .expect("the signature partition's first sector");
    let at = (lv_start(&fix, "root_a") + sig_first) * 512 + 2;
    let disk = damaged_copy(&fix, "rotted-sig-a", at, &[0xff, 0xfe]);
    let run = dry_run(&fix.cmdline(), &[disk], false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let warnings: Vec<&str> = array_of(&run.json["warnings"]).iter().map(str_of).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("vg0/root_a partition 3 at offset 2")
                && w.contains("booting on without it")),
        "{}",
        run.describe()
    );
    let names: Vec<&str> = array_of(&run.json["candidates"])
        .iter()
        .map(|c| str_of(&c["name"]))
        .collect();
    assert_eq!(
        names,
        ["vg0/root_a partition 1", "vg0/root_b partition 1"],
        "{}",
        run.describe()
    );
    assert_eq!(
        run.json["fallback"],
        serde_json::json!(["vg0/root_b partition 1"]),
        "root_b must stay the fallback\n{}",
        run.describe()
    );
}
