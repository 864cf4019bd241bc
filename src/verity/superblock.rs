//! The dm-verity superblock that `veritysetup format` writes at the hash offset
//! (cryptsetup `lib/verity/verity.c`, `struct verity_sb`; 512 bytes, little-endian):
//!
//! ```text
//!   0 signature[8] = "verity\0\0"   8 version u32 = 1        12 hash_type u32 (1; 0 Chrome OS)
//!  16 uuid[16]                     32 algorithm[32], NUL-terminated
//!  64 data_block_size u32          68 hash_block_size u32   72 data_blocks u64
//!  80 salt_size u16                82 pad[6]                88 salt[256]   344 pad[168]
//! ```
//! The kernel never reads it: it only tells user space the table's parameters.

use std::fmt;

use crate::disk::source::{read_into, ReadAt};
use crate::id::Guid;

/// Bytes in the superblock.
pub const SUPERBLOCK_SIZE: usize = 512;
/// The superblock's first eight bytes.
pub const SUPERBLOCK_MAGIC: &[u8; 8] = b"verity\0\0";
/// cryptsetup's limit on block sizes in a superblock (`VERITY_BLOCK_SIZE_OK`).
const MAX_SB_BLOCK_SIZE: u32 = 512 * 1024;

/// A parsed superblock; every field was checked when it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VeritySuperblock {
    pub version: u32,
    pub hash_type: u32,
    /// The UUID `veritysetup` shows, bytes in text order.
    pub uuid: Guid,
    pub algorithm: String,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub data_blocks: u64,
    pub salt: Vec<u8>,
}

/// A superblock that is there but cannot be used, or could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperblockError {
    pub device: String,
    pub offset: u64,
    pub cause: String,
}

impl fmt::Display for SuperblockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad dm-verity superblock on {} at offset {}: {}",
            self.device, self.offset, self.cause
        )
    }
}

impl std::error::Error for SuperblockError {}

/// Reads the superblock at byte `offset` of `src`; `Ok(None)` when there is no
/// `"verity\0\0"` there.
pub fn read_superblock(
    src: &dyn ReadAt,
    offset: u64,
) -> Result<Option<VeritySuperblock>, SuperblockError> {
    let fail = |cause: String| SuperblockError {
        device: src.name().to_string(),
        offset,
        cause,
    };
    if offset % 512 != 0 {
        return Err(fail(
            "the hash offset is not a multiple of 512, as a superblock's must be".into(),
        ));
    }
    let mut bytes = [0u8; SUPERBLOCK_SIZE];
    read_into(src, offset, &mut bytes).map_err(|e| fail(e.to_string()))?;
    parse_superblock(&bytes).map_err(fail)
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn check_block_size(what: &str, size: u32) -> Result<(), String> {
    if size.is_power_of_two() && (512..=MAX_SB_BLOCK_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(format!(
            "{what} block size {size} is not a power of two from 512 to {MAX_SB_BLOCK_SIZE}"
        ))
    }
}

/// Parses the 512 bytes of a superblock; `Ok(None)` without the magic. The error is the
/// cause only: [`read_superblock`] adds the device and offset.
pub fn parse_superblock(b: &[u8; SUPERBLOCK_SIZE]) -> Result<Option<VeritySuperblock>, String> {
    if b.get(..8) != Some(&SUPERBLOCK_MAGIC[..]) {
        return Ok(None);
    }
    let short = || "superblock is truncated".to_string();
    let version = le_u32(b, 8).ok_or_else(short)?;
    if version != 1 {
        return Err(format!(
            "superblock version {version} is unknown (only 1 exists)"
        ));
    }
    let hash_type = le_u32(b, 12).ok_or_else(short)?;
    if hash_type > 1 {
        return Err(format!("hash type {hash_type} is unknown (0 or 1)"));
    }
    let uuid = Guid::from_slice(b.get(16..32).ok_or_else(short)?).ok_or_else(short)?;
    let name_field = b.get(32..64).ok_or_else(short)?;
    let nul = name_field
        .iter()
        .position(|&c| c == 0)
        .ok_or("algorithm name is not NUL-terminated within its 32 bytes")?;
    let name = name_field.get(..nul).ok_or_else(short)?;
    if name.is_empty() || !name.iter().all(|c| c.is_ascii_graphic()) {
        return Err("algorithm name is empty or not printable ASCII".into());
    }
    let algorithm = String::from_utf8_lossy(name).into_owned();
    let data_block_size = le_u32(b, 64).ok_or_else(short)?;
    let hash_block_size = le_u32(b, 68).ok_or_else(short)?;
    check_block_size("data", data_block_size)?;
    check_block_size("hash", hash_block_size)?;
    let data_blocks = le_u64(b, 72).ok_or_else(short)?;
    if data_blocks == 0 {
        return Err("data_blocks is 0".into());
    }
    let salt_size = usize::from(le_u16(b, 80).ok_or_else(short)?);
    if salt_size > 256 {
        return Err(format!("salt size {salt_size} is larger than 256"));
    }
    let salt = b.get(88..88 + salt_size).ok_or_else(short)?.to_vec();
    Ok(Some(VeritySuperblock {
        version,
        hash_type,
        uuid,
        algorithm,
        data_block_size,
        hash_block_size,
        data_blocks,
        salt,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::source::MemSource;

    fn good() -> [u8; SUPERBLOCK_SIZE] {
        let mut b = [0u8; SUPERBLOCK_SIZE];
        b[..8].copy_from_slice(SUPERBLOCK_MAGIC);
        b[8..12].copy_from_slice(&1u32.to_le_bytes());
        b[12..16].copy_from_slice(&1u32.to_le_bytes());
        b[16..32].copy_from_slice(&[0x11; 16]);
        b[32..38].copy_from_slice(b"sha256");
        b[64..68].copy_from_slice(&4096u32.to_le_bytes());
        b[68..72].copy_from_slice(&4096u32.to_le_bytes());
        b[72..80].copy_from_slice(&768u64.to_le_bytes());
        b[80..82].copy_from_slice(&2u16.to_le_bytes());
        b[88..90].copy_from_slice(&[0x00, 0xff]);
        b
    }

    #[test]
    fn parses_a_good_superblock() {
        let sb = parse_superblock(&good()).unwrap().unwrap();
        assert_eq!(sb.algorithm, "sha256");
        assert_eq!((sb.data_block_size, sb.hash_block_size), (4096, 4096));
        assert_eq!(sb.data_blocks, 768);
        assert_eq!(sb.salt, vec![0x00, 0xff]);
        assert_eq!(sb.uuid, Guid([0x11; 16]));
    }

    #[test]
    fn near_misses() {
        type Edit = fn(&mut [u8; SUPERBLOCK_SIZE]);
        let cases: &[(&str, Edit, Option<&str>)] = &[
            ("magic", |b| b[7] = b'x', None),
            ("magic case", |b| b[0] = b'V', None),
            ("version 2", |b| b[8] = 2, Some("version 2")),
            ("version 0", |b| b[8] = 0, Some("version 0")),
            ("hash type 2", |b| b[12] = 2, Some("hash type 2")),
            ("no NUL", |b| b[32..64].fill(b'a'), Some("NUL")),
            ("empty name", |b| b[32..64].fill(0), Some("empty")),
            ("control char", |b| b[33] = 7, Some("printable")),
            (
                "dbs 1000",
                |b| b[64..68].copy_from_slice(&1000u32.to_le_bytes()),
                Some("data block size 1000"),
            ),
            (
                "dbs 256",
                |b| b[64..68].copy_from_slice(&256u32.to_le_bytes()),
                Some("data block size 256"),
            ),
            (
                "hbs 1M",
                |b| b[68..72].copy_from_slice(&(1u32 << 20).to_le_bytes()),
                Some("hash block size"),
            ),
            ("no blocks", |b| b[72..80].fill(0), Some("data_blocks is 0")),
            (
                "salt 257",
                |b| b[80..82].copy_from_slice(&257u16.to_le_bytes()),
                Some("salt size 257"),
            ),
        ];
        for (what, edit, expect) in cases {
            let mut b = good();
            edit(&mut b);
            match (parse_superblock(&b), expect) {
                (Ok(None), None) => {}
                (Err(e), Some(text)) => assert!(e.contains(text), "{what}: {e}"),
                (other, _) => panic!("{what}: {other:?}"),
            }
        }
        // Edges that are fine: hash type 0 (refused later, by the params), salt of 256.
        let mut b = good();
        b[12] = 0;
        b[80..82].copy_from_slice(&256u16.to_le_bytes());
        let sb = parse_superblock(&b).unwrap().unwrap();
        assert_eq!((sb.hash_type, sb.salt.len()), (0, 256));
    }

    #[test]
    fn reads_name_the_device_and_offset() {
        let mut disk = vec![0u8; 4096];
        disk[1024..1536].copy_from_slice(&good());
        let src = MemSource::new("/dev/vdb", disk);
        assert!(read_superblock(&src, 1024).unwrap().is_some());
        assert_eq!(read_superblock(&src, 0).unwrap(), None);
        let e = read_superblock(&src, 100).unwrap_err();
        assert!(e.to_string().contains("/dev/vdb at offset 100"), "{e}");
        let e = read_superblock(&src, 4096).unwrap_err();
        assert!(e.to_string().contains("beyond the end"), "{e}");
        let mut disk = vec![0u8; 1024];
        let mut bad = good();
        bad[8] = 9;
        disk[512..].copy_from_slice(&bad);
        let e = read_superblock(&MemSource::new("img", disk), 512).unwrap_err();
        assert_eq!(e.offset, 512);
        assert!(e.to_string().contains("version 9"), "{e}");
    }
}
