//! Tests of device names and root= forms (`device_spec.rs`).
//! Test code only: its module is declared under #[cfg(test)].

use super::*;

const GUID: &str = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";
const LVM_ID: &str = "Lx3Za1-2Bcd-3Efg-4Hij-5Klm-6Nop-7Qrs!#";

fn guid() -> Guid {
    Guid::parse(GUID).unwrap()
}

fn lv(vg: &str, lv: &str) -> DeviceSpec {
    DeviceSpec::Lv(VgLv::new(vg, lv).unwrap())
}

#[test]
fn good_devices() {
    let s = |t: &str| t.to_string();
    let cases = [
        (format!("PARTUUID={GUID}"), DeviceSpec::PartUuid(guid())),
        (
            format!("PARTUUID={}", GUID.to_uppercase()),
            DeviceSpec::PartUuid(guid()),
        ),
        (
            format!("/dev/disk/by-partuuid/{GUID}"),
            DeviceSpec::PartUuid(guid()),
        ),
        (
            format!("PARTUUID={LVM_ID}"),
            DeviceSpec::LvUuid(LvmId::parse(LVM_ID).unwrap()),
        ),
        (
            s("PARTUUID=Lx3Za12Bcd3Efg4Hij5Klm6Nop7Qrs!#"),
            DeviceSpec::LvUuid(LvmId::parse(LVM_ID).unwrap()),
        ),
        (s("/dev/vg0/root"), lv("vg0", "root")),
        (s("/dev/mapper/vg0-root"), lv("vg0", "root")),
        (s("/dev/mapper/root"), DeviceSpec::VerityRoot),
        (s("/dev/mapper/my--vg-root--a"), lv("my-vg", "root-a")),
        (s("/dev/mapper/disk-root"), lv("disk", "root")),
        (s("PARTLABEL=root-a"), DeviceSpec::PartLabel(s("root-a"))),
        (s("PARTLABEL=my root"), DeviceSpec::PartLabel(s("my root"))),
        (
            s("/dev/disk/by-partlabel/my\\x20root"),
            DeviceSpec::PartLabel(s("my root")),
        ),
        (s("UUID=B2C4-1F0A"), DeviceSpec::FsUuid(s("b2c4-1f0a"))),
        (
            s("/dev/disk/by-uuid/B2C4-1F0A"),
            DeviceSpec::FsUuid(s("b2c4-1f0a")),
        ),
        (s("LABEL=Root"), DeviceSpec::Label(s("Root"))),
        (s("LABEL=a=b"), DeviceSpec::Label(s("a=b"))),
        (s("/dev/disk/by-label/a\\x2fb"), DeviceSpec::Label(s("a/b"))),
        (
            s("/dev/disk/by-label/r\\xc3\\xa4k"),
            DeviceSpec::Label(s("räk")),
        ),
        (s("/dev/vda2"), DeviceSpec::KernelName(s("vda2"))),
        (s("/dev/nvme0n1p2"), DeviceSpec::KernelName(s("nvme0n1p2"))),
        (s("/dev/dm-0"), DeviceSpec::KernelName(s("dm-0"))),
    ];
    for (text, expected) in cases {
        assert_eq!(DeviceSpec::parse(&text), Ok(expected), "{text}");
    }
}

#[test]
fn bad_devices() {
    let cases = [
        "",
        "PARTUUID=",
        "PARTUUID=4f68bce3-e8cd-4db1-96e7-fbcaf984b70g",
        "PARTUUID=4f68bce3e8cd4db196e7fbcaf984b709xxxx",
        "PARTUUID=0a1b2c3d-02",
        "PARTUUID=4f68bce3-e8cd-4db1-96e7-fbcaf984b709/PARTNROFF=1",
        "PARTUUID=Lx3Za1-2Bcd-3Efg-4Hij-5Klm-6Nop-7Qrs!$",
        "PARTLABEL=",
        "LABEL=",
        "UUID=",
        "UUID=a b",
        "/dev/disk/by-partuuid/0a1b2c3d-02",
        "/dev/disk/by-label/",
        "/dev/disk/by-label/a\\x2",
        "/dev/disk/by-label/a\\xzz",
        "/dev/disk/by-label/\\xff",
        "/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part2",
        "/dev/disk/by-path/pci-0000:00:04.0-part2",
        "/dev/disk/by-diskseq/3-part2",
        "/dev/disk/foo",
        "/dev/mapper/vg0-root-real",
        "/dev/mapper/",
        "/dev/block/8:2",
        "/dev/",
        "/dev/disk",
        "/dev/mapper",
        "/dev/nfs",
        "/dev/.x",
        "/dev//vda2",
        "/dev/vg0/-root",
        "/dev/a/b/c",
        "/dev/vg0/root/",
        "vda2",
        "8:2",
        "0802",
        "vg0/root",
        "partuuid=4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
        "ddi:lvm:vg0/root",
        "/sys/block/vda",
    ];
    for text in cases {
        assert!(DeviceSpec::parse(text).is_err(), "{text:?} parsed");
    }
    let why = DeviceSpec::parse("/dev/disk/by-id/x").unwrap_err();
    assert!(why.contains("supported forms: PARTUUID="), "{why}");
}

#[test]
fn root_forms() {
    let cases = [
        ("ddi:lvm:vg0/rootfs-a", lv("vg0", "rootfs-a"), true),
        (
            &format!("ddi:GPTUUID={GUID}"),
            DeviceSpec::DiskGuid(guid()),
            true,
        ),
        ("/dev/vg0/root", lv("vg0", "root"), false),
        (
            &format!("PARTUUID={GUID}"),
            DeviceSpec::PartUuid(guid()),
            false,
        ),
    ];
    for (text, spec, expect_ddi) in cases {
        let text = text.to_string();
        assert_eq!(
            Root::parse(&text),
            Ok(Root {
                spec,
                expect_ddi,
                text: text.clone()
            })
        );
    }
    for bad in [
        "",
        "ddi:",
        "ddi:lvm:",
        "ddi:lvm:vg0",
        "ddi:lvm:/dev/vg0/root",
        "ddi:lvmx:vg0/root",
        "ddi:GPTUUID=",
        "ddi:GPTUUID=xyz",
        "ddi:gptuuid=4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
        "ddi:PARTUUID=4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
        "ddi",
        "tmpfs",
        "live:CDLABEL=x",
    ] {
        assert!(Root::parse(bad).is_err(), "{bad:?} parsed");
    }
    let why = Root::parse("ddi:nbd:x").unwrap_err();
    assert!(why.contains("ddi:lvm:<VG>/<LV> or ddi:GPTUUID="), "{why}");
}

#[test]
fn display_round_trips() {
    let specs = [
        DeviceSpec::PartUuid(guid()),
        DeviceSpec::LvUuid(LvmId::parse(LVM_ID).unwrap()),
        lv("vg0", "root"),
        lv("my-vg", "root-a"),
        lv("disk", "root"),
        lv("mapper", "x-y"),
        DeviceSpec::PartLabel("my root".into()),
        DeviceSpec::FsUuid("b2c4-1f0a".into()),
        DeviceSpec::Label("a/b".into()),
        DeviceSpec::KernelName("vda2".into()),
    ];
    for spec in specs {
        let text = spec.to_string();
        assert_eq!(DeviceSpec::parse(&text), Ok(spec), "{text}");
    }
    let disk = DeviceSpec::DiskGuid(guid());
    assert_eq!(disk.to_string(), format!("ddi:GPTUUID={GUID}"));
    assert_eq!(Root::parse(&disk.to_string()).map(|r| r.spec), Ok(disk));
    assert_eq!(lv("disk", "root").to_string(), "/dev/mapper/disk-root");
    assert_eq!(lv("vg0", "root").to_string(), "/dev/vg0/root");
}
