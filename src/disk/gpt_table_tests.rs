//! GPT reader tests on images made by sgdisk, and on sgdisk images damaged on purpose.
//! Test code only: its module is declared under #[cfg(test)].

use super::*;
use crate::disk::dps;
use crate::disk::source::{FailingSource, FileSource, MemSource};
use crate::verity::fixture::{field, run, LoopDevice, TempDir};

const ROOT: &str = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";
const VERITY: &str = "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5";

/// sgdisk commands for three partitions: root (read-only), root-verity, LVM (no-auto).
fn sgdisk_args(dev: &str) -> Vec<String> {
    [
        "-o",
        &format!("-n 1:0:+2M -t 1:{ROOT} -c 1:root -A 1:set:60"),
        &format!("-n 2:0:+1M -t 2:{VERITY} -c 2:root-verity"),
        "-n 3:0:0 -t 3:8e00 -c 3:pv -A 3:set:63",
        dev,
    ]
    .iter()
    .flat_map(|a| a.split(' '))
    .map(String::from)
    .collect()
}

fn sgdisk(dev: &str) {
    let args = sgdisk_args(dev);
    run(
        "sgdisk",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

/// Checks what we read against `sgdisk -p` and `sgdisk -i N` on the same device.
fn assert_matches_sgdisk(disk: &GptDisk, dev: &str) {
    let listing = run("sgdisk", &["-p", dev]);
    let disk_guid = Guid::parse(field(&listing, "Disk identifier (GUID):")).unwrap();
    assert_eq!(disk.disk_guid, disk_guid);
    assert_eq!(disk.partitions.len(), 3);
    for p in &disk.partitions {
        let info = run("sgdisk", &["-i", &p.number.to_string(), dev]);
        let first_word = |key| field(&info, key).split(' ').next().unwrap().to_string();
        assert_eq!(
            p.type_guid,
            Guid::parse(&first_word("Partition GUID code:")).unwrap()
        );
        assert_eq!(
            p.part_guid,
            Guid::parse(field(&info, "Partition unique GUID:")).unwrap()
        );
        assert_eq!(p.first_lba.to_string(), first_word("First sector:"));
        assert_eq!(p.last_lba.to_string(), first_word("Last sector:"));
        let attrs = u64::from_str_radix(field(&info, "Attribute flags:"), 16).unwrap();
        assert_eq!(p.attributes, attrs);
        assert_eq!(format!("'{}'", p.name), field(&info, "Partition name:"));
        assert_eq!(p.start.0, p.first_lba * u64::from(disk.sector_size));
    }
    let [root, verity, pv] = &disk.partitions[..] else {
        unreachable!()
    };
    assert_eq!(
        dps::role_of(&root.type_guid, dps::Arch::X86_64),
        Some(dps::DpsRole::Root)
    );
    assert_eq!(
        dps::role_of(&verity.type_guid, dps::Arch::X86_64),
        Some(dps::DpsRole::RootVerity)
    );
    assert_eq!(pv.type_guid, dps::LINUX_LVM);
    assert!(dps::is_read_only(root.attributes) && dps::is_no_auto(pv.attributes));
    assert_eq!(root.size.0, 2 << 20);
}

/// A 16 MiB sgdisk image with 512-byte sectors, in memory.
fn image_512(dir: &TempDir) -> Vec<u8> {
    let path = dir.file("disk.img");
    std::fs::write(&path, vec![0u8; 16 << 20]).unwrap();
    sgdisk(&path);
    std::fs::read(&path).unwrap()
}

fn mem(bytes: &[u8]) -> MemSource {
    MemSource::new("disk.img", bytes.to_vec())
}

/// Edits the header at byte `at`, then makes its CRC right again.
fn patch_header(img: &mut [u8], at: usize, edit: impl Fn(&mut [u8])) {
    let h = &mut img[at..at + 512];
    edit(h);
    h[16..20].fill(0);
    let crc = crc32(&h[..92]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn reads_sgdisk_512_byte_sector_images() {
    let dir = TempDir::new("gpt512");
    let img = image_512(&dir);
    let disk = read_gpt(&mem(&img), None).unwrap().unwrap();
    assert_eq!((disk.sector_size, &disk.used_backup), (512, &None));
    assert_matches_sgdisk(&disk, &dir.file("disk.img"));
    assert_eq!(read_gpt(&mem(&img), Some(512)).unwrap(), Some(disk));
    // Near misses: the wrong sector size, an unsupported one, no GPT, too small.
    assert_eq!(read_gpt(&mem(&img), Some(4096)).unwrap(), None);
    assert!(read_gpt(&mem(&img), Some(1024))
        .unwrap_err()
        .cause
        .contains("1024"));
    assert_eq!(read_gpt(&mem(&vec![0; 1 << 20]), None).unwrap(), None);
    assert_eq!(read_gpt(&mem(&img[..1024]), None).unwrap(), None);
}

#[test]
fn reads_sgdisk_4096_byte_sector_images_needs_root_and_loop() {
    let dir = TempDir::new("gpt4k");
    let path = dir.file("disk4k.img");
    std::fs::write(&path, vec![0u8; 32 << 20]).unwrap();
    // sgdisk takes the sector size from the device: a loop device with 4 KiB sectors.
    let dev = LoopDevice::attach(&path, &["-b", "4096"]);
    assert_eq!(run("blockdev", &["--getss", &dev.0]).trim(), "4096");
    sgdisk(&dev.0);
    let src = FileSource::open(path.as_ref()).unwrap();
    let disk = read_gpt(&src, None).unwrap().unwrap();
    assert_eq!(disk.sector_size, 4096);
    assert_matches_sgdisk(&disk, &dev.0);
    drop(dev);
    assert_eq!(read_gpt(&src, Some(4096)).unwrap(), Some(disk));
    assert_eq!(read_gpt(&src, Some(512)).unwrap(), None);
}

#[test]
fn a_bad_primary_falls_back_to_the_backup() {
    let dir = TempDir::new("gptbak");
    let img = image_512(&dir);
    let good = read_gpt(&mem(&img), None).unwrap().unwrap();
    let backup_offset = img.len() as u64 - 512;
    type Damage = fn(&mut Vec<u8>);
    // (what, damage, offset of the fault in the primary, words of its cause); an I/O
    // error on the primary's sectors is `a_primary_that_fails_to_read_...` below.
    let damages: &[(&str, Damage, u64, &str)] = &[
        ("header byte", |i| i[512 + 40] ^= 1, 512, "header CRC32"),
        (
            "wiped header",
            |i| i[512..1024].fill(0),
            512,
            "missing or wiped",
        ),
        (
            "entry byte (array CRC)",
            |i| i[1024 + 60] ^= 1,
            1024,
            "entry array CRC32",
        ),
        (
            "entry size 64",
            |i| patch_header(i, 512, |h| h[84] = 64),
            512,
            "entry size 64",
        ),
        (
            "my_lba",
            |i| patch_header(i, 512, |h| h[24] = 2),
            512,
            "at LBA 2",
        ),
    ];
    for (what, damage, offset, cause) in damages {
        let mut bad = img.clone();
        damage(&mut bad);
        let got = read_gpt(&mem(&bad), None).unwrap().unwrap();
        let used = got.used_backup.clone().expect(what);
        assert_eq!(
            GptDisk {
                used_backup: None,
                ..got
            },
            good,
            "{what}"
        );
        assert_eq!(
            (used.primary_offset, used.backup_offset, used.primary.offset),
            (512, backup_offset, *offset),
            "{what}"
        );
        assert!(used.primary.cause.contains(cause), "{what}: {used:?}");
        let warning = used.warning("/dev/vda");
        for want in [
            "disk.img",
            "offset 512",
            &format!("offset {backup_offset}"),
            "sgdisk -e /dev/vda",
            "never writes",
        ] {
            assert!(warning.contains(want), "{what}: {warning}");
        }
    }
    // The near miss: the backup is read only when the primary fails, so damage to it
    // alone is not seen.
    let mut bad = img.clone();
    bad[backup_offset as usize + 40] ^= 1;
    assert_eq!(read_gpt(&mem(&bad), None).unwrap(), Some(good));
}

#[test]
#[allow(clippy::single_range_in_vec_init)] // lists of bad byte ranges
fn a_primary_that_fails_to_read_falls_back_to_the_backup() {
    let dir = TempDir::new("gpteio");
    let img = image_512(&dir);
    let good = read_gpt(&mem(&img), None).unwrap().unwrap();
    let end = img.len() as u64;
    // (bad bytes, offset of the failure, whether the backup saves it)
    let cases: &[(std::ops::Range<u64>, u64, bool)] = &[
        (512..1024, 512, true),
        (1024..1536, 1024, true),
        (0..512, 0, false), // the protective MBR is not read: no effect
        (end - 512..end, 0, false),
    ];
    for (bad, offset, saved) in cases {
        let src = FailingSource {
            inner: mem(&img),
            bad: vec![bad.clone()],
        };
        let got = read_gpt(&src, None).unwrap().unwrap();
        match (&got.used_backup, saved) {
            (Some(used), true) => {
                assert_eq!(used.primary.offset, *offset, "{bad:?}");
                assert!(used.primary.cause.contains("os error 5"), "{used:?}");
            }
            (None, false) => {}
            other => panic!("{bad:?}: {other:?}"),
        }
        assert_eq!(got.partitions, good.partitions, "{bad:?}");
    }
    // No GPT, and the last sector fails (a whole-disk PV whose second metadata area is on
    // a failing region): no GPT, not an error that would hide the device.
    let blank = vec![0u8; 1 << 20];
    let src = FailingSource {
        inner: mem(&blank),
        bad: vec![(1 << 20) - 512..1 << 20],
    };
    assert_eq!(read_gpt(&src, None).unwrap(), None);
    // Both copies unreadable: an error naming the primary and the backup.
    let src = FailingSource {
        inner: mem(&img),
        bad: vec![512..1024, end - 512..end],
    };
    let e = read_gpt(&src, None).unwrap_err();
    assert_eq!(e.offset, 512);
    assert!(
        e.cause.contains("backup") && e.cause.contains("os error 5"),
        "{e}"
    );
}

#[test]
fn both_headers_bad_is_an_error_naming_both() {
    let dir = TempDir::new("gptbad");
    let img = image_512(&dir);
    let backup = img.len() - 512;
    let cases: &[(&str, usize, usize, &str)] = &[
        ("crc", 512 + 40, backup + 40, "header CRC32"),
        ("entry size", 0, 0, "unsupported partition entry size 64"),
    ];
    for &(what, a, b, expect) in cases {
        let mut bad = img.clone();
        if a == 0 {
            patch_header(&mut bad, 512, |h| h[84] = 64);
            patch_header(&mut bad, backup, |h| h[84] = 64);
        } else {
            bad[a] ^= 1;
            bad[b] ^= 1;
        }
        let e = read_gpt(&mem(&bad), None).unwrap_err();
        assert_eq!(e.offset, 512, "{what}");
        let text = e.to_string();
        assert!(
            text.contains(expect) && text.contains("backup"),
            "{what}: {text}"
        );
        assert!(text.contains("disk.img at offset 512"), "{text}");
    }
}

#[test]
fn a_partition_outside_the_usable_area_is_refused() {
    let dir = TempDir::new("gptrange");
    let mut img = image_512(&dir);
    let last_usable = u64::from_le_bytes(img[512 + 48..512 + 56].try_into().unwrap());
    // Entry 3 (the last) ends one sector too far, in both copies, with CRCs made right.
    for header in [512, img.len() - 512] {
        let entries =
            u64::from_le_bytes(img[header + 72..header + 80].try_into().unwrap()) as usize * 512;
        let e3 = entries + 2 * 128;
        img[e3 + 40..e3 + 48].copy_from_slice(&(last_usable + 1).to_le_bytes());
        let crc = crc32(&img[entries..entries + 128 * 128]);
        patch_header(&mut img, header, |h| {
            h[88..92].copy_from_slice(&crc.to_le_bytes())
        });
    }
    let e = read_gpt(&mem(&img), None).unwrap_err();
    assert!(
        e.cause.contains("partition 3 spans") && e.cause.contains("backup"),
        "{e}"
    );
    assert_eq!(e.offset, 1024 + 256);
}

#[test]
fn header_near_misses() {
    let dir = TempDir::new("gpthdr");
    let img = image_512(&dir);
    let sectors = img.len() as u64 / 512;
    let header = img[512..1024].to_vec();
    assert!(parse_header(&header, 1, sectors).unwrap().is_some());
    type Edit = fn(&mut [u8]);
    let cases: &[(&str, Edit, &str)] = &[
        ("size 91", |h| h[12] = 91, "header size 91"),
        (
            "size 513",
            |h| h[12..16].copy_from_slice(&513u32.to_le_bytes()),
            "header size 513",
        ),
        (
            "entry size 256",
            |h| h[84..88].copy_from_slice(&256u32.to_le_bytes()),
            "entry size 256",
        ),
        ("entry size 0", |h| h[84..88].fill(0), "entry size 0"),
        (
            "count",
            |h| h[80..84].copy_from_slice(&4097u32.to_le_bytes()),
            "4097 partition entries",
        ),
        (
            "usable past end",
            |h| h[48..56].copy_from_slice(&32768u64.to_le_bytes()),
            "usable LBAs",
        ),
        (
            "usable reversed",
            |h| h[40..48].copy_from_slice(&40000u64.to_le_bytes()),
            "usable LBAs",
        ),
        (
            "usable has header",
            |h| h[40..48].copy_from_slice(&1u64.to_le_bytes()),
            "usable LBAs",
        ),
        (
            "array in usable",
            |h| h[72..80].copy_from_slice(&40u64.to_le_bytes()),
            "overlaps",
        ),
        (
            "array past end",
            |h| h[72..80].copy_from_slice(&32760u64.to_le_bytes()),
            "ends past",
        ),
        (
            "array on header",
            |h| h[72..80].copy_from_slice(&1u64.to_le_bytes()),
            "overlaps",
        ),
    ];
    for (what, edit, expect) in cases {
        let mut h = vec![0u8; 1024];
        h[512..].copy_from_slice(&header);
        patch_header(&mut h, 512, edit);
        let e = parse_header(&h[512..], 1, sectors).unwrap_err();
        assert!(e.contains(expect), "{what}: {e}");
    }
    let mut h = header.clone();
    h[20] = 1; // reserved is covered by the CRC
    assert!(parse_header(&h, 1, sectors).unwrap_err().contains("CRC32"));
    assert!(parse_header(&header, 2, sectors)
        .unwrap_err()
        .contains("LBA 1"));
    let mut h = header;
    h[0] = b'e';
    assert!(parse_header(&h, 1, sectors).unwrap().is_none());
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}
