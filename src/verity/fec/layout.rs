//! Where dm-verity's FEC parity lies and what it covers (kernel `dm-verity-fec.c`,
//! cryptsetup `lib/verity/verity_fec.c`).
//!
//!   covered input = the data area (data_blocks blocks), then the hash device from the
//!                   tree's first block: `fec_blocks` blocks in all
//!   rsn           = 255 - roots;  rounds = ceil(fec_blocks / rsn)
//!   codeword (n, b), n < rounds, b < block_size: byte b of covered blocks
//!                   n, rounds + n, 2 rounds + n, ... (rsn of them; past the input: zero)
//!   parity of (n, b) = `roots` bytes at fec_start * block_size + (n * block_size + b) * roots
//! So covered block k is row k / rounds of round k % rounds, and the parity is
//! rounds * roots blocks.

pub use super::layout_error::FecError;
use super::rs::{MAX_ROOTS, MIN_ROOTS, N};
use crate::verity::params::VerityParams;

/// The values of the FEC table arguments, with what they imply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FecLayout {
    pub roots: u32,
    pub block_size: u32,
    /// `fec_blocks`: covered blocks, data then hash area.
    pub blocks: u64,
    /// `fec_start`: the parity's first block on the FEC device.
    pub start: u64,
    pub data_blocks: u64,
    /// The tree's first block on the hash device (covered block `data_blocks`).
    pub hash_start_block: u64,
}

/// Where covered block k is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Covered {
    /// Byte offset on the data device.
    Data(u64),
    /// Byte offset on the hash device.
    Hash(u64),
    /// Past the covered input: zeros.
    Zero,
}

/// `fec_blocks` as cryptsetup computes it (`VERITY_FEC_blocks`): the data blocks plus the
/// hash device from the tree's first block up to `end` bytes (the FEC offset when the
/// parity is on the hash device, the device's size otherwise).
pub fn covered_blocks(params: &VerityParams, end: u64) -> Result<u64, FecError> {
    let bs = u64::from(params.data_block_size);
    let tree_start = params
        .hash_start_block
        .checked_mul(bs)
        .ok_or(FecError::Overflow)?;
    let hash_blocks =
        (end / bs)
            .checked_sub(params.hash_start_block)
            .ok_or(FecError::OffsetBeforeTree {
                offset: end,
                tree_start,
            })?;
    params
        .data_blocks
        .checked_add(hash_blocks)
        .ok_or(FecError::Overflow)
}

impl FecLayout {
    /// The layout `veritysetup open --fec-device F --fec-offset O --fec-roots R` loads:
    /// `on_hash_device` when F is the hash device, `hash_len` the hash device's size.
    pub fn from_options(
        params: &VerityParams,
        roots: u32,
        offset: u64,
        on_hash_device: bool,
        hash_len: u64,
    ) -> Result<FecLayout, FecError> {
        if !(MIN_ROOTS..=MAX_ROOTS).contains(&roots) {
            return Err(FecError::Roots(roots));
        }
        if params.data_block_size != params.hash_block_size {
            return Err(FecError::BlockSizes {
                data: params.data_block_size,
                hash: params.hash_block_size,
            });
        }
        let bs = params.data_block_size;
        if bs == 0 || offset % u64::from(bs) != 0 {
            return Err(FecError::Offset {
                offset,
                block_size: bs,
            });
        }
        let blocks = covered_blocks(params, if on_hash_device { offset } else { hash_len })?;
        Ok(FecLayout {
            roots,
            block_size: bs,
            blocks,
            start: offset / u64::from(bs),
            data_blocks: params.data_blocks,
            hash_start_block: params.hash_start_block,
        })
    }

    /// Data symbols per codeword.
    pub fn rsn(&self) -> u64 {
        N as u64 - u64::from(self.roots)
    }

    pub fn rounds(&self) -> u64 {
        self.blocks.div_ceil(self.rsn().max(1))
    }

    pub fn parity_blocks(&self) -> Option<u64> {
        self.rounds().checked_mul(u64::from(self.roots))
    }

    pub fn parity_bytes(&self) -> Option<u64> {
        self.parity_blocks()?
            .checked_mul(u64::from(self.block_size))
    }

    /// Byte range of the parity on the FEC device.
    pub fn area(&self) -> Option<(u64, u64)> {
        let start = self.start.checked_mul(u64::from(self.block_size))?;
        Some((start, start.checked_add(self.parity_bytes()?)?))
    }

    /// Parity size as a percentage of the covered input.
    pub fn overhead_percent(&self) -> f64 {
        let covered = self.blocks as f64;
        match self.parity_blocks() {
            Some(p) if covered > 0.0 => p as f64 * 100.0 / covered,
            _ => 0.0,
        }
    }

    /// (round, row) of covered block `k`.
    pub fn position(&self, k: u64) -> (u64, u64) {
        let rounds = self.rounds().max(1);
        (k % rounds, k / rounds)
    }

    /// Covered block of row `row` in round `round`.
    pub fn block_at(&self, round: u64, row: u64) -> u64 {
        row.saturating_mul(self.rounds()).saturating_add(round)
    }

    /// Where covered block `k` is read from.
    pub fn covered(&self, k: u64) -> Covered {
        let bs = u64::from(self.block_size);
        if k >= self.blocks {
            return Covered::Zero;
        }
        if k < self.data_blocks {
            return Covered::Data(k.saturating_mul(bs));
        }
        let on_hash = (k - self.data_blocks).saturating_add(self.hash_start_block);
        Covered::Hash(on_hash.saturating_mul(bs))
    }

    /// The covered block of hash-device block `h` (a tree block), if covered.
    pub fn covered_hash_block(&self, h: u64) -> Option<u64> {
        let k = h
            .checked_sub(self.hash_start_block)?
            .checked_add(self.data_blocks)?;
        (k < self.blocks).then_some(k)
    }

    /// Byte offset of round `round`'s parity on the FEC device.
    pub fn parity_offset(&self, round: u64) -> Option<u64> {
        let bs = u64::from(self.block_size);
        let per_round = bs.checked_mul(u64::from(self.roots))?;
        self.start
            .checked_mul(bs)?
            .checked_add(round.checked_mul(per_round)?)
    }

    /// The checks the kernel makes when it loads the table, and that the parity stays clear
    /// of what it protects. `fec_len`, `hash_len`: device sizes; `fec_is_hash`,
    /// `fec_is_data`: whether the FEC device is the hash or the data device.
    pub fn check(
        &self,
        params: &VerityParams,
        fec: (&str, u64),
        hash: (&str, u64),
        fec_is_hash: bool,
        fec_is_data: bool,
    ) -> Result<(), FecError> {
        if !(MIN_ROOTS..=MAX_ROOTS).contains(&self.roots) {
            return Err(FecError::Roots(self.roots));
        }
        if params.data_block_size != params.hash_block_size {
            return Err(FecError::BlockSizes {
                data: params.data_block_size,
                hash: params.hash_block_size,
            });
        }
        let tree = params.hash_tree_blocks().ok_or(FecError::Overflow)?;
        let need = params
            .data_blocks
            .checked_add(tree)
            .ok_or(FecError::Overflow)?;
        if self.blocks < need {
            return Err(FecError::TooFewBlocks {
                blocks: self.blocks,
                need,
            });
        }
        let bs = u64::from(self.block_size);
        let covered_hash_end = (self.blocks - params.data_blocks)
            .checked_add(params.hash_start_block)
            .and_then(|b| b.checked_mul(bs))
            .ok_or(FecError::Overflow)?;
        if covered_hash_end > hash.1 {
            return Err(FecError::HashTooSmall {
                device: hash.0.to_string(),
                need: covered_hash_end,
                len: hash.1,
            });
        }
        let (start, end) = self.area().ok_or(FecError::Overflow)?;
        if end > fec.1 {
            return Err(FecError::FecTooSmall {
                device: fec.0.to_string(),
                end,
                len: fec.1,
            });
        }
        let overlap = |what: &'static str, other: (u64, u64)| {
            if start < other.1 && other.0 < end {
                Err(FecError::Overlap {
                    device: fec.0.to_string(),
                    start,
                    end,
                    what,
                    other,
                })
            } else {
                Ok(())
            }
        };
        if fec_is_hash {
            let tree_start = params.hash_start_block.saturating_mul(bs);
            let (_, tree_end) = params.hash_area().ok_or(FecError::Overflow)?;
            overlap("the hash tree", (tree_start, tree_end))?;
            overlap("the hash area FEC covers", (tree_start, covered_hash_end))?;
        }
        if fec_is_data {
            let data_end = params.data_area_len().ok_or(FecError::Overflow)?;
            overlap("the data area", (0, data_end))?;
        }
        Ok(())
    }
}

/// The layout an Android `fec_header` footer at the end of a `volume_len`-byte hash volume
/// describes, checked against the verity parameters: the parity lies right before the
/// footer block and covers the data plus the hash volume from the tree at most up to the
/// parity (`scripts/add-fec --size` may leave uncovered zeros between them); the kernel's
/// checks (`FecLayout::check`) then make sure it covers at least the whole tree.
pub fn footer_layout(
    footer: &super::footer::FecFooter,
    params: &VerityParams,
    volume_len: u64,
) -> Result<FecLayout, String> {
    footer.check_fields()?;
    if params.data_block_size != params.hash_block_size {
        return Err(format!(
            "the data and hash block sizes differ ({} and {}), and FEC needs them equal",
            params.data_block_size, params.hash_block_size
        ));
    }
    let bs = u64::from(params.data_block_size);
    if footer.inp_size % bs != 0 {
        return Err(format!(
            "inp_size {} is not a multiple of the block size {bs}",
            footer.inp_size
        ));
    }
    let mut layout = FecLayout {
        roots: footer.roots,
        block_size: params.data_block_size,
        blocks: footer.inp_size / bs,
        start: 0,
        data_blocks: params.data_blocks,
        hash_start_block: params.hash_start_block,
    };
    let parity = layout.parity_bytes().ok_or("the parity size overflows")?;
    if u64::from(footer.fec_size) != parity {
        return Err(format!(
            "fec_size {} is not rounds x roots x block size = {} x {} x {bs} = {parity} for \
             inp_size {}",
            footer.fec_size,
            layout.rounds(),
            footer.roots,
            footer.inp_size
        ));
    }
    let footer_at = volume_len
        .checked_sub(super::footer::FOOTER_BLOCK)
        .ok_or("the volume is smaller than the footer")?;
    let start = footer_at.checked_sub(parity).ok_or_else(|| {
        format!("fec_size {parity} is larger than the volume ({volume_len} bytes)")
    })?;
    if start % bs != 0 {
        return Err(format!(
            "the parity would start at byte {start}, not on a {bs}-byte block"
        ));
    }
    layout.start = start / bs;
    let expect = covered_blocks(params, start).map_err(|e| e.to_string())?;
    if layout.blocks > expect {
        return Err(format!(
            "inp_size {} covers {} blocks, and the data plus the hash area up to the parity \
             are {expect} blocks: the parity would cover itself; the footer was made for \
             another image or another layout",
            footer.inp_size, layout.blocks
        ));
    }
    Ok(layout)
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
