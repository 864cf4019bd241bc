//! Tests of `mda.rs`.
//! Test code only: its module is declared under #[cfg(test)].

use super::*;
use crate::disk::source::MemSource;

const AREA: u64 = 4096;
const SIZE: u64 = 8192;

fn area() -> DiskArea {
    DiskArea {
        offset: Bytes(AREA),
        size: Bytes(SIZE),
    }
}

/// The bytes of a device with a metadata area at 4096 of 8192 bytes holding `text`
/// (NUL added) at `offset` into the area, wrapping if need be; `edit` may change the
/// device before the header checksum is set.
fn image(text: &[u8], offset: u64, flags: u32, edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut bytes = vec![0u8; (AREA + SIZE + 4096) as usize];
    let mut with_nul = text.to_vec();
    with_nul.push(0);
    let ring = (SIZE - MDA_HEADER_SIZE) as usize;
    for (i, &b) in with_nul.iter().enumerate() {
        let pos = (offset as usize - 512 + i) % ring + 512;
        bytes[AREA as usize + pos] = b;
    }
    let h = AREA as usize;
    bytes[h + 4..h + 20].copy_from_slice(MAGIC);
    bytes[h + 20..h + 24].copy_from_slice(&VERSION.to_le_bytes());
    bytes[h + 24..h + 32].copy_from_slice(&AREA.to_le_bytes());
    bytes[h + 32..h + 40].copy_from_slice(&SIZE.to_le_bytes());
    let slot = h + SLOT0;
    bytes[slot..slot + 8].copy_from_slice(&offset.to_le_bytes());
    bytes[slot + 8..slot + 16].copy_from_slice(&(with_nul.len() as u64).to_le_bytes());
    let crc = calc_crc(INITIAL_CRC, &with_nul);
    bytes[slot + 16..slot + 20].copy_from_slice(&crc.to_le_bytes());
    bytes[slot + 20..slot + 24].copy_from_slice(&flags.to_le_bytes());
    edit(&mut bytes);
    let crc = calc_crc(INITIAL_CRC, &bytes[h + 4..h + 512]);
    bytes[h..h + 4].copy_from_slice(&crc.to_le_bytes());
    bytes
}

fn device(text: &[u8], offset: u64, flags: u32, edit: impl FnOnce(&mut [u8])) -> MemSource {
    MemSource::new("/dev/test", image(text, offset, flags, edit))
}

/// Sets the u64 at `at` in the header.
fn set64(at: usize, v: u64) -> impl FnOnce(&mut [u8]) {
    move |b| b[AREA as usize + at..AREA as usize + at + 8].copy_from_slice(&v.to_le_bytes())
}

const TEXT: &[u8] = b"vg0 {\nid = \"x\"\n}\ncontents = \"Text Format Volume Group\"\n";

#[test]
fn reads_the_committed_text() {
    let got = read_metadata_area(&device(TEXT, 512, 0, |_| {}), &area())
        .unwrap()
        .unwrap();
    assert_eq!(got.text, TEXT);
    assert_eq!(got.area_offset, Bytes(AREA));
    assert_eq!(got.text_offset, Bytes(AREA + 512));
    let mut with_nul = TEXT.to_vec();
    with_nul.push(0);
    assert_eq!(got.checksum, calc_crc(INITIAL_CRC, &with_nul));
}

#[test]
fn reads_text_that_wraps_around_the_ring() {
    // Ends exactly at the end of the area: no wrap.
    let at_end = SIZE - TEXT.len() as u64 - 1;
    let got = read_metadata_area(&device(TEXT, at_end, 0, |_| {}), &area()).unwrap();
    assert_eq!(got.unwrap().text, TEXT);
    for before_end in [1, 10, TEXT.len() as u64] {
        let src = device(TEXT, SIZE - before_end, 0, |_| {});
        let got = read_metadata_area(&src, &area()).unwrap().unwrap();
        assert_eq!(got.text, TEXT, "{before_end}");
        assert_eq!(got.text_offset, Bytes(AREA + SIZE - before_end));
    }
}

#[test]
fn empty_or_ignored_slots_hold_nothing() {
    let empty = device(TEXT, 512, 0, |b| b[4096 + 40..4096 + 64].fill(0));
    assert_eq!(read_metadata_area(&empty, &area()), Ok(None));
    let ignored = device(TEXT, 512, RAW_LOCN_IGNORED, |_| {});
    assert_eq!(read_metadata_area(&ignored, &area()), Ok(None));
    let other_flag = device(TEXT, 512, 2, |_| {});
    assert!(read_metadata_area(&other_flag, &area()).unwrap().is_some());
}

fn problem(src: &MemSource, area: &DiskArea) -> (u64, MdaProblem) {
    let e = read_metadata_area(src, area).unwrap_err();
    assert_eq!(e.device, "/dev/test");
    (e.offset, e.problem)
}

#[test]
fn near_misses_are_errors() {
    let h = AREA as usize;
    let cases: Vec<(&str, MemSource, u64, MdaProblem)> = vec![
        (
            "wrong magic",
            device(TEXT, 512, 0, |b| b[h + 4] = b'X'),
            AREA + 4,
            MdaProblem::Magic(*b"XLVM2 x[5A%r0N*>"),
        ),
        (
            "version 2",
            device(TEXT, 512, 0, |b| b[h + 20] = 2),
            AREA + 20,
            MdaProblem::Version(2),
        ),
        (
            "start elsewhere",
            device(TEXT, 512, 0, set64(24, 8192)),
            AREA + 24,
            MdaProblem::Start { recorded: 8192 },
        ),
        (
            "area larger than the label says",
            device(TEXT, 512, 0, set64(32, SIZE + 512)),
            AREA + 32,
            MdaProblem::AreaSize {
                recorded: SIZE + 512,
                label: SIZE,
            },
        ),
        (
            "area no larger than its header",
            device(TEXT, 512, 0, set64(32, 512)),
            AREA + 32,
            MdaProblem::AreaSize {
                recorded: 512,
                label: SIZE,
            },
        ),
        (
            "text inside the header",
            device(TEXT, 512, 0, set64(40, 100)),
            AREA + 40,
            MdaProblem::TextOffset {
                offset: 100,
                area_size: SIZE,
            },
        ),
        (
            "text past the area",
            device(TEXT, 512, 0, set64(40, SIZE)),
            AREA + 40,
            MdaProblem::TextOffset {
                offset: SIZE,
                area_size: SIZE,
            },
        ),
        (
            "empty text",
            device(TEXT, 512, 0, set64(48, 0)),
            AREA + 48,
            MdaProblem::TextSize {
                size: 0,
                limit: SIZE - 512,
            },
        ),
        (
            "text larger than the ring",
            device(TEXT, 512, 0, set64(48, SIZE - 511)),
            AREA + 48,
            MdaProblem::TextSize {
                size: SIZE - 511,
                limit: SIZE - 512,
            },
        ),
        (
            "text size near u64::MAX",
            device(TEXT, 512, 0, set64(48, u64::MAX)),
            AREA + 48,
            MdaProblem::TextSize {
                size: u64::MAX,
                limit: SIZE - 512,
            },
        ),
    ];
    for (what, src, offset, want) in cases {
        assert_eq!(problem(&src, &area()), (offset, want), "{what}");
    }
}

#[test]
fn checksums_are_checked() {
    let mut bytes = image(TEXT, 512, 0, |_| {});
    bytes[AREA as usize + 100] ^= 1;
    let (offset, p) = problem(&MemSource::new("/dev/test", bytes), &area());
    assert_eq!(offset, AREA);
    assert!(matches!(p, MdaProblem::HeaderChecksum { .. }), "{p:?}");

    // A text checksum that does not match, in the plain and the wrapped case.
    let slot_checksum = AREA as usize + SLOT0 + 16;
    for at in [512, SIZE - 10] {
        let src = device(TEXT, at, 0, |b| b[slot_checksum] ^= 1);
        let (offset, p) = problem(&src, &area());
        assert_eq!(offset, AREA + at);
        assert!(matches!(p, MdaProblem::TextChecksum { .. }), "{p:?}");
    }
}

#[test]
fn a_truncated_device_is_a_read_error() {
    let bytes = image(TEXT, 512, 0, |_| {});
    for (len, offset) in [(4096 + 100, AREA), (4096 + 520, AREA + 512)] {
        let src = MemSource::new("/dev/test", bytes[..len].to_vec());
        let (at, p) = problem(&src, &area());
        assert_eq!(at, offset, "{len}");
        assert!(
            matches!(&p, MdaProblem::Read(c) if c.contains("beyond the end")),
            "{p:?}"
        );
    }
    let src = MemSource::new("/dev/test", bytes[..4200].to_vec());
    let e = read_metadata_area(&src, &area()).unwrap_err().to_string();
    assert!(
        e.starts_with("cannot read the LVM metadata area on /dev/test at offset 4096: "),
        "{e}"
    );
}

#[test]
fn the_cap_applies_to_large_areas() {
    let big = DiskArea {
        offset: Bytes(AREA),
        size: Bytes(1 << 40),
    };
    let src = device(TEXT, 512, 0, |b| {
        set64(32, 1 << 40)(b);
        set64(48, MAX_METADATA_TEXT + 1)(b);
    });
    assert_eq!(
        problem(&src, &big),
        (
            AREA + 48,
            MdaProblem::TextSize {
                size: MAX_METADATA_TEXT + 1,
                limit: MAX_METADATA_TEXT
            }
        )
    );
}

#[test]
fn a_text_the_same_as_one_checked_is_taken_and_a_different_one_still_checksummed() {
    let good = device(TEXT, 512, 0, |_| {});
    let checked = read_metadata_area(&good, &area()).unwrap().unwrap();
    let again = read_metadata_area_after(&good, &area(), std::slice::from_ref(&checked))
        .unwrap()
        .unwrap();
    assert_eq!(again, checked);
    // One byte of the text changed after the header was written: same stored checksum
    // and size, other bytes, so the CRC runs and refuses it.
    let bad = device(TEXT, 512, 0, |b| b[(AREA + 512 + 2) as usize] = b'X');
    let e = read_metadata_area_after(&bad, &area(), std::slice::from_ref(&checked)).unwrap_err();
    assert!(matches!(e.problem, MdaProblem::TextChecksum { .. }), "{e}");
}

#[test]
fn same_bytes_compares_every_byte() {
    let a: Vec<u8> = (0..100u8).collect();
    assert!(same_bytes(&a, &a.clone()));
    for i in [0, 15, 16, 31, 95, 96, 99] {
        let mut b = a.clone();
        b[i] ^= 1;
        assert!(!same_bytes(&a, &b), "byte {i}");
    }
    assert!(!same_bytes(&a, &a[..99]));
    assert!(same_bytes(&[], &[]));
}
