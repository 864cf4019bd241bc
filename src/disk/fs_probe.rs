//! Recognises the read-only root filesystems verinit mounts and how many bytes each
//! occupies from the start of its device, so that a verity hash tree appended after the
//! filesystem can be found. Little-endian fields:
//!
//! ```text
//! squashfs (linux fs/squashfs/squashfs_fs.h): 0 magic "hsqs", 12 block_size u32,
//!          22 block_log u16, 28 major u16 (4), 40 bytes_used u64
//! erofs    (linux fs/erofs/erofs_fs.h), superblock at 1024: +0 magic 0xE0F5E1E2,
//!          +12 blkszbits u8, +36 blocks u32; size = blocks << blkszbits
//! ext4     (linux fs/ext4/ext4.h), superblock at 1024: +4 blocks_count_lo u32,
//!          +24 log_block_size u32 (block = 1024 << it), +56 magic 0xEF53,
//!          +96 feature_incompat u32 (0x80: 64bit), +0x150 blocks_count_hi u32
//! ```

use std::fmt;

use crate::disk::source::{read_into, ReadAt};
use crate::units::Bytes;

/// The filesystems verinit knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FsKind {
    Squashfs,
    Erofs,
    Ext4,
}

impl FsKind {
    /// The name `mount -t` takes.
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Squashfs => "squashfs",
            FsKind::Erofs => "erofs",
            FsKind::Ext4 => "ext4",
        }
    }
}

impl fmt::Display for FsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A recognised filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filesystem {
    pub kind: FsKind,
    /// Bytes the filesystem occupies from the start of the device.
    pub size: Bytes,
}

/// A filesystem superblock that is there but makes no sense, or could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsProbeError {
    pub device: String,
    pub offset: u64,
    pub cause: String,
}

impl fmt::Display for FsProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad filesystem superblock on {} at offset {}: {}",
            self.device, self.offset, self.cause
        )
    }
}

impl std::error::Error for FsProbeError {}

/// Bytes read from the start: enough for every superblock above.
const PROBE_LEN: u64 = 2048;
const SUPER_AT: usize = 1024;

fn le(b: &[u8], at: usize, n: usize) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(n)?)?;
    Some(bytes.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x)))
}

/// What one probe found: nothing, a filesystem, or a bad superblock (offset, cause).
type Found = Result<Option<Filesystem>, (usize, String)>;

fn squashfs(b: &[u8]) -> Found {
    if b.get(..4) != Some(b"hsqs") {
        return Ok(None);
    }
    let field = |at, n| le(b, at, n).ok_or((at, "superblock is cut short".to_string()));
    let major = field(28, 2)?;
    if major != 4 {
        return Err((28, format!("squashfs version {major} is not 4")));
    }
    let (block_size, block_log) = (field(12, 4)?, field(22, 2)?);
    let block_ok = block_size.is_power_of_two() && (4096..=1 << 20).contains(&block_size);
    if !block_ok || u64::from(block_size.trailing_zeros()) != block_log {
        return Err((
            12,
            format!("block size {block_size} / log {block_log} is inconsistent"),
        ));
    }
    let bytes_used = field(40, 8)?;
    if bytes_used < 96 {
        return Err((
            40,
            format!("bytes_used {bytes_used} is smaller than the superblock"),
        ));
    }
    Ok(Some(Filesystem {
        kind: FsKind::Squashfs,
        size: Bytes(bytes_used),
    }))
}

fn erofs(b: &[u8]) -> Found {
    if le(b, SUPER_AT, 4) != Some(0xE0F5_E1E2) {
        return Ok(None);
    }
    let field = |at, n| le(b, SUPER_AT + at, n).ok_or((SUPER_AT + at, "cut short".to_string()));
    let bits = field(12, 1)?;
    if !(9..=16).contains(&bits) {
        return Err((
            SUPER_AT + 12,
            format!("block size 2^{bits} is not 512 to 64 KiB"),
        ));
    }
    let blocks = field(36, 4)?;
    Ok(Some(Filesystem {
        kind: FsKind::Erofs,
        size: Bytes(blocks << bits),
    }))
}

fn ext4(b: &[u8]) -> Found {
    if le(b, SUPER_AT + 56, 2) != Some(0xEF53) {
        return Ok(None);
    }
    let field = |at, n| le(b, SUPER_AT + at, n).ok_or((SUPER_AT + at, "cut short".to_string()));
    let log = field(24, 4)?;
    if log > 6 {
        return Err((
            SUPER_AT + 24,
            format!("log block size {log} is above 6 (64 KiB)"),
        ));
    }
    let lo = field(4, 4)?;
    let hi = if field(96, 4)? & 0x80 != 0 {
        field(0x150, 4)?
    } else {
        0
    };
    let blocks = hi << 32 | lo;
    let size = blocks.checked_mul(1024 << log).ok_or((
        SUPER_AT + 4,
        format!("{blocks} blocks of {} bytes overflow", 1024 << log),
    ))?;
    Ok(Some(Filesystem {
        kind: FsKind::Ext4,
        size: Bytes(size),
    }))
}

/// Recognises the filesystem at the start of `src`; `Ok(None)` when it is none of
/// squashfs, erofs, ext4. The size is checked to fit in the device.
pub fn probe_filesystem(src: &dyn ReadAt) -> Result<Option<Filesystem>, FsProbeError> {
    let fail = |offset: u64, cause: String| FsProbeError {
        device: src.name().to_string(),
        offset,
        cause,
    };
    let mut head = vec![0u8; src.len().min(PROBE_LEN) as usize];
    read_into(src, 0, &mut head).map_err(|e| fail(0, e.cause))?;
    for probe in [squashfs, erofs, ext4] {
        match probe(&head) {
            Ok(None) => continue,
            Err((at, cause)) => return Err(fail(at as u64, cause)),
            Ok(Some(fs)) if fs.size.0 > src.len() => {
                return Err(fail(
                    0,
                    format!(
                        "the {} filesystem is {} bytes but the device has {}: the image was \
                         truncated, or this is the wrong device",
                        fs.kind,
                        fs.size.0,
                        src.len()
                    ),
                ))
            }
            Ok(Some(fs)) => return Ok(Some(fs)),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::source::{FileSource, MemSource};
    use crate::verity::fixture::{field, pseudo_random, run, TempDir};

    fn probe_file(path: &str) -> Result<Option<Filesystem>, FsProbeError> {
        probe_filesystem(&FileSource::open(path.as_ref()).unwrap())
    }

    fn tree(dir: &TempDir) -> String {
        let root = dir.file("tree");
        std::fs::create_dir_all(format!("{root}/etc")).unwrap();
        std::fs::write(format!("{root}/etc/os-release"), "ID=verinit\n").unwrap();
        std::fs::write(format!("{root}/blob"), pseudo_random(200_000, 9)).unwrap();
        root
    }

    #[test]
    fn sizes_match_the_tools_reports() {
        let dir = TempDir::new("fs");
        let src = tree(&dir);
        let sq = dir.file("root.squashfs");
        run(
            "mksquashfs",
            &[&src, &sq, "-noappend", "-quiet", "-no-progress"],
        );
        let report = run("unsquashfs", &["-s", &sq]);
        let want: u64 = field(&report, "Filesystem size")
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let fs = probe_file(&sq).unwrap().unwrap();
        assert_eq!((fs.kind.name(), fs.size), ("squashfs", Bytes(want)));

        let er = dir.file("root.erofs");
        run("mkfs.erofs", &["--quiet", &er, &src]);
        let blocks: u64 = field(&run("dump.erofs", &["-s", &er]), "Filesystem blocks:")
            .parse()
            .unwrap();
        let fs = probe_file(&er).unwrap().unwrap();
        assert_eq!((fs.kind.name(), fs.size), ("erofs", Bytes(blocks * 4096)));

        for opts in ["-b 1024 -O ^64bit", "-b 4096 -O 64bit", "-b 2048"] {
            let e4 = dir.file("root.ext4");
            std::fs::write(&e4, vec![0u8; 12 << 20]).unwrap();
            let mut args: Vec<&str> = vec!["-F", "-q"];
            args.extend(opts.split(' '));
            args.extend([e4.as_str(), "10M"]);
            run("mkfs.ext4", &args);
            let report = run("dumpe2fs", &["-h", &e4]);
            let count: u64 = field(&report, "Block count:").parse().unwrap();
            let size: u64 = field(&report, "Block size:").parse().unwrap();
            let fs = probe_file(&e4).unwrap().unwrap();
            assert_eq!(
                (fs.kind.name(), fs.size),
                ("ext4", Bytes(count * size)),
                "{opts}"
            );
            assert_eq!(
                fs.size,
                Bytes(10 << 20),
                "{opts}: the device is larger than the fs"
            );
        }
    }

    #[test]
    fn truncated_images_are_errors() {
        let dir = TempDir::new("fscut");
        let src = tree(&dir);
        let sq = dir.file("cut.squashfs");
        run(
            "mksquashfs",
            &[&src, &sq, "-noappend", "-quiet", "-no-progress", "-nopad"],
        );
        let mut bytes = std::fs::read(&sq).unwrap();
        assert!(probe_filesystem(&MemSource::new("sq", bytes.clone()))
            .unwrap()
            .is_some());
        bytes.pop();
        let e = probe_filesystem(&MemSource::new("/dev/vg/root", bytes)).unwrap_err();
        assert!(
            e.to_string().contains("/dev/vg/root at offset 0") && e.cause.contains("truncated"),
            "{e}"
        );
    }

    /// A minimal superblock of each kind, for near misses.
    fn synthetic(kind: FsKind) -> Vec<u8> {
        let mut b = vec![0u8; 64 << 10];
        let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        match kind {
            FsKind::Squashfs => {
                put(0, b"hsqs");
                put(12, &131072u32.to_le_bytes());
                put(22, &17u16.to_le_bytes());
                put(28, &4u16.to_le_bytes());
                put(40, &4096u64.to_le_bytes());
            }
            FsKind::Erofs => {
                put(1024, &0xE0F5_E1E2u32.to_le_bytes());
                put(1036, &[12]);
                put(1060, &2u32.to_le_bytes());
            }
            FsKind::Ext4 => {
                put(1028, &16u32.to_le_bytes());
                put(1048, &2u32.to_le_bytes());
                put(1080, &0xEF53u16.to_le_bytes());
            }
        }
        b
    }

    #[test]
    fn near_misses() {
        type Edit = fn(&mut Vec<u8>);
        /// The size found, or a text the error must contain.
        type Want = Result<Option<u64>, &'static str>;
        let cases: &[(FsKind, &str, Edit, Want)] = &[
            (FsKind::Squashfs, "good", |_| {}, Ok(Some(4096))),
            (FsKind::Squashfs, "magic", |b| b[3] = b'S', Ok(None)),
            (FsKind::Squashfs, "v3", |b| b[28] = 3, Err("version 3")),
            (
                FsKind::Squashfs,
                "block log",
                |b| b[22] = 16,
                Err("inconsistent"),
            ),
            (
                FsKind::Squashfs,
                "tiny",
                |b| b[40..48].fill(0),
                Err("smaller"),
            ),
            (FsKind::Squashfs, "too big", |b| b[42] = 1, Err("truncated")),
            (FsKind::Erofs, "good", |_| {}, Ok(Some(8192))),
            (FsKind::Erofs, "magic", |b| b[1024] = 0xE3, Ok(None)),
            (FsKind::Erofs, "bits 8", |b| b[1036] = 8, Err("2^8")),
            (FsKind::Erofs, "bits 17", |b| b[1036] = 17, Err("2^17")),
            (FsKind::Ext4, "good", |_| {}, Ok(Some(65536))),
            (FsKind::Ext4, "magic", |b| b[1081] = 0xEE, Ok(None)),
            (
                FsKind::Ext4,
                "log 7",
                |b| b[1048] = 7,
                Err("log block size 7"),
            ),
            (
                FsKind::Ext4,
                "64bit hi",
                |b| {
                    b[1120] = 0x80;
                    b[1360] = 1;
                },
                Err("truncated"),
            ),
            (FsKind::Ext4, "64bit off", |b| b[1360] = 1, Ok(Some(65536))),
        ];
        for (kind, what, edit, want) in cases {
            let mut b = synthetic(*kind);
            edit(&mut b);
            let got = probe_filesystem(&MemSource::new("dev", b));
            match (got, want) {
                (Ok(Some(fs)), Ok(Some(size))) => {
                    assert_eq!((fs.kind, fs.size.0), (*kind, *size), "{what}")
                }
                (Ok(None), Ok(None)) => {}
                (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{kind} {what}: {e}"),
                (got, _) => panic!("{kind} {what}: {got:?}"),
            }
        }
        assert_eq!(
            probe_filesystem(&MemSource::new("empty", vec![])).unwrap(),
            None
        );
        assert_eq!(
            probe_filesystem(&MemSource::new("short", b"hsqs".to_vec()))
                .unwrap_err()
                .offset,
            28
        );
    }
}
