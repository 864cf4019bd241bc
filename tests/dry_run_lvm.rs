//! `verinit --dry-run --json` against disk images made by the real tools.
//!
//! Each `needs_root_loop_*` test builds (or reuses) a fixture with
//! `tests/fixtures/make-fixture`, which needs root and loop devices, runs the dry run on the
//! image files and compares its JSON with the fixture's `expect.json` (tables, ok/error,
//! candidates, the verity row of the plan), then runs it again with `--verify`. Some run
//! through read-only loop devices instead of files. What must be refused is in
//! `tests/dry_run_refusals.rs`. Without root or a tool they fail, saying so: they never
//! skip.

mod common;

use common::{array_of, dry_run, fixture, fixtures_source, str_of, DryRun, Fixture, LoopDevice};
use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;

/// The dry run on the image files, then (when the scenario boots) with `--verify`.
fn run_scenario(scenario: &str) {
    let fix = fixture(scenario);
    let paths: Vec<String> = fix
        .image_paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let devices = fix.placeholders_for_paths();
    let run = dry_run(&fix.cmdline(), &paths, false);
    check_dry_run(&fix, &run, &devices);
    check_warnings(&fix, &run, &paths);
    if fix.expect["expect_ok"] == true {
        let verified = dry_run(&fix.cmdline(), &paths, true);
        check_dry_run(&fix, &verified, &devices);
    }
}

/// Each of expect.json's `expect_warnings_contain` (`@image` standing for its path) must
/// occur in one of the JSON `warnings` and in the text report's `warnings:`.
fn check_warnings(fix: &Fixture, run: &DryRun, paths: &[String]) {
    let resolve = |word: &str| {
        fix.images().iter().fold(word.to_string(), |w, image| {
            w.replace(
                &format!("@{image}"),
                &fix.dir.join(image).display().to_string(),
            )
        })
    };
    let wanted: Vec<String> = fix.expect["expect_warnings_contain"]
        .as_array()
        .map(|a| a.iter().map(|w| resolve(str_of(w))).collect())
        .unwrap_or_default();
    if wanted.is_empty() {
        return;
    }
    let warnings: Vec<&str> = array_of(&run.json["warnings"]).iter().map(str_of).collect();
    let out = common::verinit()
        .args(["--dry-run", "--cmdline", &fix.cmdline()])
        .args(paths)
        .output()
        .expect("run verinit --dry-run");
    let text = String::from_utf8_lossy(&out.stdout);
    let text_warnings = text.split_once("warnings:\n").map_or("", |(_, w)| w);
    for w in &wanted {
        assert!(
            warnings.iter().any(|x| x.contains(w.as_str())),
            "scenario {}: no JSON warning says {w:?}\n{}",
            fix.scenario,
            run.describe()
        );
        assert!(
            text_warnings.contains(w.as_str()),
            "scenario {}: the text report's warnings do not say {w:?}\n{text}",
            fix.scenario
        );
    }
}

/// The same through read-only loop devices: tables then name `7:N`.
fn run_scenario_on_loop_devices(scenario: &str) {
    let fix = fixture(scenario);
    let loops: Vec<(String, LoopDevice)> = fix
        .images()
        .into_iter()
        .map(|image| {
            let dev = LoopDevice::attach_read_only(&fix.dir.join(&image), fix.sector_size());
            (image, dev)
        })
        .collect();
    let paths: Vec<String> = loops.iter().map(|(_, l)| l.path.clone()).collect();
    let devices: HashMap<String, String> = loops
        .iter()
        .map(|(image, l)| (format!("@{image}"), l.dev.clone()))
        .collect();
    for verify in [false, true] {
        let run = dry_run(&fix.cmdline(), &paths, verify);
        check_dry_run(&fix, &run, &devices);
    }
}

// ---------------------------------------------------------------- what the JSON must say

/// An LVM ID compared without its dashes (lvm2 prints 6-4-4-4-4-4-6 groups).
fn lvm_id(v: &Value) -> String {
    v.as_str().unwrap_or_default().replace('-', "")
}

/// Replaces the `@image` placeholders of an expected table line.
pub fn resolve_table_line(line: &str, devices: &HashMap<String, String>) -> String {
    line.split(' ')
        .map(|w| match w.strip_prefix('@') {
            Some(_) => devices
                .get(w)
                .unwrap_or_else(|| panic!("no device for placeholder {w} in {line:?}"))
                .clone(),
            None => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A candidate name matches an expected LV name exactly, or as "vg0/root:..." or
/// "vg0/root (...)" when the dry run says more (never "vg0/root_a" for "vg0/root").
fn candidate_matches(name: &str, expected: &str) -> bool {
    name == expected
        || name
            .strip_prefix(expected)
            .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(' '))
}

/// Checks a dry run of `fix` against its expect.json; `devices` maps placeholders.
pub fn check_dry_run(fix: &Fixture, run: &DryRun, devices: &HashMap<String, String>) {
    let exp = &fix.expect;
    let ctx = || {
        format!(
            "scenario {} ({})\n{}",
            fix.scenario,
            fix.dir.display(),
            run.describe()
        )
    };
    let expect_ok = exp["expect_ok"].as_bool().unwrap_or(false);
    assert_eq!(
        run.code,
        Some(if expect_ok { 0 } else { 1 }),
        "wrong exit status\n{}",
        ctx()
    );
    assert_eq!(
        run.json["ok"],
        Value::Bool(expect_ok),
        "wrong \"ok\"\n{}",
        ctx()
    );
    if !expect_ok {
        let error = run.error_text().to_lowercase();
        for want in array_of(&exp["expect_error_contains"]) {
            assert!(
                error.contains(&str_of(want).to_lowercase()),
                "the error does not mention {want}\n{}",
                ctx()
            );
        }
    }
    if exp["assert_tables"].as_bool().unwrap_or(true) {
        check_volume_groups(exp, run, devices, &ctx);
    }
    if expect_ok {
        check_candidates(exp, run, &ctx);
        check_plan(exp, run, &ctx);
    }
}

fn check_volume_groups(
    exp: &Value,
    run: &DryRun,
    devices: &HashMap<String, String>,
    ctx: &dyn Fn() -> String,
) {
    let got_vgs = run.json["volume_groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let want_vgs = array_of(&exp["volume_groups"]);
    assert_eq!(
        got_vgs.len(),
        want_vgs.len(),
        "wrong number of volume groups\n{}",
        ctx()
    );
    for want in want_vgs {
        let name = str_of(&want["name"]);
        let got = got_vgs
            .iter()
            .find(|g| g["name"] == want["name"])
            .unwrap_or_else(|| panic!("no volume group {name} in the output\n{}", ctx()));
        assert_eq!(
            lvm_id(&got["id"]),
            lvm_id(&want["id"]),
            "VG {name}: id\n{}",
            ctx()
        );
        assert_eq!(got["seqno"], want["seqno"], "VG {name}: seqno\n{}", ctx());
        assert_eq!(
            got["extent_size"],
            want["extent_size"],
            "VG {name}: extent_size\n{}",
            ctx()
        );
        let mut got_pvs: Vec<(String, Value)> = array_of(&got["pvs"])
            .iter()
            .map(|p| (lvm_id(&p["id"]), p["pe_start"].clone()))
            .collect();
        let mut want_pvs: Vec<(String, Value)> = array_of(&want["pvs"])
            .iter()
            .map(|p| (lvm_id(&p["id"]), p["pe_start"].clone()))
            .collect();
        got_pvs.sort_by(|a, b| a.0.cmp(&b.0));
        want_pvs.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got_pvs,
            want_pvs,
            "VG {name}: PVs (id, pe_start)\n{}",
            ctx()
        );
        let got_lvs = array_of(&got["lvs"]);
        let mut got_names: Vec<&str> = got_lvs.iter().map(|l| str_of(&l["name"])).collect();
        let mut want_names: Vec<&str> = array_of(&want["lvs"])
            .iter()
            .map(|l| str_of(&l["name"]))
            .collect();
        got_names.sort_unstable();
        want_names.sort_unstable();
        assert_eq!(got_names, want_names, "VG {name}: LV names\n{}", ctx());
        for want_lv in array_of(&want["lvs"]) {
            let lv = str_of(&want_lv["name"]);
            let got_lv = got_lvs
                .iter()
                .find(|l| l["name"] == want_lv["name"])
                .expect("checked above");
            assert_eq!(
                lvm_id(&got_lv["id"]),
                lvm_id(&want_lv["id"]),
                "LV {name}/{lv}: id\n{}",
                ctx()
            );
            let want_table: Vec<String> = array_of(&want_lv["table"])
                .iter()
                .map(|l| resolve_table_line(str_of(l), devices))
                .collect();
            let got_table: Vec<String> = array_of(&got_lv["table"])
                .iter()
                .map(|l| str_of(l).to_string())
                .collect();
            assert_eq!(got_table, want_table, "LV {name}/{lv}: table\n{}", ctx());
        }
    }
}

fn check_candidates(exp: &Value, run: &DryRun, ctx: &dyn Fn() -> String) {
    let got = run.json["candidates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for want in array_of(&exp["candidates"]) {
        let want = str_of(want);
        assert!(
            got.iter()
                .any(|c| candidate_matches(c["name"].as_str().unwrap_or_default(), want)),
            "no candidate {want}\n{}",
            ctx()
        );
    }
    let one_of: Vec<&str> = array_of(&exp["selected_one_of"])
        .iter()
        .map(str_of)
        .collect();
    if !one_of.is_empty() {
        let selected: Vec<&str> = got
            .iter()
            .filter(|c| c["selected"] == Value::Bool(true))
            .map(|c| c["name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            selected.len(),
            1,
            "expected exactly one selected candidate\n{}",
            ctx()
        );
        assert!(
            one_of.iter().any(|w| candidate_matches(selected[0], w)),
            "selected {} but expected one of {one_of:?}\n{}",
            selected[0],
            ctx()
        );
    }
}

fn check_plan(exp: &Value, run: &DryRun, ctx: &dyn Fn() -> String) {
    let steps = run.json["plan"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fstype = str_of(&exp["root"]["fstype"]);
    assert!(
        steps
            .iter()
            .any(|s| s["kind"] == "mount" && s["fstype"] == fstype && s["target"] == "/sysroot"),
        "no step mounting a {fstype} on /sysroot\n{}",
        ctx()
    );
    let v = &exp["verity"];
    if v.is_null() {
        return;
    }
    let root_hash = str_of(&v["root_hash"]);
    assert_eq!(
        run.json["root_hash"].as_str(),
        Some(root_hash),
        "wrong top-level root_hash\n{}",
        ctx()
    );
    for s in steps.iter().filter(|s| s["kind"] == "dm-create") {
        assert_eq!(
            s["read_only"],
            Value::Bool(true),
            "every dm table is loaded read-only: {}\n{}",
            s["name"],
            ctx()
        );
    }
    let step = steps
        .iter()
        .find(|s| {
            s["table"].as_array().is_some_and(|t| {
                t.iter()
                    .any(|l| l.as_str().is_some_and(|l| l.contains(" verity ")))
            })
        })
        .unwrap_or_else(|| panic!("no plan step with a verity table\n{}", ctx()));
    assert_eq!(step["kind"], "dm-create", "the verity step\n{}", ctx());
    assert_eq!(
        step["read_only"],
        Value::Bool(true),
        "the verity step must be read-only\n{}",
        ctx()
    );
    let lines = array_of(&step["table"]);
    assert_eq!(lines.len(), 1, "a verity table has one line\n{}", ctx());
    // 0 <len> verity 1 <data_dev> <hash_dev> <dbs> <hbs> <blocks> <hash_start> <alg> <root> <salt> [...]
    let w: Vec<&str> = str_of(&lines[0]).split_whitespace().collect();
    assert!(w.len() >= 13, "short verity line {:?}\n{}", lines[0], ctx());
    let num = |key: &str| {
        v[key]
            .as_u64()
            .unwrap_or_else(|| panic!("expect.json verity.{key}"))
            .to_string()
    };
    let want = [
        ("start", "0".to_string(), w[0]),
        ("length", num("table_sectors"), w[1]),
        ("target", "verity".to_string(), w[2]),
        (
            "version",
            v["hash_type"].as_u64().unwrap_or(1).to_string(),
            w[3],
        ),
        ("data_block_size", num("data_block_size"), w[6]),
        ("hash_block_size", num("hash_block_size"), w[7]),
        ("data_blocks", num("data_blocks"), w[8]),
        ("hash_start_block", num("hash_start_block"), w[9]),
        ("algorithm", str_of(&v["algorithm"]).to_string(), w[10]),
        ("root_hash", root_hash.to_string(), w[11]),
        ("salt", str_of(&v["salt"]).to_string(), w[12]),
    ];
    for (field, expected, got) in want {
        assert_eq!(
            got,
            expected,
            "verity table field {field}: {:?}\n{}",
            lines[0],
            ctx()
        );
    }
}

// ---------------------------------------------------------------- the tests

macro_rules! scenario_tests {
    ($($test:ident => $scenario:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                run_scenario($scenario);
            }
        )*
        /// Every scenario that has a test above.
        const TESTED_SCENARIOS: &[&str] = &[$($scenario),*];
    };
}

scenario_tests! {
    needs_root_loop_one_pv => "one-pv",
    needs_root_loop_three_pv_segments => "three-pv-segments",
    needs_root_loop_striped => "striped",
    needs_root_loop_wrapped => "wrapped",
    needs_root_loop_damaged_mda1 => "damaged-mda1",
    needs_root_loop_stale_pv => "stale-pv",
    needs_root_loop_dps_in_lv => "dps-in-lv",
    needs_root_loop_separate_hash_lv => "separate-hash-lv",
    needs_root_loop_appended_hash => "appended-hash",
    needs_root_loop_no_superblock => "no-superblock",
    needs_root_loop_sha512 => "sha512",
    needs_root_loop_empty_salt => "empty-salt",
    needs_root_loop_gpt_disk_pv => "gpt-disk-pv",
    needs_root_loop_ab_pair => "ab-pair",
    needs_root_loop_ab_differ => "ab-differ",
    needs_root_loop_ab_two_disks => "ab-two-disks",
    needs_root_loop_cloned_pv => "cloned-pv",
    needs_root_loop_erofs => "erofs",
    needs_root_loop_plain_gpt => "plain-gpt",
    needs_root_loop_sector4k => "sector4k",
    needs_root_loop_signed => "signed",
    needs_root_loop_damaged_sig => "damaged-sig",
    needs_root_loop_gpt_backup => "gpt-backup",
    needs_root_loop_two_mdas => "two-mdas",
    needs_root_loop_fec_footer => "fec-footer",
    needs_root_loop_fec_footer_r24 => "fec-footer-r24",
    needs_root_loop_fec_lv => "fec-lv",
}

#[test]
fn needs_root_loop_one_pv_via_loop_devices() {
    run_scenario_on_loop_devices("one-pv");
}

#[test]
fn needs_root_loop_sector4k_via_loop_devices() {
    run_scenario_on_loop_devices("sector4k");
}

#[test]
fn needs_root_loop_gpt_disk_pv_via_loop_devices() {
    run_scenario_on_loop_devices("gpt-disk-pv");
}

/// Needs nothing: a scenario added to make-fixture without a test here fails this.
#[test]
fn every_fixture_scenario_has_a_test() {
    let out = Command::new(fixtures_source().join("make-fixture"))
        .arg("--list")
        .output()
        .expect("run make-fixture --list");
    assert!(out.status.success(), "make-fixture --list failed");
    let listed = String::from_utf8_lossy(&out.stdout);
    let mut listed: Vec<&str> = listed.split_whitespace().collect();
    let mut tested = TESTED_SCENARIOS.to_vec();
    listed.sort_unstable();
    tested.sort_unstable();
    assert_eq!(
        listed, tested,
        "make-fixture's scenarios and this file's tests differ"
    );
}

/// systemd's habit: `root=/dev/mapper/root` names the verity device itself, with the
/// volume given by `systemd.verity_root_data=`; the plan is the same as without it.
#[test]
fn needs_root_loop_root_is_dev_mapper_root() {
    let fix = fixture("no-superblock");
    let paths: Vec<String> = fix
        .image_paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let plain = dry_run(&fix.cmdline(), &paths, false);
    let with_root = dry_run(
        &format!("root=/dev/mapper/root {}", fix.cmdline()),
        &paths,
        false,
    );
    assert_eq!(with_root.code, Some(0), "{}", with_root.describe());
    assert_eq!(
        with_root.json["plan"],
        plain.json["plan"],
        "{}",
        with_root.describe()
    );
}
