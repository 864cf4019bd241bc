//! Metadata redundancy: a PV that `pvcreate --pvmetadatacopies 2` made carries a second
//! metadata area at its end. Reads that fail with EIO (a failing flash region) or bytes
//! that fail a checksum in one area cost only that copy: the VG comes from the other,
//! with a warning naming the device, the offset and the cause. Where each area lies is
//! taken from lvm2's own report (`pvck --dump headers`), not from our reader.

// Lists of bad byte ranges, one range long or more.
#![allow(clippy::single_range_in_vec_init)]

use std::sync::{Arc, OnceLock};

use crate::disk::devices::{BlockDevice, DeviceKind};
use crate::disk::source::{FailingSource, MemSource, ReadAt};
use crate::scan::Scan;
use crate::units::Bytes;
use crate::verity::fixture::{field, run, LoopDevice, TempDir};

const NAME: &str = "pv.img";
const LVM_CONFIG: &str = "activation{udev_sync=0 udev_rules=0} \
    devices{obtain_device_list_from_udev=0 use_devicesfile=0 hints=\"none\"} \
    backup{backup=0 archive=0}";

/// An 8 MiB PV made by lvm2 with two metadata areas, VG vg0 with LV root, and what
/// `pvck --dump headers` says of it.
struct TwoMdaPv {
    bytes: Vec<u8>,
    /// mda_header_1 and mda_header_2: (offset, size) of each area.
    mdas: [(u64, u64); 2],
    /// Where the first area's committed text starts on the device.
    text1: u64,
    /// The data area's start (pe_start).
    data: u64,
}

fn lvm(command: &str, dev: &str, args: &[&str]) -> String {
    let mut all = vec![command, "--driverloaded", "n", "--devices", dev];
    all.extend(["--config", LVM_CONFIG]);
    all.extend(args);
    run("lvm", &all)
}

/// Made once per test binary: lvm2 on a loop device (root needed).
fn two_mda_pv() -> &'static TwoMdaPv {
    static PV: OnceLock<TwoMdaPv> = OnceLock::new();
    PV.get_or_init(|| {
        let dir = TempDir::new("mda2");
        let path = dir.file(NAME);
        std::fs::write(&path, vec![0u8; 8 << 20]).unwrap();
        let dev = LoopDevice::attach(&path, &[]);
        let d = dev.0.as_str();
        lvm("pvcreate", d, &["--pvmetadatacopies", "2", d]);
        lvm("vgcreate", d, &["vg0", d]);
        lvm(
            "lvcreate",
            d,
            &["-an", "-Zn", "-n", "root", "-l", "1", "vg0"],
        );
        let filter = format!("{LVM_CONFIG} devices{{global_filter=[\"a|^{d}$|\",\"r|.*|\"]}}");
        let headers = run(
            "lvm",
            &[
                "pvck",
                "--driverloaded",
                "n",
                "--config",
                &filter,
                "--dump",
                "headers",
                d,
            ],
        );
        drop(dev);
        let num = |key: &str| -> u64 {
            let v = field(&headers, key);
            v.split_whitespace().next().unwrap().parse().unwrap()
        };
        TwoMdaPv {
            bytes: std::fs::read(&path).unwrap(),
            mdas: [
                (num("mda_header_1 at"), num("mda_header_1.size")),
                (num("mda_header_2 at"), num("mda_header_2.size")),
            ],
            text1: num("mda_header_1 at") + num("mda_header_1.raw_locn[0].offset"),
            data: num("pv_header.disk_locn[0].offset"),
        }
    })
}

fn scan_of(source: Arc<dyn ReadAt>) -> Scan {
    let device = BlockDevice {
        name: NAME.into(),
        path: NAME.into(),
        dev: None,
        size: Bytes(source.len()),
        sector_size: 512,
        kind: DeviceKind::File,
    };
    Scan::from_sources(vec![device], vec![source])
}

/// What a scan found: whether vg0 was assembled with its LV, and the warnings.
fn outcome(scan: &Scan) -> (bool, Vec<String>) {
    let found = scan
        .vgs
        .iter()
        .any(|vg| vg.vg.name == "vg0" && vg.vg.lvs.iter().any(|l| l.name == "root"));
    (found, scan.warnings.clone())
}

#[test]
fn lvm2_puts_the_second_metadata_area_at_the_end_needs_root_and_loop() {
    let pv = two_mda_pv();
    let [(first, _), (second, size)] = pv.mdas;
    assert_eq!((first, second + size), (4096, 8 << 20), "{:?}", pv.mdas);
    // Nothing damaged: vg0, no warning.
    let src = Arc::new(MemSource::new(NAME, pv.bytes.clone()));
    assert_eq!(outcome(&scan_of(src)), (true, vec![]));
}

#[test]
fn an_unreadable_metadata_area_costs_only_its_copy_needs_root_and_loop() {
    let pv = two_mda_pv();
    let [(m1, s1), (m2, s2)] = pv.mdas;
    let t1 = pv.text1;
    // (what, bad byte ranges, vg0 found, words each warning must hold; no words: no
    // warning). Near misses: bad sectors just outside the areas change nothing.
    type Case<'a> = (&'a str, Vec<std::ops::Range<u64>>, bool, Vec<Vec<String>>);
    let failed_1_used_2 = |at: u64| {
        vec![vec![
            format!("{NAME} at offset {at}"),
            "os error 5".into(),
            format!("metadata area at offset {m2}"),
            "vgck --updatemetadata vg0".into(),
            "never writes".into(),
        ]]
    };
    let cases: Vec<Case> = vec![
        (
            "first header",
            vec![m1..m1 + 512],
            true,
            failed_1_used_2(m1),
        ),
        (
            "first area, all of it",
            vec![m1..m1 + s1],
            true,
            failed_1_used_2(m1),
        ),
        (
            "first area's text only",
            vec![m1 + 512..m1 + s1],
            true,
            failed_1_used_2(t1),
        ),
        (
            "second area",
            vec![m2..m2 + s2],
            true,
            vec![vec![
                format!("{NAME} at offset {m2}"),
                "os error 5".into(),
                format!("metadata area at offset {m1}"),
            ]],
        ),
        (
            "both areas",
            vec![m1..m1 + s1, m2..m2 + s2],
            false,
            vec![
                vec![format!("at offset {m1}"), "no other metadata area".into()],
                vec![format!("at offset {m2}"), "no other metadata area".into()],
            ],
        ),
        // The label's sector is also where a GPT's primary header would be: the first
        // read of the device fails there, and with the only label the PV is lost.
        (
            "the label",
            vec![512..1024],
            false,
            vec![vec![format!("{NAME} at offset 512"), "os error 5".into()]],
        ),
        ("near miss: before the first", vec![2048..m1], true, vec![]),
        ("near miss: the data area", vec![pv.data..m2], true, vec![]),
        (
            "near miss: the first ring before its text",
            vec![m1 + 512..t1],
            true,
            vec![],
        ),
    ];
    for (what, bad, found, words) in cases {
        let src = FailingSource {
            inner: MemSource::new(NAME, pv.bytes.clone()),
            bad,
        };
        let (got, warnings) = outcome(&scan_of(Arc::new(src)));
        assert_eq!(got, found, "{what}: {warnings:?}");
        assert_eq!(warnings.len(), words.len(), "{what}: {warnings:?}");
        for (warning, words) in warnings.iter().zip(&words) {
            for w in words {
                assert!(
                    warning.contains(w.as_str()),
                    "{what}: {w:?} not in {warning}"
                );
            }
        }
    }
}

#[test]
fn a_bad_checksum_in_the_first_area_uses_the_second_needs_root_and_loop() {
    let pv = two_mda_pv();
    let [(m1, _), (m2, _)] = pv.mdas;
    // (what, byte flipped), as damaged-mda1 does on a whole disk.
    for (what, at) in [("header", m1), ("text", pv.text1 + 10)] {
        let mut bytes = pv.bytes.clone();
        bytes[at as usize] ^= 0xff;
        let (found, warnings) = outcome(&scan_of(Arc::new(MemSource::new(NAME, bytes))));
        assert!(found, "{what}: {warnings:?}");
        assert_eq!(warnings.len(), 1, "{what}: {warnings:?}");
        let w = &warnings[0];
        assert!(
            w.contains("checksum") && w.contains(&format!("metadata area at offset {m2}")),
            "{what}: {w}"
        );
    }
}
