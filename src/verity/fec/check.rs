//! `--verify` with FEC: after the fast check (`tree::verify`) finds a mismatch, walk the
//! tree top-down as the kernel trusts it, and decode each block that does not match its
//! digest with FEC, as the kernel would on reading it: first errors only (what
//! `veritysetup verify --fec-device` does, and what its "Found N repairable errors"
//! counts), then, for a data block, again with the round's data blocks that fail their
//! hash as erasures (the kernel's second try, which reaches twice as far). A block is
//! repaired when every one of its bytes decodes and the corrected block hashes to its
//! digest; else it is beyond repair (its children, for a hash block, cannot be checked).
//! Nothing is written: the corrections live in memory.

use std::collections::HashMap;

use super::decode::{decode_round, read_covered, DecodedRound, FecSources};
use super::layout::FecLayout;
use crate::disk::source::{read_into, ReadError};
use crate::id::RootHash;
use crate::verity::params::{ParamsError, VerityParams};
use crate::verity::salted::Salted;

/// Which block went bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadBlock {
    /// Data block `index`.
    Data(u64),
    /// Hash block `index` of `level` (0 holds the data digests).
    Hash { level: usize, index: u64 },
}

/// What FEC made of one bad block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadReport {
    pub block: BadBlock,
    /// Device and byte offset, for the message.
    pub device: String,
    pub offset: u64,
    /// Bytes of the block the decoder changed, when it is repaired.
    pub repaired: Option<usize>,
    /// Why it is beyond repair.
    pub why: Option<String>,
}

/// The outcome of the FEC walk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FecVerifyReport {
    pub bad: Vec<BadReport>,
    /// Symbols the decoder located in the rounds it decoded without erasures: what
    /// `veritysetup verify --fec-device` reports as "Found N repairable errors".
    pub symbols: usize,
    /// Blocks repaired only with erasures (the kernel's second try).
    pub with_erasures: usize,
    pub rounds_decoded: usize,
    /// Bytes of covered input read and decoded.
    pub bytes_decoded: u64,
    /// Time spent reading and decoding rounds (not hashing).
    pub decode_time: std::time::Duration,
}

impl FecVerifyReport {
    pub fn repaired(&self) -> usize {
        self.bad.iter().filter(|b| b.repaired.is_some()).count()
    }
    pub fn all_repaired(&self) -> bool {
        self.bad.iter().all(|b| b.repaired.is_some())
    }
}

struct Walk<'a> {
    layout: &'a FecLayout,
    src: &'a FecSources<'a>,
    salted: Salted,
    rounds: HashMap<u64, DecodedRound>,
    report: FecVerifyReport,
}

impl Walk<'_> {
    /// The corrected content of covered block `k`, if FEC repairs it to `digest`: errors
    /// only, then with the erasures `erasures` gives for its round, if any.
    fn repair(
        &mut self,
        k: u64,
        digest: &[u8],
        erasures: Option<&dyn Fn(u64) -> Result<Vec<usize>, ReadError>>,
    ) -> Result<Result<Vec<u8>, String>, ReadError> {
        let first = self.repair_errors_only(k, digest)?;
        let (Err(why), Some(erasures)) = (&first, erasures) else {
            return Ok(first);
        };
        let (round, row) = self.layout.position(k);
        let rows = erasures(round)?;
        if rows.is_empty() {
            return Ok(first);
        }
        let started = std::time::Instant::now();
        let decoded = decode_round(self.layout, self.src, round, &rows)?;
        self.report.decode_time += started.elapsed();
        self.report.bytes_decoded += decoded.rows.len() as u64;
        let bs = self.layout.block_size as usize;
        match decoded.row(row, bs) {
            Some(block) if self.salted.digest(block).as_slice() == digest => {
                self.report.with_erasures += 1;
                Ok(Ok(block.to_vec()))
            }
            _ => Ok(Err(format!(
                "{why}; with the {} data blocks of the round that fail their hash as \
                 erasures, too",
                rows.len()
            ))),
        }
    }

    fn repair_errors_only(
        &mut self,
        k: u64,
        digest: &[u8],
    ) -> Result<Result<Vec<u8>, String>, ReadError> {
        let (round, row) = self.layout.position(k);
        if !self.rounds.contains_key(&round) {
            let started = std::time::Instant::now();
            let decoded = decode_round(self.layout, self.src, round, &[])?;
            self.report.decode_time += started.elapsed();
            self.report.symbols += decoded.symbols;
            self.report.rounds_decoded += 1;
            self.report.bytes_decoded += decoded.rows.len() as u64;
            self.rounds.insert(round, decoded);
        }
        let Some(decoded) = self.rounds.get(&round) else {
            return Ok(Err("internal: round not decoded".into()));
        };
        let bs = self.layout.block_size as usize;
        let Some(block) = decoded.row(row, bs) else {
            return Ok(Err(format!(
                "{} of the {bs} codewords of FEC round {round} have more errors than {} \
                 parity bytes correct (other blocks of the round are damaged too)",
                decoded.failed, self.layout.roots
            )));
        };
        if self.salted.digest(block).as_slice() != digest {
            return Ok(Err(format!(
                "FEC decoded round {round}, and the result still does not match its digest"
            )));
        }
        Ok(Ok(block.to_vec()))
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        block: BadBlock,
        device: String,
        offset: u64,
        k: Option<u64>,
        digest: &[u8],
        content: &[u8],
        erasures: Option<&dyn Fn(u64) -> Result<Vec<usize>, ReadError>>,
    ) -> Result<Option<Vec<u8>>, ReadError> {
        let outcome = match k {
            Some(k) => self.repair(k, digest, erasures)?,
            None => Err("FEC does not cover it".to_string()),
        };
        let (repaired, why, fixed) = match outcome {
            Ok(fixed) => {
                let changed = fixed.iter().zip(content).filter(|(a, b)| a != b).count();
                (Some(changed), None, Some(fixed))
            }
            Err(why) => (None, Some(why), None),
        };
        self.report.bad.push(BadReport {
            block,
            device,
            offset,
            repaired,
            why,
        });
        Ok(fixed)
    }
}

/// Walks the whole tree and the data, decoding what does not match with FEC.
pub fn verify_with_fec(
    params: &VerityParams,
    layout: &FecLayout,
    src: &FecSources<'_>,
    root: &RootHash,
) -> Result<FecVerifyReport, ReadError> {
    let tree = params.layout().ok_or_else(|| ReadError {
        source: src.hash.name().to_string(),
        offset: 0,
        len: 0,
        cause: ParamsError::TreeTooLarge.to_string(),
    })?;
    let mut walk = Walk {
        layout,
        src,
        salted: Salted::new(params.algorithm, &params.salt),
        rounds: HashMap::new(),
        report: FecVerifyReport::default(),
    };
    let hbs = params.hash_block_size as usize;
    let dbs = params.data_block_size as usize;
    let digest_len = params.algorithm.digest_len();
    let hash_offset = |block: u64| block.saturating_mul(hbs as u64);
    // Trusted hash blocks of the level above, in order; starts with the top block checked
    // against the root hash.
    let Some(top) = tree.levels.last() else {
        // One data block: its digest is the root hash.
        let mut block = vec![0u8; dbs];
        read_into(src.data, 0, &mut block)?;
        if walk.salted.digest(&block).as_slice() != root.0.as_slice() {
            walk.record(
                BadBlock::Data(0),
                src.data.name().to_string(),
                0,
                Some(0),
                &root.0,
                &block,
                None,
            )?;
        }
        return Ok(walk.report);
    };
    let top_level = tree.levels.len() - 1;
    let mut block = vec![0u8; hbs];
    read_into(src.hash, hash_offset(top.first_block), &mut block)?;
    let mut trusted: Vec<Option<Vec<u8>>> = Vec::new();
    if walk.salted.digest(&block).as_slice() == root.0.as_slice() {
        trusted.push(Some(block));
    } else {
        let fixed = walk.record(
            BadBlock::Hash {
                level: top_level,
                index: 0,
            },
            src.hash.name().to_string(),
            hash_offset(top.first_block),
            layout.covered_hash_block(top.first_block),
            &root.0,
            &block,
            None,
        )?;
        trusted.push(fixed);
    }
    let per = tree.hash_per_block;
    let salted = walk.salted.clone();
    for level in (0..tree.levels.len()).rev() {
        // The kernel's erasures for a round: its data blocks that fail their hash (level
        // 0's digests, trusted by now), up to roots + 1 (more than roots: no decoding).
        let trusted_now = &trusted;
        let erasures_of = |round: u64| -> Result<Vec<usize>, ReadError> {
            let mut rows = Vec::new();
            let mut buf = vec![0u8; dbs];
            for row in 0..layout.rsn() {
                let k = layout.block_at(round, row);
                if k >= params.data_blocks {
                    continue;
                }
                let Some(Some(parent)) = trusted_now.get((k / per) as usize) else {
                    continue;
                };
                let slot = (k % per) as usize * tree.slot_size;
                let want = parent.get(slot..slot + digest_len).unwrap_or(&[]);
                read_into(src.data, k.saturating_mul(dbs as u64), &mut buf)?;
                if salted.digest(&buf).as_slice() != want {
                    rows.push(row as usize);
                    if rows.len() > layout.roots as usize {
                        break;
                    }
                }
            }
            Ok(rows)
        };
        let erasures: Option<&dyn Fn(u64) -> Result<Vec<usize>, ReadError>> =
            if level == 0 { Some(&erasures_of) } else { None };
        let (count, child_size) = match level.checked_sub(1) {
            None => (params.data_blocks, dbs),
            Some(below) => (tree.levels[below].blocks, hbs),
        };
        let mut next: Vec<Option<Vec<u8>>> = Vec::new();
        let mut child = vec![0u8; child_size];
        for c in 0..count {
            let parent = trusted.get((c / per) as usize).and_then(|p| p.as_ref());
            let Some(parent) = parent else {
                // The parent is beyond repair: nothing below it can be trusted.
                if level > 0 {
                    next.push(None);
                }
                continue;
            };
            let slot = (c % per) as usize * tree.slot_size;
            let digest = parent.get(slot..slot + digest_len).unwrap_or(&[]).to_vec();
            let (block, device, offset, k) = match level.checked_sub(1) {
                None => {
                    let k = c;
                    let off = c.saturating_mul(dbs as u64);
                    (BadBlock::Data(c), src.data.name(), off, Some(k))
                }
                Some(below) => {
                    let h = tree.levels[below].first_block.saturating_add(c);
                    (
                        BadBlock::Hash {
                            level: below,
                            index: c,
                        },
                        src.hash.name(),
                        hash_offset(h),
                        layout.covered_hash_block(h),
                    )
                }
            };
            match k {
                Some(k) => read_covered(layout, src, k, &mut child)?,
                None if level == 0 => read_into(src.data, offset, &mut child)?,
                None => read_into(src.hash, offset, &mut child)?,
            }
            let good = walk.salted.digest(&child).as_slice() == digest.as_slice();
            let content = if good {
                Some(child.clone())
            } else {
                walk.record(
                    block,
                    device.to_string(),
                    offset,
                    k,
                    &digest,
                    &child,
                    erasures,
                )?
            };
            if level > 0 {
                next.push(content);
            }
        }
        trusted = next;
    }
    Ok(walk.report)
}
