//! Tests of `label.rs`.
//! Test code only: its module is declared under #[cfg(test)].

use super::*;
use crate::disk::source::MemSource;

const UUID: &str = "vGbw0fSBQk49gGSkVXmNn1zZXhz4ubrg";

/// A good label sector for `sector`, with the given areas; `edit` may spoil it before
/// the checksum is computed.
fn label_sector(
    sector: u64,
    data: &[(u64, u64)],
    metadata: &[(u64, u64)],
    edit: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(LABEL_ID);
    s.extend_from_slice(&sector.to_le_bytes());
    s.extend_from_slice(&[0; 4]);
    s.extend_from_slice(&32u32.to_le_bytes());
    s.extend_from_slice(LABEL_TYPE);
    s.extend_from_slice(UUID.as_bytes());
    s.extend_from_slice(&(8u64 << 20).to_le_bytes());
    for list in [data, metadata] {
        for &(offset, size) in list.iter().chain(&[(0, 0)]) {
            s.extend_from_slice(&offset.to_le_bytes());
            s.extend_from_slice(&size.to_le_bytes());
        }
    }
    s.resize(512, 0);
    edit(&mut s);
    s.truncate(512);
    let crc = calc_crc(INITIAL_CRC, &s[20..]);
    s[16..20].copy_from_slice(&crc.to_le_bytes());
    s
}

fn disk(sectors: &[(u64, Vec<u8>)], len: usize) -> MemSource {
    let mut bytes = vec![0u8; len];
    for (n, s) in sectors {
        let at = *n as usize * 512;
        bytes[at..at + 512].copy_from_slice(s);
    }
    MemSource::new("/dev/test", bytes)
}

fn good(sector: u64) -> Vec<u8> {
    label_sector(sector, &[(1 << 20, 0)], &[(4096, 1 << 20)], |_| {})
}

#[test]
fn finds_the_label_in_any_of_the_first_four_sectors() {
    for sector in 0..4 {
        let label = read_label(&disk(&[(sector, good(sector))], 8192))
            .unwrap()
            .unwrap();
        assert_eq!(label.sector, sector);
        assert_eq!(label.pv_uuid.plain(), UUID);
        assert_eq!(label.device_size, Bytes(8 << 20));
        let area = |offset, size| DiskArea {
            offset: Bytes(offset),
            size: Bytes(size),
        };
        assert_eq!(label.data_areas, vec![area(1 << 20, 0)]);
        assert_eq!(label.metadata_areas, vec![area(4096, 1 << 20)]);
    }
}

#[test]
fn not_a_pv() {
    for (what, src) in [
        ("zeros", disk(&[], 8192)),
        ("label in sector 4", disk(&[(4, good(4))], 8192)),
        (
            "shorter than a sector",
            MemSource::new("/dev/test", vec![0; 511]),
        ),
        ("empty", MemSource::new("/dev/test", vec![])),
    ] {
        assert_eq!(read_label(&src), Ok(None), "{what}");
    }
    let mut lower = good(1);
    lower[..8].copy_from_slice(b"labelone");
    assert_eq!(read_label(&disk(&[(1, lower)], 4096)), Ok(None));
}

#[test]
fn a_short_device_is_searched_as_far_as_it_goes() {
    let label = read_label(&disk(&[(1, good(1))], 1024)).unwrap().unwrap();
    assert_eq!(label.sector, 1);
    let mut bytes = vec![0u8; 1000];
    bytes[512..1000].copy_from_slice(&good(1)[..488]);
    let src = MemSource::new("/dev/test", bytes);
    assert_eq!(read_label(&src), Ok(None), "sector 1 is not whole");
}

fn problem(sector: u64, s: Vec<u8>) -> (u64, LabelProblem) {
    let e = read_label(&disk(&[(sector, s)], 4096)).unwrap_err();
    assert_eq!(e.device, "/dev/test");
    (e.offset, e.problem)
}

#[test]
fn near_misses_are_errors() {
    let mut bad_crc = good(1);
    bad_crc[100] ^= 1;
    assert!(matches!(
        problem(1, bad_crc),
        (528, LabelProblem::Checksum { .. })
    ));

    assert_eq!(
        problem(2, good(1)),
        (
            1032,
            LabelProblem::SectorMismatch {
                recorded: 1,
                found: 2
            }
        )
    );
    let lvm1 = label_sector(1, &[], &[], |s| s[24..32].copy_from_slice(b"LVM1 001"));
    assert_eq!(problem(1, lvm1), (536, LabelProblem::Type(*b"LVM1 001")));
    for offset in [0u32, 31, 473, u32::MAX] {
        let s = label_sector(1, &[], &[], |s| {
            s[20..24].copy_from_slice(&offset.to_le_bytes())
        });
        assert_eq!(
            problem(1, s),
            (532, LabelProblem::HeaderOffset(offset)),
            "{offset}"
        );
    }
    let s = label_sector(1, &[], &[], |s| s[32] = b'$');
    assert!(matches!(problem(1, s), (544, LabelProblem::BadUuid(_))));
    let s = label_sector(1, &[], &[], |s| s[32] = 0xff);
    assert!(matches!(problem(1, s), (544, LabelProblem::BadUuid(_))));
}

#[test]
fn area_lists_are_bounded() {
    let eight: Vec<(u64, u64)> = (1..=8).map(|n| (n << 20, 4096)).collect();
    let label = read_label(&disk(&[(1, label_sector(1, &eight, &eight, |_| {}))], 4096))
        .unwrap()
        .unwrap();
    assert_eq!((label.data_areas.len(), label.metadata_areas.len()), (8, 8));

    let nine: Vec<(u64, u64)> = (1..=9).map(|n| (n << 20, 4096)).collect();
    let s = label_sector(1, &nine, &[], |_| {});
    assert_eq!(
        problem(1, s),
        (584, LabelProblem::TooManyAreas { list: "data" })
    );
    let s = label_sector(1, &[], &nine, |_| {});
    assert_eq!(
        problem(1, s),
        (600, LabelProblem::TooManyAreas { list: "metadata" })
    );

    // A pv_header placed near the end of the sector: no room for the terminator.
    let s = label_sector(1, &[], &[], |s| {
        s[20..24].copy_from_slice(&448u32.to_le_bytes());
        s[448..480].copy_from_slice(UUID.as_bytes());
        s[488..504].fill(0xaa);
    });
    let (offset, p) = problem(1, s);
    assert_eq!(
        (offset, p),
        (512 + 488, LabelProblem::AreaListRunsOff { list: "data" })
    );
}

#[test]
fn a_bad_label_does_not_hide_a_good_one_later() {
    let mut bad = good(0);
    bad[200] ^= 1;
    let label = read_label(&disk(&[(0, bad.clone()), (2, good(2))], 4096))
        .unwrap()
        .unwrap();
    assert_eq!(label.sector, 2);
    // The first good label wins, as in lvm2.
    let label = read_label(&disk(&[(1, good(1)), (2, good(2))], 4096))
        .unwrap()
        .unwrap();
    assert_eq!(label.sector, 1);
    // Two bad ones: the first is reported.
    let e = read_label(&disk(&[(0, bad), (3, good(1))], 4096)).unwrap_err();
    assert!(matches!(e.problem, LabelProblem::Checksum { .. }), "{e}");
}

#[test]
fn errors_name_device_offset_and_cause() {
    let mut bad_crc = good(1);
    bad_crc[100] ^= 1;
    let text = read_label(&disk(&[(1, bad_crc)], 4096))
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with("cannot read the LVM label on /dev/test at offset 528: checksum 0x"),
        "{text}"
    );
    assert!(text.contains("pvck"), "{text}");
}
