//! Label, metadata area and volume group read from PVs that lvm2 2.03.16 made, checked
//! against lvm2's own reports. `testdata/make.sh` remakes the images; the constants below
//! come from the `*.json` reports it writes next to them (see `testdata/README.md`).
//! Each `*.head` file is a PV's first `pe_start` bytes: label and metadata area.
//! Test code only: its module is declared under #[cfg(test)].

use crate::disk::source::MemSource;
use crate::lvm::label::{read_label, DiskArea, LabelProblem, PvLabel};
use crate::lvm::mda::{read_metadata_area, MdaProblem, MetadataText};
use crate::lvm::metadata::{volume_group, SegmentKind, VolumeGroup};
use crate::units::{Bytes, Sectors};

const TWO_LVS: &[u8] = include_bytes!("testdata/two_lvs.head");
const STRIPED_A: &[u8] = include_bytes!("testdata/striped_a.head");
const STRIPED_B: &[u8] = include_bytes!("testdata/striped_b.head");
const WRAPPED: &[u8] = include_bytes!("testdata/wrapped.head");

/// What every fixture PV has (pvs: dev_size 16384S, pe_start 256S, pv_mda_size 248S,
/// pv_pe_count 7; vgs: vg_extent_size 2048S).
const DEV_SIZE: u64 = 16384;
const PE_START: u64 = 256;
const MDA_SIZE: u64 = 248;
const PE_COUNT: u64 = 7;
const EXTENT_SIZE: u64 = 2048;

/// lvm2's report of one LV segment: start, size (extents), segtype, stripe size
/// (sectors), devices as (PV UUID, extent).
type SegmentReport = (u64, u64, &'static str, u64, &'static [(&'static str, u64)]);

/// Reads one fixture as the boot does: label, first metadata area, volume group.
fn read(name: &str, bytes: &[u8]) -> (PvLabel, MetadataText, VolumeGroup) {
    let src = MemSource::new(name, bytes.to_vec());
    let label = read_label(&src).unwrap().expect("a PV label");
    assert_eq!(label.metadata_areas.len(), 1, "{name}");
    let text = read_metadata_area(&src, &label.metadata_areas[0])
        .unwrap()
        .expect("committed metadata");
    let vg = volume_group(&text.text).unwrap_or_else(|e| panic!("{name}: {e}"));
    (label, text, vg)
}

fn check_label(label: &PvLabel, sector: u64, uuid: &str) {
    assert_eq!(label.sector, sector);
    assert_eq!(label.pv_uuid.to_string(), uuid);
    assert_eq!(label.device_size, Bytes(DEV_SIZE * 512));
    let area = |offset, size| DiskArea {
        offset: Bytes(offset),
        size: Bytes(size),
    };
    assert_eq!(label.data_areas, vec![area(PE_START * 512, 0)]);
    assert_eq!(label.metadata_areas, vec![area(4096, MDA_SIZE * 512)]);
}

fn check_vg(vg: &VolumeGroup, name: &str, id: &str, seqno: u64, pvs: &[&str]) {
    assert_eq!((vg.name.as_str(), vg.id.to_string().as_str()), (name, id));
    assert_eq!((vg.seqno, vg.extent_size), (seqno, Sectors(EXTENT_SIZE)));
    let ids: Vec<String> = vg.pvs.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(ids, pvs);
    for pv in &vg.pvs {
        assert_eq!(
            (pv.dev_size, pv.pe_start, pv.pe_count, pv.missing),
            (Sectors(DEV_SIZE), Sectors(PE_START), PE_COUNT, false)
        );
    }
}

/// Compares one LV with lvm2's report of its segments.
fn check_lv(vg: &VolumeGroup, name: &str, id: &str, report: &[SegmentReport]) {
    let lv = vg.lvs.iter().find(|lv| lv.name == name).expect(name);
    assert_eq!(lv.id.to_string(), id, "{name}");
    assert!(lv.visible, "{name}");
    assert_eq!(lv.segments.len(), report.len(), "{name}");
    for (seg, &(start, size, segtype, stripe_size, devices)) in lv.segments.iter().zip(report) {
        assert_eq!(
            (seg.start_extent, seg.extent_count),
            (start, size),
            "{name}"
        );
        match &seg.kind {
            SegmentKind::Striped {
                stripe_size: got_size,
                stripes,
            } => {
                // lvs calls a one-stripe striped segment "linear".
                let want = if devices.len() == 1 {
                    "linear"
                } else {
                    "striped"
                };
                assert_eq!(segtype, want, "{name}");
                assert_eq!(*got_size, Sectors(stripe_size), "{name}");
                let got: Vec<(String, u64)> = stripes
                    .iter()
                    .map(|s| (vg.pvs[s.pv].id.to_string(), s.start_extent))
                    .collect();
                let want: Vec<(String, u64)> = devices
                    .iter()
                    .map(|&(id, pe)| (id.to_string(), pe))
                    .collect();
                assert_eq!(got, want, "{name}");
            }
            SegmentKind::Unsupported { type_name } => {
                assert_eq!(type_name, segtype, "{name}");
                assert!(devices.is_empty(), "{name}");
            }
        }
    }
}

// two_lvs.json
const VG0: &str = "kfGIbh-8FjV-UiCB-OYFH-GQ9w-dVg1-5Z27O8";
const VG0_PV: &str = "k8tReK-4Xfs-8Vay-I7od-nGpH-RXfx-SICDkD";

#[test]
fn two_lvs_one_in_two_segments() {
    let (label, text, vg) = read("two_lvs.head", TWO_LVS);
    check_label(&label, 1, VG0_PV);
    assert_eq!(text.area_offset, Bytes(4096));
    check_vg(&vg, "vg0", VG0, 4, &[VG0_PV]);
    assert_eq!(vg.lvs.len(), 2);
    check_lv(
        &vg,
        "root",
        "8lLQr7-PPht-U03Y-0l0P-xMLO-S7j7-0fCV3t",
        &[
            (0, 2, "linear", 0, &[(VG0_PV, 0)]),
            (2, 1, "linear", 0, &[(VG0_PV, 3)]),
        ],
    );
    check_lv(
        &vg,
        "data",
        "IbhkfU-5Eqi-V0SY-c5yB-aUsu-9U37-2ij6Mx",
        &[(0, 1, "linear", 0, &[(VG0_PV, 2)])],
    );
}

// striped.json
const VG1: &str = "8Tl5tL-gDDj-6BBA-d71H-aIqX-19qs-gzB2z4";
const VG1_PV_A: &str = "Brz2SI-fbxc-hUrX-GPF4-crZ1-ZvtI-B8fNEa";
const VG1_PV_B: &str = "AiD8jb-rA40-fzlL-vd0n-lE3k-2jH0-5HTd83";

#[test]
fn striped_over_two_pvs_one_labelled_in_sector_2() {
    let (label_a, text_a, vg) = read("striped_a.head", STRIPED_A);
    let (label_b, text_b, vg_b) = read("striped_b.head", STRIPED_B);
    check_label(&label_a, 1, VG1_PV_A);
    check_label(&label_b, 2, VG1_PV_B);
    // Both PVs hold the same text.
    assert_eq!(
        (text_a.checksum, &text_a.text),
        (text_b.checksum, &text_b.text)
    );
    assert_eq!(vg, vg_b);
    check_vg(&vg, "vg1", VG1, 4, &[VG1_PV_A, VG1_PV_B]);
    assert_eq!(vg.lvs.len(), 3);
    check_lv(
        &vg,
        "stripes",
        "sAqdvY-3LBp-wsNQ-q33l-oOyR-P5Ba-TYbfnv",
        &[(0, 4, "striped", 128, &[(VG1_PV_A, 0), (VG1_PV_B, 0)])],
    );
    check_lv(
        &vg,
        "linear",
        "mvDVVt-RkZq-SoHq-wG6N-VWix-fJMr-5uRImq",
        &[(0, 1, "linear", 0, &[(VG1_PV_B, 2)])],
    );
    check_lv(
        &vg,
        "broken",
        "tNxgTh-0QYL-9Iuc-Cnjh-g4Yh-1wVR-mIS2TZ",
        &[(0, 2, "error", 0, &[])],
    );
}

// wrapped.json
const VG2: &str = "3B51kV-7tD1-dlsq-Mytg-5oZF-amPg-Vn7Lin";
const VG2_PV: &str = "NvWQhd-DsQ4-FS3v-HkSp-nn6M-K8WD-MCTb4g";

#[test]
fn metadata_that_wraps_around_the_ring_buffer() {
    let (label, text, vg) = read("wrapped.head", WRAPPED);
    check_label(&label, 1, VG2_PV);
    // The committed copy runs past the end of the area (its size counts the NUL).
    let area_end = 4096 + MDA_SIZE * 512;
    assert!(text.text_offset.0 + text.text.len() as u64 + 1 > area_end);
    assert!(text.text_offset.0 < area_end);
    check_vg(&vg, "vg2", VG2, 742, &[VG2_PV]);
    assert_eq!(vg.lvs.len(), 1);
    check_lv(
        &vg,
        "keep",
        "avwFF5-AuLA-ihC0-foga-Cqvn-LVcJ-TH65sZ",
        &[(0, 1, "linear", 0, &[(VG2_PV, 0)])],
    );
}

#[test]
fn damaged_real_images_are_refused() {
    let (label, text, _) = read("two_lvs.head", TWO_LVS);
    let area = label.metadata_areas[0];

    // A device cut short inside the text.
    let cut = text.text_offset.0 as usize + 100;
    let src = MemSource::new("/dev/short", TWO_LVS[..cut].to_vec());
    let e = read_metadata_area(&src, &area).unwrap_err();
    assert_eq!(
        (e.device.as_str(), e.offset),
        ("/dev/short", text.text_offset.0)
    );
    assert!(matches!(e.problem, MdaProblem::Read(_)), "{e}");

    // One byte of the text changed.
    let mut bytes = TWO_LVS.to_vec();
    bytes[text.text_offset.0 as usize + 10] ^= 0x20;
    let e = read_metadata_area(&MemSource::new("/dev/x", bytes), &area).unwrap_err();
    assert!(matches!(e.problem, MdaProblem::TextChecksum { .. }), "{e}");

    // One byte of the label changed.
    let mut bytes = TWO_LVS.to_vec();
    bytes[512 + 100] ^= 1;
    let e = read_label(&MemSource::new("/dev/x", bytes)).unwrap_err();
    assert_eq!(e.offset, 512 + 16);
    assert!(matches!(e.problem, LabelProblem::Checksum { .. }), "{e}");

    // The image moved by one sector: the label is in the wrong place.
    let mut bytes = vec![0u8; 512];
    bytes.extend_from_slice(TWO_LVS);
    let e = read_label(&MemSource::new("/dev/x", bytes)).unwrap_err();
    assert_eq!(
        e.problem,
        LabelProblem::SectorMismatch {
            recorded: 1,
            found: 2
        }
    );
}
