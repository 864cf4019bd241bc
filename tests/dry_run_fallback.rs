//! The order the boot tries copies in, as the dry run shows it: one image installed in
//! vg0/root_a and vg0/root_b (tests/fixtures ab-pair, ab-two-disks, made by the real
//! lvm2, sgdisk, mksquashfs and veritysetup). The first copy by name is booted, the other
//! is its fallback; a copy whose hash tree's top block does not match the root hash is
//! never booted; a missing PV under a possible copy is waited for; `verinit.verify=full`
//! reads the whole root before the mount. Needs root and loop devices (to build the
//! fixtures), and fails saying so otherwise.

mod common;

use common::{copy_images, dry_run, fixture, str_of, Fixture};
use serde_json::Value;
use std::os::unix::fs::FileExt;
use std::path::Path;

fn paths_in(fix: &Fixture, dir: &Path) -> Vec<String> {
    fix.images()
        .iter()
        .map(|i| dir.join(i).display().to_string())
        .collect()
}

/// Flips a byte 100 bytes into `block` of copy `lv`, in the images in `dir`.
fn flip(fix: &Fixture, dir: &Path, lv: &str, block: &str) {
    let at = &fix.expect["copies"][lv][block];
    let path = dir.join(str_of(&at["image"]));
    let offset = at["offset"].as_u64().expect("an offset") + 100;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open the copy");
    let mut b = [0u8; 1];
    file.read_exact_at(&mut b, offset).expect("read");
    b[0] ^= 0xff;
    file.write_all_at(&b, offset).expect("write");
}

fn candidate<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["candidates"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no candidate {name}: {json:#}"))
}

/// The data LVs the plan's dm tables are made for.
fn planned_lvs(json: &Value) -> Vec<String> {
    json["plan"]["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .filter(|s| s["kind"] == "dm-create" && s["name"] != "root")
                .filter_map(|s| s["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const A: &str = "vg0/root_a partition 1";
const B: &str = "vg0/root_b partition 1";

#[test]
fn needs_root_loop_the_first_copy_boots_and_the_other_is_its_fallback() {
    let fix = fixture("ab-pair");
    let run = dry_run(&fix.cmdline(), &paths_in(&fix, &fix.dir), false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let j = &run.json;
    assert_eq!(candidate(j, A)["status"], "first", "{}", run.describe());
    assert_eq!(candidate(j, A)["order"], 0);
    assert_eq!(candidate(j, B)["status"], "fallback");
    assert_eq!(candidate(j, B)["order"], 1);
    assert_eq!(j["fallback"], serde_json::json!([B]));
    assert_eq!(planned_lvs(j), ["vg0-root_a1", "vg0-root_a2"]);
    // Each copy says which LV, partition and PV it is.
    let b = candidate(j, B);
    assert_eq!(b["lv"]["name"], "root_b");
    assert_eq!(b["partition"]["number"], 1);
    assert_eq!(b["pvs"].as_array().map(Vec::len), Some(1), "{b:#}");
    // The text says the order.
    let out = common::verinit()
        .args(["--dry-run", "--cmdline", &fix.cmdline()])
        .arg(fix.dir.join("disk0.img"))
        .output()
        .expect("run verinit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("if {A} fails: {B}")), "{text}");
}

#[test]
fn needs_root_loop_a_copy_whose_tree_does_not_match_is_never_booted() {
    let fix = fixture("ab-pair");
    let dir = copy_images(&fix, "top-block-a");
    flip(&fix, &dir, "vg0/root_a", "top_hash_block");
    let run = dry_run(&fix.cmdline(), &paths_in(&fix, &dir), false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let j = &run.json;
    assert_eq!(candidate(j, A)["status"], "unusable", "{}", run.describe());
    assert!(candidate(j, A)["order"].is_null());
    assert!(
        candidate(j, A)["failure"]
            .as_str()
            .is_some_and(|f| !f.is_empty()),
        "{}",
        run.describe()
    );
    assert_eq!(candidate(j, B)["status"], "first");
    assert_eq!(j["fallback"], serde_json::json!([]));
    assert_eq!(planned_lvs(j), ["vg0-root_b1", "vg0-root_b2"]);
}

#[test]
fn needs_root_loop_no_copy_matching_the_root_hash_is_a_refusal() {
    let fix = fixture("ab-pair");
    let dir = copy_images(&fix, "top-block-both");
    flip(&fix, &dir, "vg0/root_a", "top_hash_block");
    flip(&fix, &dir, "vg0/root_b", "top_hash_block");
    let run = dry_run(&fix.cmdline(), &paths_in(&fix, &dir), false);
    run.assert_failed_with_any_of(&["root hash"]);
    assert!(run.json["plan"].is_null(), "{}", run.describe());
}

#[test]
fn needs_root_loop_a_copy_on_a_missing_pv_is_waited_for() {
    let fix = fixture("ab-two-disks");
    // Both disks: A first, B its fallback, nothing to wait for.
    let both = dry_run(&fix.cmdline(), &paths_in(&fix, &fix.dir), false);
    assert_eq!(both.code, Some(0), "{}", both.describe());
    assert_eq!(candidate(&both.json, A)["status"], "first");
    assert_eq!(both.json["pending"], serde_json::json!([]));
    // disk0 alone: root_a's PV is missing; B is booted after the wait.
    let one = dry_run(
        &fix.cmdline(),
        &[fix.dir.join("disk0.img").display().to_string()],
        false,
    );
    assert_eq!(one.code, Some(0), "{}", one.describe());
    assert_eq!(one.json["pending"], serde_json::json!(["vg0/root_a"]));
    assert_eq!(candidate(&one.json, B)["status"], "first");
    assert_eq!(planned_lvs(&one.json), ["vg0-root_b1", "vg0-root_b2"]);
}

#[test]
fn needs_root_loop_full_check_reads_the_root_before_the_mount() {
    let fix = fixture("ab-pair");
    let kinds = |cmdline: &str| -> Vec<String> {
        let run = dry_run(cmdline, &paths_in(&fix, &fix.dir), false);
        assert_eq!(run.code, Some(0), "{}", run.describe());
        run.json["plan"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| str_of(&s["kind"]).to_string())
            .collect()
    };
    let plain = kinds(&fix.cmdline());
    assert!(!plain.contains(&"read-all".to_string()), "{plain:?}");
    let full = kinds(&format!("{} verinit.verify=full", fix.cmdline()));
    let at = |k: &str| full.iter().position(|x| x == k).unwrap();
    assert!(at("read-all") < at("mount"), "{full:?}");
    assert_eq!(full.len(), plain.len() + 1);
    // A word that is neither full nor off is refused, naming the option.
    let bad = dry_run(
        &format!("{} verinit.verify=yes", fix.cmdline()),
        &paths_in(&fix, &fix.dir),
        false,
    );
    bad.assert_failed_with_any_of(&["verinit.verify=full|off"]);
}
