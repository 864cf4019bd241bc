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
    ) -> Result<DevNum, String> {
        let minor = self.calls.iter().filter(|c| c.starts_with("dm")).count() as u32;
        self.calls.push(format!("dm {name} {uuid} ro={read_only}"));
        for l in table {
            self.calls.push(format!("  {l}"));
        }
        Ok(DevNum { major: 253, minor })
    }
    fn mount(
        &mut self,
        dev: DevNum,
        target: &str,
        fstype: &str,
        read_only: bool,
        data: Option<&str>,
    ) -> Result<(), String> {
        self.calls.push(format!(
            "mount {dev} {target} {fstype} ro={read_only} {data:?}"
        ));
        if self.fail_mount {
            return Err("mount failed".into());
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
    let err = execute(&plan(), &mut rec, &mut |i, _| seen.push(i));
    assert_eq!(err.what, "recorded");
    assert_eq!(seen, (0..8).collect::<Vec<_>>());
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
    let err = execute(&plan(), &mut rec, &mut |_, _| {});
    assert_eq!(err.step, 0);
    assert!(err.what.contains("dm-verity"), "{err}");
    assert!(rec.calls.is_empty());

    let mut rec = Recorder {
        fail_mount: true,
        ..Recorder::default()
    };
    let err = execute(&plan(), &mut rec, &mut |_, _| {});
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
    execute(&p, &mut rec, &mut |_, _| {});
    let at = |c: &str| rec.calls.iter().position(|x| x.starts_with(c)).unwrap();
    assert!(at("add key verinit:root:ab 7 bytes") < at("dm root"));
    assert!(at("dm root") < at("remove key 42"));
    // A key removed that was never added is a planner bug, reported as such.
    let bad = Plan {
        steps: vec![Step::RemoveKey { description: desc }],
    };
    let err = execute(&bad, &mut Recorder::default(), &mut |_, _| {});
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
}
