//! The dry run with no PATH: devices come from a sysfs `class/block` directory, as on a
//! workstation (`/sys/class/block`) or at boot. The test gives it a private directory that
//! links only its own loop devices, so other tests' loop devices cannot interfere, while
//! everything behind the link (dev, size, queue/logical_block_size) is the kernel's own.
//! Needs root and loop devices; fails saying so otherwise.

mod common;

use common::{dry_run_with, fixture, LoopDevice};
use std::fs;
use std::path::Path;

fn scan_through_sysfs(scenario: &str) {
    let fix = fixture(scenario);
    let loops: Vec<LoopDevice> = fix
        .image_paths()
        .iter()
        .map(|p| LoopDevice::attach_read_only(p, fix.sector_size()))
        .collect();
    let sysfs = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sysfs-{scenario}"));
    let _ = fs::remove_dir_all(&sysfs);
    fs::create_dir_all(&sysfs).expect("create a sysfs directory");
    for l in &loops {
        let name = l.path.trim_start_matches("/dev/");
        std::os::unix::fs::symlink(format!("/sys/class/block/{name}"), sysfs.join(name))
            .expect("link the loop device");
    }
    let run = dry_run_with(vec![
        "--dry-run".into(),
        "--json".into(),
        "--sysfs".into(),
        sysfs.display().to_string(),
        "--cmdline".into(),
        fix.cmdline(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let devices = run.json["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), loops.len(), "{}", run.describe());
    for l in &loops {
        let d = devices
            .iter()
            .find(|d| d["name"] == l.path.as_str())
            .unwrap_or_else(|| panic!("{} not listed\n{}", l.path, run.describe()));
        assert_eq!(d["dev"], l.dev.as_str(), "{}", run.describe());
        assert_eq!(d["sector_size"], fix.sector_size(), "{}", run.describe());
    }
    // The tables name the loop devices by number.
    let steps = run.json["plan"]["steps"].as_array().expect("plan steps");
    let tables: Vec<&str> = steps
        .iter()
        .filter_map(|s| s["table"].as_array())
        .flatten()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(
        tables
            .iter()
            .any(|t| t.contains(&format!(" {} ", loops[0].dev))),
        "no table names {}\n{}",
        loops[0].dev,
        run.describe()
    );
    let _ = fs::remove_dir_all(&sysfs);
}

#[test]
fn needs_root_loop_one_pv_through_sysfs() {
    scan_through_sysfs("one-pv");
}

#[test]
fn needs_root_loop_sector4k_through_sysfs() {
    scan_through_sysfs("sector4k");
}

#[test]
fn needs_root_loop_three_pv_segments_through_sysfs() {
    scan_through_sysfs("three-pv-segments");
}
