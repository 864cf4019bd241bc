//! Recomputes a dm-verity hash tree (format 1) in user space and compares it with the one
//! on disk, as `veritysetup verify` does, hashing the data on several threads.
//!
//! digest(block) = H(salt || block). Level 0 holds the digests of the data blocks, level
//! i+1 those of level i's hash blocks; each digest sits in a slot (digest, then zeros) and
//! the unused tail of a hash block is zero. The root hash is the digest of the single
//! top-level block, or of the only data block when there is one. Checking goes top-down,
//! the order in which the kernel trusts: the root, each level against the one above, then
//! the data. A stored digest is trusted before it is used, so a corrupted block is named
//! where it is, not as a mismatch one level up.

use std::fmt;
use std::sync::atomic::AtomicU64;

use super::level_check::{level_check, offset_of, thread_died, Problem, Progress, CHUNK};
use super::params::{ParamsError, TreeLayout, VerityParams};
use super::salted::{pack_digests, Salted};
use crate::disk::source::{read_into, ReadAt, ReadError};
use crate::id::RootHash;

/// What a successful verification covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub root_hash: RootHash,
    pub levels: usize,
    pub data_blocks: u64,
    pub hash_blocks: u64,
    /// Bytes hashed: data area plus tree.
    pub bytes_hashed: u64,
}

/// Why verification failed. Levels count from 0, the level holding the data digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    Params(ParamsError),
    Read(ReadError),
    RootMismatch {
        device: String,
        expected: RootHash,
        computed: RootHash,
    },
    HashBlock {
        device: String,
        level: usize,
        index: u64,
        offset: u64,
        cause: String,
    },
    DataBlock {
        device: String,
        index: u64,
        offset: u64,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Params(e) => write!(f, "cannot verify: {e}"),
            VerifyError::Read(e) => write!(f, "cannot verify: {e}"),
            VerifyError::RootMismatch {
                device,
                expected,
                computed,
            } => write!(
                f,
                "the verity tree on {device} has root hash {computed}, not the expected \
                 {expected}: the root hash belongs to another image, or the hash offset, \
                 block sizes or salt are wrong"
            ),
            VerifyError::HashBlock {
                device,
                level,
                index,
                offset,
                cause,
            } => write!(
                f,
                "verity hash block {index} of level {level} on {device} at offset {offset}: \
                 {cause}: the hash tree is corrupted"
            ),
            VerifyError::DataBlock {
                device,
                index,
                offset,
            } => write!(
                f,
                "data block {index} on {device} at offset {offset} is corrupted: it does not \
                 match its digest in the verity tree (the data changed after the tree was made)"
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<ParamsError> for VerifyError {
    fn from(e: ParamsError) -> Self {
        VerifyError::Params(e)
    }
}

impl From<ReadError> for VerifyError {
    fn from(e: ReadError) -> Self {
        VerifyError::Read(e)
    }
}

/// Verifies the whole tree and every data block against `root`. `data` and `hash` may be
/// the same source (tree appended to the data). Progress reports (done, total) bytes.
pub fn verify(
    data: &dyn ReadAt,
    hash: &dyn ReadAt,
    params: &VerityParams,
    root: &RootHash,
    threads: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<VerifyReport, VerifyError> {
    params.check_sources(root, data, hash)?;
    let layout = params.layout().ok_or(ParamsError::TreeTooLarge)?;
    let salted = Salted::new(params.algorithm, &params.salt);
    let hbs = params.hash_block_size as usize;
    let data_len = params.data_area_len().ok_or(ParamsError::TreeTooLarge)?;
    let tree_len = layout.total_blocks().saturating_mul(hbs as u64);
    let progress = Progress {
        done: AtomicU64::new(0),
        total: data_len.saturating_add(tree_len),
        report: progress,
    };

    let (computed, top_len) = check_top(data, hash, params, &layout, &salted, root)?;
    progress.add(top_len as u64);

    for level in (0..layout.levels.len()).rev() {
        let check =
            level_check(params, &layout, data, hash, level).ok_or(ParamsError::TreeTooLarge)?;
        let found = check.run_parallel(threads, &salted, &progress)?;
        let hash_block =
            |level: usize, index: u64, offset: u64, cause: &str| VerifyError::HashBlock {
                device: hash.name().to_string(),
                level,
                index,
                offset,
                cause: cause.to_string(),
            };
        match found {
            None => {}
            Some(Problem::Spare(p)) => {
                return Err(hash_block(
                    level,
                    p,
                    check.parent_offset(p),
                    "bytes after the digests are not zero",
                ))
            }
            Some(Problem::Child(c)) if level == 0 => {
                return Err(VerifyError::DataBlock {
                    device: data.name().to_string(),
                    index: c,
                    offset: check.child_offset(c),
                })
            }
            Some(Problem::Child(c)) => {
                let cause = format!("its digest differs from the one stored in level {level}");
                return Err(hash_block(level - 1, c, check.child_offset(c), &cause));
            }
        }
    }
    (progress.report)(progress.total, progress.total);
    Ok(VerifyReport {
        root_hash: computed,
        levels: layout.levels.len(),
        data_blocks: params.data_blocks,
        hash_blocks: layout.total_blocks(),
        bytes_hashed: progress.total,
    })
}

/// Checks the one thing a root hash covers directly, in one block read: the digest of the
/// top hash block (or of the only data block). Cheap enough for every boot; it catches a
/// root hash that belongs to another image before anything is mounted. The rest of the
/// tree is checked by the kernel on each read, or by [`verify`].
pub fn check_root(
    data: &dyn ReadAt,
    hash: &dyn ReadAt,
    params: &VerityParams,
    root: &RootHash,
) -> Result<(), VerifyError> {
    params.check_sources(root, data, hash)?;
    let layout = params.layout().ok_or(ParamsError::TreeTooLarge)?;
    let salted = Salted::new(params.algorithm, &params.salt);
    check_top(data, hash, params, &layout, &salted, root)?;
    Ok(())
}

/// Checks that the digest of the top block (or of the only data block) is `root`; returns
/// it and that block's length.
fn check_top(
    data: &dyn ReadAt,
    hash: &dyn ReadAt,
    params: &VerityParams,
    layout: &TreeLayout,
    salted: &Salted,
    root: &RootHash,
) -> Result<(RootHash, usize), VerifyError> {
    let hbs = params.hash_block_size as usize;
    let (top_src, top_offset, top_len) = match layout.levels.last() {
        Some(top) => (
            hash,
            offset_of(0, top.first_block, hbs).unwrap_or(u64::MAX),
            hbs,
        ),
        None => (data, 0, params.data_block_size as usize),
    };
    let mut top = vec![0u8; top_len];
    read_into(top_src, top_offset, &mut top)?;
    let computed = RootHash(salted.digest(&top).as_slice().to_vec());
    if &computed != root {
        return Err(VerifyError::RootMismatch {
            device: top_src.name().to_string(),
            expected: root.clone(),
            computed,
        });
    }
    Ok((computed, top_len))
}

/// Computes the root hash of `data` alone, as `veritysetup format` would, holding one
/// level of the tree in memory (about 1/128 of the data).
pub fn compute_root_hash(
    data: &dyn ReadAt,
    params: &VerityParams,
    threads: usize,
) -> Result<RootHash, VerifyError> {
    let digest_len = params.algorithm.digest_len();
    params.check(&RootHash(vec![0; digest_len]), data.len(), u64::MAX)?;
    let layout = params.layout().ok_or(ParamsError::TreeTooLarge)?;
    let salted = Salted::new(params.algorithm, &params.salt);
    let dbs = params.data_block_size as usize;
    let hbs = params.hash_block_size as usize;
    let Some(level0) = layout.levels.first() else {
        let mut block = vec![0u8; dbs];
        read_into(data, 0, &mut block)?;
        return Ok(RootHash(salted.digest(&block).as_slice().to_vec()));
    };
    let per_block = layout.hash_per_block as usize;
    let mut level = vec![0u8; (level0.blocks as usize).saturating_mul(hbs)];
    // Level 0: each thread hashes a contiguous run of data blocks into its own hash blocks.
    let threads = threads.max(1);
    let blocks_per_thread = (level0.blocks as usize).div_ceil(threads).max(1);
    let results: Vec<Result<(), ReadError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = level
            .chunks_mut(blocks_per_thread * hbs)
            .enumerate()
            .map(|(t, out)| {
                let salted = salted.clone();
                scope.spawn(move || {
                    let first = (t * blocks_per_thread * per_block) as u64;
                    let count = (out.len() / hbs * per_block) as u64;
                    let count = count.min(params.data_blocks.saturating_sub(first));
                    let per_read = (CHUNK / dbs).max(1) as u64;
                    let mut buf = Vec::new();
                    let mut done = 0u64;
                    while done < count {
                        let m = per_read.min(count - done);
                        buf.resize(m as usize * dbs, 0);
                        let offset = offset_of(0, first + done, dbs).unwrap_or(u64::MAX);
                        read_into(data, offset, &mut buf)?;
                        let at = done as usize * layout.slot_size;
                        let dst = out.get_mut(at..).unwrap_or(&mut []);
                        pack_digests(buf.chunks_exact(dbs), dst, layout.slot_size, &salted);
                        done += m;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err(thread_died(data))))
            .collect()
    });
    for r in results {
        r?;
    }
    while level.len() > hbs {
        let blocks = level.len() / hbs;
        let mut above = vec![0u8; blocks.div_ceil(per_block) * hbs];
        pack_digests(
            level.chunks_exact(hbs),
            &mut above,
            layout.slot_size,
            &salted,
        );
        level = above;
    }
    Ok(RootHash(salted.digest(&level).as_slice().to_vec()))
}
