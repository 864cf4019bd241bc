//! Why a set of dm-verity parameters cannot work, with the fix where it is known.

use std::fmt;

use super::params::{HashAlgorithm, MAX_SALT_SIZE, MIN_BLOCK_SIZE};

/// Why a set of verity parameters cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamsError {
    Algorithm {
        name: String,
    },
    HashType {
        hash_type: u32,
    },
    BlockSize {
        which: &'static str,
        size: u32,
        max: u32,
        why: String,
    },
    RootHashLength {
        algorithm: HashAlgorithm,
        found: usize,
    },
    SaltTooLong {
        len: usize,
    },
    NoDataBlocks,
    /// data_blocks times the block size does not fit in 64 bits.
    DataBlocksOverflow {
        data_blocks: u64,
        block_size: u32,
    },
    /// The tree would need more than 63 levels or positions past 2^64, or a hash block
    /// holds fewer than two digests.
    TreeTooLarge,
    DataArea {
        device: String,
        need: u64,
        len: u64,
    },
    HashArea {
        device: String,
        start: u64,
        end: u64,
        len: u64,
    },
    Overlap {
        device: String,
        data_end: u64,
        hash_start: u64,
    },
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamsError::Algorithm { name } => write!(
                f,
                "verity hash algorithm '{name}' is not supported: use one of {}",
                HashAlgorithm::ALLOWED
            ),
            ParamsError::HashType { hash_type: 0 } => f.write_str(
                "verity hash type 0 (the Chrome OS format) is not supported: format the image \
                 with hash type 1 (veritysetup's default)",
            ),
            ParamsError::HashType { hash_type } => {
                write!(
                    f,
                    "verity hash type {hash_type} is unknown: only 1 is supported"
                )
            }
            ParamsError::BlockSize {
                which,
                size,
                max,
                why,
            } => write!(
                f,
                "verity {which} block size {size} is {why}: use a power of two from \
                 {MIN_BLOCK_SIZE} to {max} (4096 is the usual)"
            ),
            ParamsError::RootHashLength { algorithm, found } => write!(
                f,
                "the root hash has {found} bytes but {algorithm} digests have {}: check \
                 roothash= and the hash algorithm",
                algorithm.digest_len()
            ),
            ParamsError::SaltTooLong { len } => {
                write!(
                    f,
                    "verity salt of {len} bytes is longer than {MAX_SALT_SIZE}"
                )
            }
            ParamsError::NoDataBlocks => f.write_str("verity data_blocks is 0"),
            ParamsError::DataBlocksOverflow {
                data_blocks,
                block_size,
            } => write!(
                f,
                "verity data_blocks {data_blocks} of {block_size} bytes is more than any device \
                 holds: the superblock or data-blocks= is wrong"
            ),
            ParamsError::TreeTooLarge => f.write_str(
                "the verity hash tree would be too large (more than 63 levels, or a hash block \
                 smaller than two digests)",
            ),
            ParamsError::DataArea { device, need, len } => write!(
                f,
                "the verity data area needs {need} bytes but {device} has {len}: check \
                 data_blocks and that the right device was chosen"
            ),
            ParamsError::HashArea {
                device,
                start,
                end,
                len,
            } => write!(
                f,
                "the verity hash tree lies at bytes {start}..{end} but {device} has {len}: \
                 check the hash offset / hash_start_block and the hash device"
            ),
            ParamsError::Overlap {
                device,
                data_end,
                hash_start,
            } => write!(
                f,
                "on {device} the verity hash tree starts at byte {hash_start}, inside the data \
                 area that ends at byte {data_end}: the hash offset is wrong"
            ),
        }
    }
}

impl std::error::Error for ParamsError {}
