//! Android libfec's footer: the last 4096-byte block of a partition that ends with FEC
//! parity says where the parity is and what it covers. The parity lies right before that
//! block. A copy of the header sits at the very end of the block.
//!
//! Layout (packed, little-endian, 60 bytes; libfec `fec_header`):
//!   0  u32 magic = 0xFECFECFE      4  u32 version = 0     8  u32 size = 60
//!   12 u32 roots                   16 u32 fec_size (bytes of parity)
//!   20 u64 inp_size (bytes covered: fec_blocks * block size)
//!   28 u8[32] SHA-256 of the parity

use std::fmt;

use crate::disk::source::{read_into, ReadAt};

pub const FOOTER_BLOCK: u64 = 4096;
pub const MAGIC: u32 = 0xFECF_ECFE;
pub const HEADER_SIZE: usize = 60;

/// A footer whose fields are read; [`crate::verity::fec::footer_layout`] checks them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FecFooter {
    pub version: u32,
    pub size: u32,
    pub roots: u32,
    pub fec_size: u32,
    pub inp_size: u64,
    pub hash: [u8; 32],
    /// Which copy was read: the header at the start of the block, or its backup.
    pub backup: bool,
}

/// What the end of a volume holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FooterFound {
    /// No FEC magic in either copy: the volume has no footer.
    None,
    Footer(FecFooter),
    /// The magic is there and the rest cannot be used.
    Bad(String),
}

impl fmt::Display for FecFooter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fec_header version {}, roots {}, fec_size {}, inp_size {}{}",
            self.version,
            self.roots,
            self.fec_size,
            self.inp_size,
            if self.backup { " (backup copy)" } else { "" }
        )
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(b.get(at..at + 4).unwrap_or(&[0; 4]));
    u32::from_le_bytes(v)
}

/// Parses a 60-byte header; `None` without the magic.
pub fn parse_header(bytes: &[u8], backup: bool) -> Option<FecFooter> {
    if bytes.len() < HEADER_SIZE || u32_at(bytes, 0) != MAGIC {
        return None;
    }
    let mut inp = [0u8; 8];
    inp.copy_from_slice(bytes.get(20..28)?);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(bytes.get(28..60)?);
    Some(FecFooter {
        version: u32_at(bytes, 4),
        size: u32_at(bytes, 8),
        roots: u32_at(bytes, 12),
        fec_size: u32_at(bytes, 16),
        inp_size: u64::from_le_bytes(inp),
        hash,
        backup,
    })
}

impl FecFooter {
    /// The checks libfec makes on the header itself.
    pub fn check_fields(&self) -> Result<(), String> {
        if self.version != 0 {
            return Err(format!("version {} (only 0 exists)", self.version));
        }
        if self.size as usize != HEADER_SIZE {
            return Err(format!(
                "size {} (a fec_header has {HEADER_SIZE})",
                self.size
            ));
        }
        if !(2..=24).contains(&self.roots) {
            return Err(format!("roots {} (dm-verity takes 2 to 24)", self.roots));
        }
        if self.fec_size == 0 || self.inp_size == 0 {
            return Err("fec_size or inp_size is 0".into());
        }
        Ok(())
    }

    /// The header as bytes (for the tests and the fuzz seeds).
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..12].copy_from_slice(&self.size.to_le_bytes());
        b[12..16].copy_from_slice(&self.roots.to_le_bytes());
        b[16..20].copy_from_slice(&self.fec_size.to_le_bytes());
        b[20..28].copy_from_slice(&self.inp_size.to_le_bytes());
        b[28..60].copy_from_slice(&self.hash);
        b
    }
}

/// Reads the footer of `src`: the header at the start of its last 4096-byte block, or
/// the backup at the block's end when the first is missing or fails its checks.
pub fn read_footer(src: &dyn ReadAt) -> FooterFound {
    let len = src.len();
    if len < FOOTER_BLOCK {
        return FooterFound::None;
    }
    let mut block = vec![0u8; FOOTER_BLOCK as usize];
    if let Err(e) = read_into(src, len - FOOTER_BLOCK, &mut block) {
        return FooterFound::Bad(e.to_string());
    }
    footer_in_block(&block)
}

/// The footer in the last block of a volume (4096 bytes).
pub fn footer_in_block(block: &[u8]) -> FooterFound {
    let backup_at = block.len().saturating_sub(HEADER_SIZE);
    let primary = parse_header(block, false);
    let backup = block.get(backup_at..).and_then(|b| parse_header(b, true));
    let mut why = Vec::new();
    for copy in [primary, backup].into_iter().flatten() {
        match copy.check_fields() {
            Ok(()) => return FooterFound::Footer(copy),
            Err(e) => why.push(format!(
                "{}: {e}",
                if copy.backup {
                    "its backup"
                } else {
                    "the header"
                }
            )),
        }
    }
    if why.is_empty() {
        FooterFound::None
    } else {
        FooterFound::Bad(why.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> FecFooter {
        FecFooter {
            version: 0,
            size: 60,
            roots: 2,
            fec_size: 4 * 4096,
            inp_size: 304 * 4096,
            hash: [7; 32],
            backup: false,
        }
    }

    fn block_with(primary: Option<&FecFooter>, backup: Option<&FecFooter>) -> Vec<u8> {
        let mut block = vec![0u8; 4096];
        if let Some(h) = primary {
            block[..60].copy_from_slice(&h.to_bytes());
        }
        if let Some(h) = backup {
            block[4096 - 60..].copy_from_slice(&h.to_bytes());
        }
        block
    }

    #[test]
    fn header_round_trips() {
        let h = good();
        assert_eq!(parse_header(&h.to_bytes(), false), Some(h.clone()));
        assert_eq!(
            footer_in_block(&block_with(Some(&h), Some(&h))),
            FooterFound::Footer(h)
        );
    }

    #[test]
    fn the_backup_stands_in_for_a_damaged_header() {
        let h = good();
        let mut bad = h.clone();
        bad.version = 9;
        let found = footer_in_block(&block_with(Some(&bad), Some(&h)));
        let mut expected = h.clone();
        expected.backup = true;
        assert_eq!(found, FooterFound::Footer(expected));
        let mut block = block_with(None, Some(&h));
        block[0] = 0xfe; // not the magic
        assert!(matches!(footer_in_block(&block), FooterFound::Footer(f) if f.backup));
    }

    #[test]
    fn near_misses() {
        assert_eq!(footer_in_block(&[0u8; 4096]), FooterFound::None);
        assert_eq!(footer_in_block(&[]), FooterFound::None);
        for (field, value) in [
            (4usize, 1u32),
            (8, 59),
            (8, 61),
            (12, 0),
            (12, 1),
            (12, 25),
            (12, 255),
            (16, 0),
        ] {
            let mut bytes = good().to_bytes();
            bytes[field..field + 4].copy_from_slice(&value.to_le_bytes());
            let mut block = vec![0u8; 4096];
            block[..60].copy_from_slice(&bytes);
            assert!(
                matches!(footer_in_block(&block), FooterFound::Bad(_)),
                "field {field} = {value}"
            );
        }
        // Big-endian magic is not the magic.
        let mut block = block_with(Some(&good()), None);
        block[..4].copy_from_slice(&MAGIC.to_be_bytes());
        assert_eq!(footer_in_block(&block), FooterFound::None);
    }
}
