//! Tests of `parse`: whole command lines, precedence, sources and errors.
//! Test code only: its module is declared under #[cfg(test)].

use super::*;
use crate::id::Guid;

const HASH: &str = "4f68bce3e8cd4db196e7fbcaf984b7092c7357edebd246d9aec123d437ec2bf5";
const HASH2: &str = "00000000e8cd4db196e7fbcaf984b7092c7357edebd246d9aec123d437ec2bf5";
const GUID: &str = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";

fn ok(text: &str) -> BootArgs {
    match parse(text) {
        Ok(args) => args,
        Err(errors) => panic!("{text:?}: {errors:?}"),
    }
}

fn errors(text: &str) -> Vec<CmdlineError> {
    match parse(text) {
        Ok(args) => panic!("{text:?} parsed: {args:?}"),
        Err(errors) => errors,
    }
}

fn vglv(vg: &str, lv: &str) -> VgLv {
    VgLv::new(vg, lv).unwrap()
}

fn hash(text: &str) -> Option<RootHash> {
    Some(RootHash::parse(text).unwrap())
}

fn sources(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|&(f, w)| (f.to_string(), w.to_string()))
        .collect()
}

#[test]
fn empty_and_unknown_lines_give_defaults() {
    for text in [
        "",
        "\n",
        "console=ttyS0 quiet loglevel=3 rd.lvm.vg=vg0 usrhash=ab foo",
    ] {
        assert_eq!(ok(text), BootArgs::default(), "{text:?}");
    }
}

#[test]
fn infix_line() {
    let line =
        format!("root=ddi:lvm:vg0/rootfs-a rd.ddi.roothash={HASH} init=/sbin/init console=ttyS0\n");
    let args = ok(&line);
    let expected = BootArgs {
        root: Some(Root {
            spec: DeviceSpec::Lv(vglv("vg0", "rootfs-a")),
            expect_ddi: true,
            text: "ddi:lvm:vg0/rootfs-a".into(),
        }),
        root_hash: hash(HASH),
        init: Some("/sbin/init".into()),
        sources: sources(&[
            ("root", "root=ddi:lvm:vg0/rootfs-a"),
            ("root_hash", &format!("rd.ddi.roothash={HASH}")),
            ("init", "init=/sbin/init"),
        ]),
        ..BootArgs::default()
    };
    assert_eq!(args, expected);
    assert_eq!(
        args.source("root_hash"),
        Some(format!("rd.ddi.roothash={HASH}").as_str())
    );
    assert_eq!(args.source("panic"), None);
}

#[test]
fn dracut_line() {
    let line = "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.1.0 root=/dev/mapper/fedora--vg-root ro \
                rd.lvm.lv=fedora-vg/root rd.lvm.lv=fedora-vg/swap rd.lvm.lv=fedora-vg/root \
                rhgb quiet rd.emergency=reboot rootflags=noatime,errors=remount-ro \
                rootfstype=ext4 rd.retry=10";
    let args = ok(line);
    assert_eq!(
        args.root.as_ref().map(|r| &r.spec),
        Some(&DeviceSpec::Lv(vglv("fedora-vg", "root")))
    );
    assert_eq!(args.root.as_ref().map(|r| r.expect_ddi), Some(false));
    assert_eq!(
        args.lvm_lv,
        [vglv("fedora-vg", "root"), vglv("fedora-vg", "swap")]
    );
    assert_eq!(args.emergency, Some(FailurePolicy::Reboot));
    assert_eq!(args.flags.as_deref(), Some("noatime,errors=remount-ro"));
    assert_eq!(args.fstype.as_deref(), Some("ext4"));
    assert!(!args.read_write);
    assert_eq!(args.source("read_write"), Some("ro"));
    let lv_sources: Vec<_> = args.sources.iter().filter(|(f, _)| f == "lvm_lv").collect();
    assert_eq!(lv_sources.len(), 2);
}

#[test]
fn systemd_line() {
    let line = format!(
        "initrd=\\initrd.img roothash={HASH} systemd.verity=yes \
         systemd.verity_root_data=PARTUUID={GUID} \
         systemd.verity_root_hash=PARTLABEL=root-verity \
         systemd.verity_root_options=panic-on-corruption,hash-offset=4096 \
         rootfstype=erofs rootwait rootdelay=5 panic=-1 quiet splash -- --log-level=debug"
    );
    let args = ok(&line);
    assert_eq!(args.root_hash, hash(HASH));
    assert_eq!(args.verity, Some(true));
    assert_eq!(
        args.verity_data,
        Some(DeviceSpec::PartUuid(Guid::parse(GUID).unwrap()))
    );
    assert_eq!(
        args.verity_hash,
        Some(DeviceSpec::PartLabel("root-verity".into()))
    );
    assert_eq!(args.verity_options.corruption, Some(CorruptionMode::Panic));
    assert_eq!(args.verity_options.hash_offset, Some(4096));
    assert!(args.rootwait);
    assert_eq!(args.rootdelay, Some(Duration::from_secs(5)));
    assert_eq!(args.panic, Some(-1));
    assert_eq!(args.init_args, ["--log-level=debug"]);
    let fields: Vec<_> = args.sources.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "verity_data",
            "verity_hash",
            "root_hash",
            "verity",
            "verity_options",
            "fstype",
            "init_args",
            "rootwait",
            "rootdelay",
            "panic"
        ]
    );
    assert_eq!(args.source("init_args"), Some("-- --log-level=debug"));
}

#[test]
fn quoting() {
    let args = ok(r#"init="/sbin/my init" "rootflags=a b" root=LABEL="my root""#);
    assert_eq!(args.init.as_deref(), Some("/sbin/my init"));
    assert_eq!(args.flags.as_deref(), Some("a b"));
    let root = args.root.unwrap();
    assert_eq!(root.spec, DeviceSpec::Label("my root".into()));
    assert_eq!(root.text, "LABEL=my root");
    assert_eq!(
        args.sources[0],
        ("root".into(), r#"root=LABEL="my root""#.into())
    );
}

#[test]
fn words_after_dashes_go_to_init() {
    let args = ok(r#"ro -- rw root=/dev/x "single user" init=x"#);
    assert!(!args.read_write);
    assert_eq!(args.root, None);
    assert_eq!(args.init, None);
    assert_eq!(
        args.init_args,
        ["rw", "root=/dev/x", "single user", "init=x"]
    );
    // A bad option after `--` is init's business.
    assert_eq!(ok("-- roothash=xyz").init_args, ["roothash=xyz"]);
    assert_eq!(ok("ro --").source("init_args"), None);
}

#[test]
fn last_word_wins_and_rd_prefix_wins() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            "systemd.verity_root_data=/dev/a systemd.verity_root_data=/dev/b",
            Some("b"),
        ),
        (
            "rd.systemd.verity_root_data=/dev/a systemd.verity_root_data=/dev/b",
            Some("a"),
        ),
        (
            "systemd.verity_root_data=/dev/a rd.systemd.verity_root_data=/dev/b",
            Some("b"),
        ),
        (
            "rd.systemd.verity-root-data=/dev/a rd.systemd.verity_root_data=/dev/b",
            Some("b"),
        ),
        (
            "rd.systemd.verity-root-data=/dev/a systemd.verity-root-data=/dev/b",
            Some("a"),
        ),
        ("systemd.verity_root_datax=/dev/a", None),
    ];
    for &(text, expected) in cases {
        let got = ok(text).verity_data;
        assert_eq!(
            got,
            expected.map(|n| DeviceSpec::KernelName(n.into())),
            "{text}"
        );
    }
    let args = ok("rd.systemd.verity=0 systemd.verity systemd.verity=1");
    assert_eq!(
        (args.verity, args.source("verity")),
        (Some(false), Some("rd.systemd.verity=0"))
    );
    assert_eq!(
        ok(&format!("rd.roothash={HASH} roothash={HASH2}")).root_hash,
        hash(HASH)
    );
    assert!(ok("rw ro rw").read_write);
    assert!(!ok("rw ro").read_write);
    assert_eq!(ok("systemd.verity").verity, Some(true));
    assert_eq!(ok("panic=5 panic=0").panic, Some(0));
    let options =
        ok("rd.systemd.verity_root_options=format=0 systemd.verity_root_options=format=1");
    assert_eq!(options.verity_options.format, Some(0));
}

#[test]
fn root_hash_from_both_spellings() {
    let same = ok(&format!(
        "roothash={HASH} rd.ddi.roothash={}",
        HASH.to_uppercase()
    ));
    assert_eq!(same.root_hash, hash(HASH));
    assert_eq!(
        same.source("root_hash"),
        Some(format!("rd.ddi.roothash={}", HASH.to_uppercase()).as_str())
    );
    let differ = errors(&format!("roothash={HASH} rd.ddi.roothash={HASH2}"));
    assert_eq!(differ.len(), 1);
    assert_eq!(differ[0].option, format!("rd.ddi.roothash={HASH2}"));
    assert!(
        differ[0]
            .why
            .contains(&format!("differs from 'roothash={HASH}'")),
        "{differ:?}"
    );
    // The last word of each spelling counts.
    let replaced = ok(&format!(
        "roothash={HASH2} rd.ddi.roothash={HASH} roothash={HASH}"
    ));
    assert_eq!(replaced.root_hash, hash(HASH));
}

#[test]
fn near_misses_are_ignored() {
    let line = format!(
        "rd.lvm.lvx=vg0/a roothashx={HASH} rootfstype=ext4 rd.ddi.roothashx=1 \
         rd.lvm.vg=vg0 systemd.verity_root_datax=x rd.rd.roothash=zz rootwaitx panic_on_oops=1"
    );
    let args = ok(&line);
    assert_eq!(args.lvm_lv, []);
    assert_eq!(args.root_hash, None);
    assert_eq!(args.root, None);
    assert_eq!(args.fstype.as_deref(), Some("ext4"));
    assert!(!args.rootwait);
    assert_eq!(args.panic, None);
}

#[test]
fn bad_options() {
    let too_long_salt = format!("systemd.verity_root_options=salt={}", "ab".repeat(257));
    let cases: &[&str] = &[
        "root=",
        "root",
        "root=/dev/disk/by-id/ata-x",
        "root=ddi:nbd:x",
        "root=8:2",
        "root=PARTUUID=xyz",
        "roothash=xyz",
        "roothash=",
        "roothash",
        "rd.roothash=abc",
        "rd.ddi.roothash=00",
        "rd.lvm.lv=vg0",
        "rd.lvm.lv=vg0/-root",
        "rd.lvm.lv=",
        "systemd.verity_root_data=/dev/disk/by-path/x",
        "systemd.verity_root_hash=ddi:lvm:vg0/hash",
        "rd.systemd.verity_root_hash=",
        "systemd.verity=maybe",
        "systemd.verity=",
        "systemd.verity_root_options=bogus",
        "systemd.verity_root_options=data-block-size=1000",
        &too_long_salt,
        "rootfstype=",
        "rootflags=",
        "rw=1",
        "ro=0",
        "rootwait=10",
        "init=sbin/init",
        "init=",
        "rootdelay=-1",
        "rootdelay=5s",
        "rootdelay=",
        "panic=soon",
        "panic=0x10",
        "rd.emergency=shell",
        "rd.emergency=Reboot",
        "rd.emergency",
        "verinit.verify=yes",
        "verinit.verify=Full",
        "verinit.verify=",
        "verinit.verify",
    ];
    for &text in cases {
        let errors = errors(text);
        assert_eq!(errors.len(), 1, "{text}: {errors:?}");
        assert_eq!(errors[0].option, text);
    }
}

#[test]
fn every_bad_option_is_reported_in_order() {
    let line = "roothash=xyz root= quiet rd.lvm.lv=vg0 roothash=xyz \
                systemd.verity_root_options=format=2,bogus init=sbin/init";
    let got: Vec<_> = errors(line).into_iter().map(|e| e.option).collect();
    assert_eq!(
        got,
        [
            "roothash=xyz",
            "root=",
            "rd.lvm.lv=vg0",
            "roothash=xyz",
            "systemd.verity_root_options=format=2,bogus",
            "systemd.verity_root_options=format=2,bogus",
            "init=sbin/init",
        ]
    );
    // A bad word is reported even when a later one would have replaced it.
    assert_eq!(errors(&format!("roothash=xyz roothash={HASH}")).len(), 1);
}

#[test]
fn error_messages_name_the_option_and_the_fix() {
    let cases = [
        (
            "roothash=xyz",
            "kernel command line option 'roothash=xyz': 'xyz' is not a valid root hash",
        ),
        ("root=/dev/disk/by-id/x", "supported forms: PARTUUID="),
        ("rd.lvm.lv=vg0", "write rd.lvm.lv=<VG>/<LV>"),
        (
            "rd.emergency=shell",
            "'shell' is not reboot, poweroff, halt or panic",
        ),
        ("init=sbin/init", "write init=/sbin/init"),
        ("rootwait=5", "rootdelay=<seconds>"),
        ("rw=1", "takes no value; write rw"),
        ("root", "needs a value: root=<device>"),
        (
            "rootdelay=",
            "the value is empty; write rootdelay=<seconds>",
        ),
        (
            "systemd.verity_root_options=bogus",
            "veritytab option 'bogus': unknown key",
        ),
    ];
    for (text, wanted) in cases {
        let message = errors(text)[0].to_string();
        assert!(
            message.starts_with(&format!("kernel command line option '{text}': ")),
            "{message}"
        );
        assert!(message.contains(wanted), "{message}\n  lacks {wanted}");
    }
}

#[test]
fn rw_is_accepted_here() {
    let args = ok(&format!("roothash={HASH} rw"));
    assert!(args.read_write);
    assert_eq!(args.source("read_write"), Some("rw"));
}

#[test]
fn huge_command_lines_stay_cheap_and_short() {
    let many: String = (0..100_000)
        .map(|i| format!("rd.lvm.lv=vg0/lv{i} "))
        .collect();
    let start = std::time::Instant::now();
    let errors = parse(&many).unwrap_err();
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(errors.len(), MAX_REPORTED_ERRORS);
    assert!(
        errors[0].to_string().contains("more than 64 rd.lvm.lv="),
        "{}",
        errors[0]
    );
    assert!(errors
        .last()
        .unwrap()
        .to_string()
        .contains("more bad options"));
    let few: String = (0..64).map(|i| format!("rd.lvm.lv=vg0/lv{i} ")).collect();
    assert_eq!(parse(&few).unwrap().lvm_lv.len(), 64);
}

#[test]
fn module_parameters_for_finit_module() {
    let line = "root=/dev/vda dm_verity.require_signatures=1 dm-verity.x \
                dm_verity_x.y=2 virtio_blk.q=\"a b\" dm_verity.=3 dm_verity -- dm_verity.z=1";
    assert_eq!(
        module_parameters(line, "dm-verity"),
        "require_signatures=1 x"
    );
    assert_eq!(
        module_parameters(line, "dm_verity"),
        "require_signatures=1 x"
    );
    assert_eq!(module_parameters(line, "virtio_blk"), "q=\"a b\"");
    assert_eq!(module_parameters(line, "squashfs"), "");
}

#[test]
fn verinit_verify_full_or_off() {
    for (text, full) in [
        ("root=/dev/vda", false),
        ("verinit.verify=full", true),
        ("verinit.verify=off", false),
        ("verinit.verify=full verinit.verify=off", false),
        ("verinit.verify=off verinit.verify=full", true),
        // Near misses are other options, ignored.
        ("verinit.verifyx=full", false),
        ("rd.verinit.verify=full", false),
        ("verify=full", false),
    ] {
        let args = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert_eq!(args.verify_full, full, "{text}");
    }
}
