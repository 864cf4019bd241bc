//! dm-verity parameters (format 1): the values of a `verity` table line, the limits the
//! kernel puts on them, and the shape of the hash tree they imply.
//!
//! Table: `1 <data_dev> <hash_dev> <dbs> <hbs> <data_blocks> <hash_start_block> <alg> <root> <salt>`.
//! Tree (cryptsetup `lib/verity/verity_hash.c`, kernel `drivers/md/dm-verity-target.c`):
//!   slot      = digest size rounded up to a power of two (the digest, then zeros)
//!   per_block = the largest power of two <= hash_block_size / digest size
//!   levels    = the smallest L with (data_blocks - 1) >> (L * log2(per_block)) == 0 (at most 63)
//!   level i   = ceil(data_blocks / per_block^(i+1)) hash blocks; level 0 holds the digests of
//!               the data blocks. On disk the top level comes first, at `hash_start_block`.

use std::fmt;

pub use super::params_error::ParamsError;
use super::superblock::VeritySuperblock;
use crate::disk::source::ReadAt;
use crate::id::RootHash;

/// The longest salt the superblock (and cryptsetup) can hold.
pub const MAX_SALT_SIZE: usize = 256;
/// The kernel takes data blocks up to the page size: 4096 on x86-64 and on 4K-page arm64.
pub const MAX_DATA_BLOCK_SIZE: u32 = 4096;
/// cryptsetup writes hash blocks up to 512 KiB (the kernel takes more, nobody makes them).
pub const MAX_HASH_BLOCK_SIZE: u32 = 512 * 1024;
/// The smallest block: one 512-byte sector.
pub const MIN_BLOCK_SIZE: u32 = 512;
/// The kernel's `DM_VERITY_MAX_LEVELS`.
pub const MAX_LEVELS: usize = 63;

/// The digests verinit accepts. Others (sha1, ...) are refused rather than half supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha512,
}

impl HashAlgorithm {
    /// The allow-list, as shown in errors.
    pub const ALLOWED: &'static str = "sha256, sha512";

    /// Kernel crypto API names, lowercase as in a table line and a superblock.
    pub fn parse(name: &str) -> Result<HashAlgorithm, ParamsError> {
        match name {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "sha512" => Ok(HashAlgorithm::Sha512),
            _ => Err(ParamsError::Algorithm {
                name: name.to_string(),
            }),
        }
    }

    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha512 => 64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha512 => "sha512",
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The parameters of one verity mapping, as in its table line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerityParams {
    pub hash_type: u32,
    pub algorithm: HashAlgorithm,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub data_blocks: u64,
    /// Where the tree starts on the hash device, in hash blocks.
    pub hash_start_block: u64,
    pub salt: Vec<u8>,
}

/// One level of the tree: `blocks` hash blocks from hash block `first_block` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    pub first_block: u64,
    pub blocks: u64,
}

/// Where each level lies; `levels[0]` holds the digests of the data blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeLayout {
    pub hash_per_block: u64,
    pub slot_size: usize,
    pub levels: Vec<Level>,
}

impl TreeLayout {
    /// Hash blocks in all levels.
    pub fn total_blocks(&self) -> u64 {
        self.levels.iter().map(|l| l.blocks).sum()
    }
}

/// The first hash block of the tree for a hash area at byte `hash_offset`: past the
/// 512-byte superblock, rounded up to a whole hash block, when there is one.
pub fn hash_start_block(hash_offset: u64, hash_block_size: u32, superblock: bool) -> Option<u64> {
    let hbs = u64::from(hash_block_size);
    if hbs == 0 {
        return None;
    }
    if superblock {
        Some(hash_offset.checked_add(512)?.div_ceil(hbs))
    } else {
        Some(hash_offset / hbs)
    }
}

fn block_size_problem(size: u32, max: u32) -> Option<String> {
    if !size.is_power_of_two() {
        return Some("not a power of two".into());
    }
    if size < MIN_BLOCK_SIZE {
        return Some(format!("smaller than {MIN_BLOCK_SIZE}"));
    }
    (size > max).then(|| format!("larger than {max}, the most the kernel accepts here"))
}

impl VerityParams {
    /// Parameters from a superblock; the tree starts at `hash_start_block` (see
    /// [`hash_start_block`]).
    pub fn from_superblock(
        sb: &VeritySuperblock,
        hash_start_block: u64,
    ) -> Result<VerityParams, ParamsError> {
        Ok(VerityParams {
            hash_type: sb.hash_type,
            algorithm: HashAlgorithm::parse(&sb.algorithm)?,
            data_block_size: sb.data_block_size,
            hash_block_size: sb.hash_block_size,
            data_blocks: sb.data_blocks,
            hash_start_block,
            salt: sb.salt.clone(),
        })
    }

    /// The tree's shape, or `None` when it cannot exist (a hash block smaller than two
    /// digests, no data blocks, more than 63 levels, or a position past 2^64).
    pub fn layout(&self) -> Option<TreeLayout> {
        let digest = self.algorithm.digest_len();
        let slot_size = digest.checked_next_power_of_two()?;
        let per_block = usize::try_from(self.hash_block_size).ok()? / digest;
        if per_block < 2 || self.data_blocks == 0 {
            return None;
        }
        let bits = per_block.ilog2();
        // bits <= 14 and the loop stops once bits * count reaches 64: no overflow.
        let last = self.data_blocks.checked_sub(1)?;
        let mut count = 0u32;
        while bits * count < 64 && last >> (bits * count) != 0 {
            count += 1;
        }
        if count as usize > MAX_LEVELS {
            return None;
        }
        let mut sizes = Vec::with_capacity(MAX_LEVELS);
        let mut below = self.data_blocks;
        for _ in 0..count {
            below = below.div_ceil(1u64 << bits);
            sizes.push(below);
        }
        // Top level first on disk.
        let mut levels: Vec<Level> = sizes
            .iter()
            .map(|&blocks| Level {
                first_block: 0,
                blocks,
            })
            .collect();
        let mut position = self.hash_start_block;
        for level in levels.iter_mut().rev() {
            level.first_block = position;
            position = position.checked_add(level.blocks)?;
        }
        Some(TreeLayout {
            hash_per_block: 1u64 << bits,
            slot_size,
            levels,
        })
    }

    /// Hash blocks in all levels of the tree.
    pub fn hash_tree_blocks(&self) -> Option<u64> {
        self.layout().map(|l| l.total_blocks())
    }

    /// Bytes of the data device covered by the tree.
    pub fn data_area_len(&self) -> Option<u64> {
        self.data_blocks
            .checked_mul(u64::from(self.data_block_size))
    }

    /// Byte range `[start, end)` of the tree on the hash device.
    pub fn hash_area(&self) -> Option<(u64, u64)> {
        let hbs = u64::from(self.hash_block_size);
        let start = self.hash_start_block.checked_mul(hbs)?;
        let blocks = self.hash_tree_blocks()?;
        let end = self
            .hash_start_block
            .checked_add(blocks)?
            .checked_mul(hbs)?;
        Some((start, end))
    }

    /// Checks the parameters against the kernel's limits and the device sizes, data and
    /// hash on separate devices.
    pub fn check(&self, root: &RootHash, data_len: u64, hash_len: u64) -> Result<(), ParamsError> {
        self.check_inner(
            root,
            ("the data device", data_len),
            ("the hash device", hash_len),
        )
    }

    /// As [`check`](Self::check), with the tree on the data device: the two areas must not
    /// overlap.
    pub fn check_same_device(&self, root: &RootHash, device_len: u64) -> Result<(), ParamsError> {
        self.check_inner(root, ("the device", device_len), ("the device", device_len))?;
        self.check_overlap("the device")
    }

    /// As [`check`](Self::check), naming the devices; when `data` and `hash` are the same
    /// source the areas must not overlap.
    pub fn check_sources(
        &self,
        root: &RootHash,
        data: &dyn ReadAt,
        hash: &dyn ReadAt,
    ) -> Result<(), ParamsError> {
        self.check_inner(root, (data.name(), data.len()), (hash.name(), hash.len()))?;
        let same = std::ptr::addr_eq(data as *const dyn ReadAt, hash as *const dyn ReadAt);
        if same {
            self.check_overlap(data.name())?;
        }
        Ok(())
    }

    fn check_inner(
        &self,
        root: &RootHash,
        (data_name, data_len): (&str, u64),
        (hash_name, hash_len): (&str, u64),
    ) -> Result<(), ParamsError> {
        if self.hash_type != 1 {
            return Err(ParamsError::HashType {
                hash_type: self.hash_type,
            });
        }
        for (which, size, max) in [
            ("data", self.data_block_size, MAX_DATA_BLOCK_SIZE),
            ("hash", self.hash_block_size, MAX_HASH_BLOCK_SIZE),
        ] {
            if let Some(why) = block_size_problem(size, max) {
                return Err(ParamsError::BlockSize {
                    which,
                    size,
                    max,
                    why,
                });
            }
        }
        let digest = self.algorithm.digest_len();
        if root.0.len() != digest {
            return Err(ParamsError::RootHashLength {
                algorithm: self.algorithm,
                found: root.0.len(),
            });
        }
        if self.salt.len() > MAX_SALT_SIZE {
            return Err(ParamsError::SaltTooLong {
                len: self.salt.len(),
            });
        }
        if self.data_blocks == 0 {
            return Err(ParamsError::NoDataBlocks);
        }
        let need = self
            .data_area_len()
            .ok_or(ParamsError::DataBlocksOverflow {
                data_blocks: self.data_blocks,
                block_size: self.data_block_size,
            })?;
        if need > data_len {
            return Err(ParamsError::DataArea {
                device: data_name.to_string(),
                need,
                len: data_len,
            });
        }
        let (start, end) = self.hash_area().ok_or(ParamsError::TreeTooLarge)?;
        if end > hash_len {
            return Err(ParamsError::HashArea {
                device: hash_name.to_string(),
                start,
                end,
                len: hash_len,
            });
        }
        Ok(())
    }

    fn check_overlap(&self, device: &str) -> Result<(), ParamsError> {
        let data_end = self.data_area_len().ok_or(ParamsError::TreeTooLarge)?;
        let (start, end) = self.hash_area().ok_or(ParamsError::TreeTooLarge)?;
        if start < end && start < data_end {
            return Err(ParamsError::Overlap {
                device: device.to_string(),
                data_end,
                hash_start: start,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
