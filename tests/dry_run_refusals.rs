//! What the dry run must refuse, each with exit status 1 and an error naming the cause:
//! damaged data, a root hash that is not the image's, a missing PV, options that cannot be
//! booted, a signature for another root hash, nothing matching. Images come from the real
//! tools (see `tests/fixtures/make-fixture`); these tests need root and loop devices to
//! build them, and fail saying so otherwise.

mod common;

use common::{copy_images, corrupt_root_data, dry_run, fixture, str_of, Fixture};
use std::path::Path;

fn paths_in(fix: &Fixture, dir: &Path) -> Vec<String> {
    fix.images()
        .iter()
        .map(|i| dir.join(i).display().to_string())
        .collect()
}

fn image_paths(fix: &Fixture) -> Vec<String> {
    paths_in(fix, &fix.dir)
}

fn root_hash(fix: &Fixture) -> String {
    str_of(&fix.expect["verity"]["root_hash"]).to_string()
}

/// The fixture's root hash with one hex digit in the middle changed.
fn wrong_root_hash(fix: &Fixture) -> String {
    let mut wrong = root_hash(fix).into_bytes();
    let mid = wrong.len() / 2;
    wrong[mid] = if wrong[mid] == b'0' { b'1' } else { b'0' };
    String::from_utf8(wrong).expect("hex")
}

/// A flipped byte in the root filesystem's data: the plan is fine (the kernel would
/// catch it on read), `--verify` must name the bad block.
fn corrupt_block_fails_verify(scenario: &str) {
    let fix = fixture(scenario);
    let dir = copy_images(&fix, "corrupt-block");
    corrupt_root_data(&fix, &dir);
    let plain = dry_run(&fix.cmdline(), &paths_in(&fix, &dir), false);
    assert_eq!(plain.code, Some(0), "{}", plain.describe());
    let run = dry_run(&fix.cmdline(), &paths_in(&fix, &dir), true);
    run.assert_failed_with_any_of(&["is corrupted"]);
    assert!(
        run.error_text().contains("data block"),
        "the error should name the data block\n{}",
        run.describe()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A root hash that is not the image's: refused by the plan itself (the top hash block
/// does not hash to it), so nothing unverified would be mounted; `--verify` agrees.
fn wrong_root_hash_is_refused(scenario: &str) {
    let fix = fixture(scenario);
    let cmdline = fix
        .cmdline()
        .replace(&root_hash(&fix), &wrong_root_hash(&fix));
    assert_ne!(
        cmdline,
        fix.cmdline(),
        "the root hash is not on the command line"
    );
    for verify in [false, true] {
        let run = dry_run(&cmdline, &image_paths(&fix), verify);
        run.assert_failed_with_any_of(&["root hash"]);
        assert_eq!(
            run.json["plan"],
            serde_json::Value::Null,
            "{}",
            run.describe()
        );
    }
}

#[test]
fn needs_root_loop_one_pv_corrupt_block_fails_verify() {
    corrupt_block_fails_verify("one-pv");
}

#[test]
fn needs_root_loop_striped_corrupt_block_fails_verify() {
    corrupt_block_fails_verify("striped");
}

#[test]
fn needs_root_loop_separate_hash_lv_corrupt_block_fails_verify() {
    corrupt_block_fails_verify("separate-hash-lv");
}

#[test]
fn needs_root_loop_separate_hash_lv_wrong_root_hash_is_refused() {
    wrong_root_hash_is_refused("separate-hash-lv");
}

#[test]
fn needs_root_loop_appended_hash_wrong_root_hash_is_refused() {
    wrong_root_hash_is_refused("appended-hash");
}

#[test]
fn needs_root_loop_no_superblock_wrong_root_hash_is_refused() {
    wrong_root_hash_is_refused("no-superblock");
}

/// Two of the three PVs: the error names the missing PV's UUID as lvm2 reports it.
#[test]
fn needs_root_loop_missing_pv_is_named() {
    let fix = fixture("three-pv-segments");
    let all = image_paths(&fix);
    let present = &all[..all.len() - 1];
    let missing_image = fix.images().pop().expect("an image");
    let pvs = fix.expect["volume_groups"][0]["pvs"]
        .as_array()
        .expect("volume_groups[0].pvs");
    let missing_id = pvs
        .iter()
        .find(|pv| pv["image"] == missing_image.as_str())
        .map(|pv| str_of(&pv["id"]).to_string())
        .expect("the PV on the last image");
    let run = dry_run(&fix.cmdline(), present, false);
    run.assert_failed_with_any_of(&["missing PV"]);
    assert!(
        run.error_text().contains(&missing_id),
        "the error should name PV {missing_id}\n{}",
        run.describe()
    );
}

/// `rw` with verity, `systemd.verity=0`, a bad option value: refused, naming the option.
#[test]
fn needs_root_loop_unbootable_options_are_refused() {
    let fix = fixture("one-pv");
    for (extra, word) in [
        ("rw", "rw"),
        ("systemd.verity=0", "systemd.verity"),
        ("rootdelay=soon", "rootdelay"),
        ("systemd.verity_root_options=hash=md5", "md5"),
        ("rd.emergency=explode", "rd.emergency"),
    ] {
        let cmdline = format!("{} {extra}", fix.cmdline());
        let run = dry_run(&cmdline, &image_paths(&fix), false);
        run.assert_failed_with_any_of(&[word]);
    }
}

/// A root hash that names no partition (the Discoverable Partitions search finds none):
/// the error says what was looked for.
#[test]
fn needs_root_loop_no_matching_volume() {
    let fix = fixture("dps-in-lv");
    let cmdline = fix.cmdline().replace(&root_hash(&fix), &"ab".repeat(32));
    let run = dry_run(&cmdline, &image_paths(&fix), false);
    run.assert_failed_with_any_of(&["no volume matches"]);
    let fix = fixture("one-pv");
    let cmdline = "root=PARTUUID=01234567-89ab-cdef-0123-456789abcdef roothash=".to_string()
        + &root_hash(&fix);
    let run = dry_run(&cmdline, &image_paths(&fix), false);
    run.assert_failed_with_any_of(&["no volume matches root=PARTUUID=01234567"]);
    assert!(run.error_text().contains("vg0/root"), "{}", run.describe());
}

/// The volume named on the command line, with the root hash of another build: the
/// signature partition's rootHash disagrees, and that is the error.
#[test]
fn needs_root_loop_signature_for_another_root_hash_is_refused() {
    let fix = fixture("one-pv");
    let cmdline = format!("root=/dev/vg0/root roothash={}", wrong_root_hash(&fix));
    let run = dry_run(&cmdline, &image_paths(&fix), false);
    run.assert_failed_with_any_of(&["signature partition"]);
}

/// Usage errors exit 2, not 1.
#[test]
fn usage_errors_exit_2() {
    for args in [&["--json"][..], &["--dry-run", "--bogus"][..]] {
        let out = common::verinit().args(args).output().expect("run verinit");
        assert_eq!(out.status.code(), Some(2), "verinit {args:?}");
    }
}
