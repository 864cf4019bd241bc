//! Tests of `execute`: a recording `System` runs plans, and the calls it records are
//! compared with the plan (names resolved, the first failure stops, a signature's key
//! lives while the verity table loads, errnos explained).
//! Test code only: its module is declared under #[cfg(test)].

use super::*;

/// Records every call, and gives dm devices minors 0, 1, 2, ...
#[derive(Default)]
struct Recorder {
    calls: Vec<String>,
    missing_module: Option<String>,
    fail_mount: bool,
    fail_dm: Option<String>,
    fail_errno: i32,
    corrupted: bool,
    missing_dirs: Vec<String>,
    /// What DM_LIST_VERSIONS says of the verity target.
    verity_version: Option<TargetVersion>,
}

impl System for Recorder {
    fn has_module(&mut self, name: &str) -> bool {
        self.missing_module.as_deref() != Some(name)
    }
    fn device_ready(&mut self, dev: DevNum) -> Result<(), String> {
        self.calls.push(format!("ready {dev}"));
        Ok(())
    }
    fn add_key(&mut self, description: &str, payload: &[u8]) -> Result<i32, String> {
        self.calls
            .push(format!("add key {description} {} bytes", payload.len()));
        Ok(42)
    }
    fn remove_key(&mut self, serial: i32) -> Result<(), String> {
        self.calls.push(format!("remove key {serial}"));
        Ok(())
    }
    fn dm_create(
        &mut self,
        name: &str,
        uuid: &str,
        read_only: bool,
        table: &[TableLine],
    ) -> Result<DevNum, SysError> {
        let minor = self.calls.iter().filter(|c| c.starts_with("dm ")).count() as u32;
        self.calls.push(format!("dm {name} {uuid} ro={read_only}"));
        for l in table {
            self.calls.push(format!("  {l}"));
        }
        if self.fail_dm.as_deref() == Some(name) {
            return Err(SysError {
                errno: Some(self.fail_errno),
                what: format!("table of {name} refused"),
            });
        }
        Ok(DevNum { major: 253, minor })
    }
    fn target_version(&mut self, name: &str) -> Option<TargetVersion> {
        self.calls.push(format!("version {name}"));
        self.verity_version.filter(|_| name == "verity")
    }
    fn dm_remove(&mut self, name: &str) -> Result<(), String> {
        self.calls.push(format!("remove {name}"));
        Ok(())
    }
    fn verity_status(&mut self, name: &str) -> Option<String> {
        self.calls.push(format!("status {name}"));
        Some(if self.corrupted { "C" } else { "V" }.into())
    }
    fn read_all(&mut self, dev: DevNum) -> Result<u64, SysError> {
        self.calls.push(format!("read all {dev}"));
        Ok(4096)
    }
    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), String> {
        self.calls.push(format!(
            "write {path} {}",
            String::from_utf8_lossy(contents)
        ));
        Ok(())
    }
    fn missing_dirs(&mut self, _root: &str, dirs: &[&str]) -> Vec<String> {
        dirs.iter()
            .filter(|d| self.missing_dirs.contains(&d.to_string()))
            .map(|d| d.to_string())
            .collect()
    }
    fn mount(
        &mut self,
        dev: DevNum,
        target: &str,
        fstype: &str,
        read_only: bool,
        data: Option<&str>,
    ) -> Result<(), SysError> {
        self.calls.push(format!(
            "mount {dev} {target} {fstype} ro={read_only} {data:?}"
        ));
        if self.fail_mount {
            return Err(SysError {
                errno: Some(self.fail_errno),
                what: "mount failed".into(),
            });
        }
        Ok(())
    }
    fn is_executable(&mut self, _root: &str, _path: &str) -> bool {
        true
    }
    fn switch_root(&mut self, new_root: &str) -> Result<(), String> {
        self.calls.push(format!("switch {new_root}"));
        Ok(())
    }
    fn exec(&mut self, init: &str, args: &[String]) -> String {
        self.calls.push(format!("exec {init} {args:?}"));
        "recorded".into()
    }
}

/// A boot record that says how many dm devices and warnings it was given.
fn no_record(made: &[MadeDevice], warnings: &[String]) -> Vec<u8> {
    format!("{} made, {} warnings", made.len(), warnings.len()).into_bytes()
}

fn plan() -> Plan {
    let t = |s: &str| -> TableLine { s.parse().unwrap() };
    Plan {
        steps: vec![
            Step::LoadModules {
                modules: vec!["dm-mod".into(), "dm-verity".into()],
            },
            Step::WaitForDevices {
                devices: vec![DevRef::Num(DevNum {
                    major: 254,
                    minor: 0,
                })],
                wait: crate::plan::step::Wait::Forever,
            },
            Step::DmCreate {
                name: "vg0-root1".into(),
                uuid: "part1-LVM-x".into(),
                read_only: true,
                table: vec![t("0 8 linear 254:0 2048")],
            },
            Step::DmCreate {
                name: "vg0-root2".into(),
                uuid: "part2-LVM-x".into(),
                read_only: true,
                table: vec![t("0 8 linear 254:0 4096")],
            },
            Step::DmCreate {
                name: "root".into(),
                uuid: "CRYPT-VERITY-x-root".into(),
                read_only: true,
                table: vec![t(
                    "0 8 verity 1 vg0-root1 vg0-root2 4096 4096 1 1 sha256 ab -",
                )],
            },
            Step::Mount {
                source: DevRef::Name("root".into()),
                target: "/sysroot".into(),
                fstype: "squashfs".into(),
                read_only: true,
                data: None,
            },
            Step::WriteBootRecord {
                path: "/run/verinit/boot.json".into(),
            },
            Step::SwitchRoot {
                new_root: "/sysroot".into(),
            },
            Step::Exec {
                init: "/sbin/init".into(),
                args: vec!["single".into()],
            },
        ],
    }
}

#[test]
fn runs_the_plan_with_names_resolved() {
    let mut rec = Recorder::default();
    let mut seen = Vec::new();
    let err = execute(&plan(), &mut rec, &mut |i, _| seen.push(i), &mut no_record).error;
    assert_eq!(err.what, "recorded");
    assert_eq!(seen, (0..9).collect::<Vec<_>>());
    assert_eq!(
        rec.calls,
        [
            "ready 254:0",
            "dm vg0-root1 part1-LVM-x ro=true",
            "  0 8 linear 254:0 2048",
            "dm vg0-root2 part2-LVM-x ro=true",
            "  0 8 linear 254:0 4096",
            "dm root CRYPT-VERITY-x-root ro=true",
            "  0 8 verity 1 253:0 253:1 4096 4096 1 1 sha256 ab -",
            "mount 253:2 /sysroot squashfs ro=true None",
            "write /run/verinit/boot.json 3 made, 0 warnings",
            "switch /sysroot",
            "exec /sbin/init [\"single\"]",
        ]
    );
}

#[test]
fn stops_at_the_first_failure() {
    let mut rec = Recorder {
        missing_module: Some("dm-verity".into()),
        ..Recorder::default()
    };
    let err = execute(&plan(), &mut rec, &mut |_, _| {}, &mut no_record).error;
    assert_eq!(err.step, 0);
    assert!(err.what.contains("dm-verity"), "{err}");
    assert!(rec.calls.is_empty());

    let mut rec = Recorder {
        fail_mount: true,
        ..Recorder::default()
    };
    let err = execute(&plan(), &mut rec, &mut |_, _| {}, &mut no_record).error;
    assert_eq!(err.step, 5);
    assert!(!rec.calls.iter().any(|c| c.starts_with("switch")));
}

#[test]
fn a_signature_key_lives_while_the_verity_table_loads() {
    let mut p = plan();
    let desc = "verinit:root:ab".to_string();
    p.steps.insert(
        4,
        Step::AddKey {
            description: desc.clone(),
            payload: vec![0x30; 7],
            from: "vg0/root partition 3".into(),
        },
    );
    p.steps.insert(
        6,
        Step::RemoveKey {
            description: desc.clone(),
        },
    );
    let mut rec = Recorder::default();
    execute(&p, &mut rec, &mut |_, _| {}, &mut no_record);
    let at = |c: &str| rec.calls.iter().position(|x| x.starts_with(c)).unwrap();
    assert!(at("add key verinit:root:ab 7 bytes") < at("dm root"));
    assert!(at("dm root") < at("remove key 42"));
    // A key removed that was never added is a planner bug, reported as such.
    let bad = Plan {
        steps: vec![Step::RemoveKey { description: desc }],
    };
    let err = execute(
        &bad,
        &mut Recorder::default(),
        &mut |_, _| {},
        &mut no_record,
    )
    .error;
    assert!(err.what.contains("not added"), "{err}");
}

#[test]
fn signature_errnos_explained_only_for_signed_tables() {
    let signed: Vec<TableLine> = vec![
        "0 8 verity 1 253:0 253:1 4096 4096 1 1 sha256 ab - 2 root_hash_sig_key_desc k"
            .parse()
            .unwrap(),
    ];
    let plain: Vec<TableLine> = vec!["0 8 verity 1 253:0 253:1 4096 4096 1 1 sha256 ab -"
        .parse()
        .unwrap()];
    for (errno, word) in [
        (ENOKEY, "does not trust"),
        (EKEYREJECTED, "altered"),
        (EBADMSG, "cannot read"),
        (ENOPKG, "lacks an algorithm"),
    ] {
        assert!(explain_table_error(errno, &signed).unwrap().contains(word));
        assert_eq!(explain_table_error(errno, &plain), None);
    }
    assert_eq!(explain_table_error(22, &signed), None);
    let on_error: Vec<TableLine> = vec![
        "0 8 verity 1 253:0 253:1 4096 4096 1 1 sha256 ab - 2 restart_on_corruption restart_on_error"
            .parse()
            .unwrap(),
    ];
    let why = explain_table_error(22, &on_error).expect("EINVAL explained");
    assert!(why.contains("came with Linux 6.12"), "{why}");
    assert_eq!(explain_table_error(5, &on_error), None);
}

#[test]
fn which_failures_another_copy_may_get_past() {
    let t = |s: &str| -> Vec<TableLine> { vec![s.parse().unwrap()] };
    let linear = Step::DmCreate {
        name: "vg0-root_a1".into(),
        uuid: "u".into(),
        read_only: true,
        table: t("0 8 linear 254:0 2048"),
    };
    let verity = Step::DmCreate {
        name: "root".into(),
        uuid: "u".into(),
        read_only: true,
        table: t("0 8 verity 1 253:0 253:1 4096 4096 1 1 sha256 ab -"),
    };
    let signed = Step::DmCreate {
        name: "root".into(),
        uuid: "u".into(),
        read_only: true,
        table: t("0 8 verity 1 253:0 253:1 4096 4096 1 1 sha256 ab - 2 root_hash_sig_key_desc k"),
    };
    let mount = Step::Mount {
        source: DevRef::Name("root".into()),
        target: "/sysroot".into(),
        fstype: "squashfs".into(),
        read_only: true,
        data: None,
    };
    let read_all = Step::ReadAll {
        source: DevRef::Name("root".into()),
    };
    let wait = Step::WaitForDevices {
        devices: vec![],
        wait: crate::plan::step::Wait::Forever,
    };
    let modules = Step::LoadModules {
        modules: vec!["dm-verity".into()],
    };
    let switch = Step::SwitchRoot {
        new_root: "/sysroot".into(),
    };
    let key = Step::AddKey {
        description: "k".into(),
        payload: vec![],
        from: "p".into(),
    };
    const EIO: i32 = 5;
    const ENXIO: i32 = 6;
    const EINVAL: i32 = 22;
    const ENOMEM: i32 = 12;
    for (step, errno, corrupted, moves_on) in [
        (&wait, None, false, true),
        (&linear, Some(ENXIO), false, true),
        (&linear, Some(EIO), false, true),
        (&linear, Some(EINVAL), false, true),
        (&linear, Some(ENOMEM), false, false),
        (&linear, None, false, false),
        (&verity, Some(ENXIO), false, true),
        (&verity, Some(EINVAL), false, false),
        (&signed, Some(EKEYREJECTED), false, false),
        (&signed, Some(ENOKEY), false, false),
        (&signed, Some(EBADMSG), false, false),
        (&signed, Some(ENOPKG), false, false),
        (&mount, Some(EIO), false, true),
        (&mount, Some(EINVAL), true, true),
        (&mount, Some(EINVAL), false, false),
        (&mount, Some(19), false, false),
        (&read_all, Some(EIO), false, true),
        (&read_all, Some(EIO), true, true),
        (&modules, None, false, false),
        (&key, None, false, false),
        (&switch, None, false, false),
    ] {
        assert_eq!(
            another_copy_may_help(step, errno, corrupted),
            moves_on,
            "{step} errno {errno:?} corrupted {corrupted}"
        );
    }
}

#[test]
fn a_failed_mount_says_whether_verity_found_corruption() {
    let mut rec = Recorder {
        fail_mount: true,
        fail_errno: 22,
        corrupted: true,
        ..Recorder::default()
    };
    let attempt = execute(&plan(), &mut rec, &mut |_, _| {}, &mut no_record);
    assert_eq!(attempt.error.step, 5);
    assert!(attempt.error.copy_specific);
    assert!(
        attempt.error.what.contains("dm-verity found a block"),
        "{}",
        attempt.error
    );
    assert!(rec.calls.contains(&"status root".to_string()));
    let names: Vec<&str> = attempt.made.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["vg0-root1", "vg0-root2", "root"]);

    let mut rec = Recorder {
        fail_mount: true,
        fail_errno: 22,
        ..Recorder::default()
    };
    let attempt = execute(&plan(), &mut rec, &mut |_, _| {}, &mut no_record);
    assert!(!attempt.error.copy_specific, "{}", attempt.error);
}

#[test]
fn undo_removes_keys_then_dm_devices_in_reverse_order() {
    let mut p = plan();
    p.steps.insert(
        4,
        Step::AddKey {
            description: "k".into(),
            payload: vec![1],
            from: "p".into(),
        },
    );
    // The verity table fails: the key is still held, two linear devices exist.
    let mut rec = Recorder {
        fail_dm: Some("root".into()),
        fail_errno: 6,
        ..Recorder::default()
    };
    let attempt = execute(&p, &mut rec, &mut |_, _| {}, &mut no_record);
    assert_eq!(attempt.error.step, 5);
    assert!(attempt.error.copy_specific);
    rec.calls.clear();
    assert!(undo(&mut rec, &attempt).is_empty());
    assert_eq!(
        rec.calls,
        ["remove key 42", "remove vg0-root2", "remove vg0-root1"]
    );
}

#[test]
fn a_root_without_run_boots_with_a_warning_in_the_record() {
    let mut rec = Recorder {
        missing_dirs: vec!["/run".into(), "/sys".into()],
        ..Recorder::default()
    };
    let mut seen = Vec::new();
    let attempt = execute(&plan(), &mut rec, &mut |_, _| {}, &mut |made, warnings| {
        seen = warnings.to_vec();
        no_record(made, warnings)
    });
    assert_eq!(attempt.error.what, "recorded", "init still runs");
    assert!(rec
        .calls
        .contains(&"write /run/verinit/boot.json 3 made, 2 warnings".to_string()));
    assert_eq!(seen.len(), 2);
    assert!(seen[0].contains("no /sys directory"), "{seen:?}");
    assert!(seen[1].contains("cannot read the boot record"), "{seen:?}");
}

#[test]
fn read_all_runs_before_the_mount() {
    let mut p = plan();
    p.steps.insert(
        5,
        Step::ReadAll {
            source: DevRef::Name("root".into()),
        },
    );
    let mut rec = Recorder::default();
    execute(&p, &mut rec, &mut |_, _| {}, &mut no_record);
    let at = |c: &str| rec.calls.iter().position(|x| x.starts_with(c)).unwrap();
    assert!(at("read all 253:2") < at("mount 253:2"));
}

/// The plan of `plan()` with these words on its verity table.
fn plan_with_words(words: &str) -> Plan {
    let mut p = plan();
    for step in &mut p.steps {
        if let Step::DmCreate { name, table, .. } = step {
            if name == "root" {
                table[0] = format!(
                    "0 8 verity 1 vg0-root1 vg0-root2 4096 4096 1 1 sha256 ab - {} {words}",
                    words.split_whitespace().count()
                )
                .parse()
                .unwrap();
            }
        }
    }
    p
}

/// Runs `plan_with_words(words)` on a kernel whose verity target says `version`.
fn run_on_verity(version: Option<TargetVersion>, words: &str) -> (StepError, Recorder) {
    let mut rec = Recorder {
        verity_version: version,
        ..Recorder::default()
    };
    let err = execute(
        &plan_with_words(words),
        &mut rec,
        &mut |_, _| {},
        &mut no_record,
    )
    .error;
    (err, rec)
}

#[test]
fn a_table_the_kernels_verity_predates_is_refused_before_it_loads() {
    let words = "restart_on_corruption restart_on_error";
    // Linux 6.1's dm-verity.
    let (err, rec) = run_on_verity(Some(TargetVersion(1, 8, 1)), words);
    assert_eq!(err.step, 4, "{err}");
    assert!(
        err.what.contains("version 1.8.1, older than 1.10.0")
            && err.what.contains("Linux 6.12 or later"),
        "{err}"
    );
    assert!(!err.copy_specific, "every copy would meet the same kernel");
    assert!(
        !rec.calls.iter().any(|c| c.starts_with("dm root")),
        "the table must not be loaded: {:?}",
        rec.calls
    );

    // A kernel that has them, and one that cannot say: the table is loaded.
    for version in [Some(TargetVersion(1, 10, 0)), None] {
        let (err, rec) = run_on_verity(version, words);
        assert_eq!(err.what, "recorded", "{version:?}");
        assert!(
            rec.calls.iter().any(|c| c.starts_with("dm root")),
            "{version:?}"
        );
    }

    // A table without options asks nothing of the kernel.
    let mut rec = Recorder::default();
    execute(&plan(), &mut rec, &mut |_, _| {}, &mut no_record);
    assert!(
        !rec.calls.iter().any(|c| c.starts_with("version ")),
        "{:?}",
        rec.calls
    );
}
