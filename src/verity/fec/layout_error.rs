//! Why a set of FEC parameters cannot work: each error names the option or value, and
//! the kernel's own words where the kernel would refuse the table.

use std::fmt;

use super::rs::{MAX_ROOTS, MIN_ROOTS};

/// Why FEC parameters cannot work; each names the option or value and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FecError {
    Roots(u32),
    BlockSizes {
        data: u32,
        hash: u32,
    },
    Offset {
        offset: u64,
        block_size: u32,
    },
    OffsetBeforeTree {
        offset: u64,
        tree_start: u64,
    },
    TooFewBlocks {
        blocks: u64,
        need: u64,
    },
    Overflow,
    HashTooSmall {
        device: String,
        need: u64,
        len: u64,
    },
    FecTooSmall {
        device: String,
        end: u64,
        len: u64,
    },
    Overlap {
        device: String,
        start: u64,
        end: u64,
        what: &'static str,
        other: (u64, u64),
    },
}

impl fmt::Display for FecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FecError::Roots(r) => write!(
                f,
                "fec-roots={r}: dm-verity takes {MIN_ROOTS} to {MAX_ROOTS} parity bytes per \
                 codeword; give the roots the FEC was made with (veritysetup's default is 2)"
            ),
            FecError::BlockSizes { data, hash } => write!(
                f,
                "FEC needs equal data and hash block sizes, and they are {data} and {hash} \
                 (the kernel says \"Block sizes must match to use FEC\"): format the tree \
                 with --hash-block-size={data}"
            ),
            FecError::Offset { offset, block_size } => write!(
                f,
                "fec-offset={offset} is not a multiple of the block size {block_size}: the \
                 kernel's fec_start counts whole blocks; give the offset the FEC was written at"
            ),
            FecError::OffsetBeforeTree { offset, tree_start } => write!(
                f,
                "fec-offset={offset} lies before the hash tree's start at byte {tree_start} \
                 of the same device: the parity would cover nothing of the tree; give the \
                 offset the FEC was written at (after the tree)"
            ),
            FecError::TooFewBlocks { blocks, need } => write!(
                f,
                "FEC covers {blocks} blocks, fewer than the {need} of the data and the hash \
                 tree (the kernel says \"Invalid fec_blocks\"): the FEC was made for \
                 another image"
            ),
            FecError::Overflow => f.write_str("FEC sizes overflow 64 bits"),
            FecError::HashTooSmall { device, need, len } => write!(
                f,
                "the hash device {device} has {len} bytes, and FEC covers it up to byte \
                 {need} (the kernel says \"Hash device is too small for fec_blocks\")"
            ),
            FecError::FecTooSmall { device, end, len } => write!(
                f,
                "the FEC parity would end at byte {end} of {device}, which has {len} bytes \
                 (the kernel says \"FEC device is too small\"): check fec-device= and \
                 fec-offset="
            ),
            FecError::Overlap {
                device,
                start,
                end,
                what,
                other,
            } => write!(
                f,
                "the FEC parity at bytes {start}..{end} of {device} overlaps {what} at \
                 bytes {}..{}: check fec-offset=",
                other.0, other.1
            ),
        }
    }
}

impl std::error::Error for FecError {}
