//! Checks one level of a dm-verity tree against the level above it on several threads:
//! each child block (a data block, or a hash block of the level below) must hash to the
//! digest in its slot of a parent hash block, and each parent's spare bytes must be zero.
//! Threads take contiguous runs of parent blocks and read their children in big chunks;
//! the first problem in reading order wins.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::params::{TreeLayout, VerityParams};
use super::salted::Salted;
use crate::disk::source::{read_into, ReadAt, ReadError};

/// Bytes read per request: big enough that syscalls do not matter.
pub(super) const CHUNK: usize = 1 << 20;
/// The progress callback runs at most once per this many bytes.
const PROGRESS_STEP: u64 = 8 << 20;

/// Progress shared by the worker threads.
pub(super) struct Progress<'a> {
    pub(super) done: AtomicU64,
    pub(super) total: u64,
    pub(super) report: &'a (dyn Fn(u64, u64) + Sync),
}

impl Progress<'_> {
    pub(super) fn add(&self, bytes: u64) {
        let before = self.done.fetch_add(bytes, Ordering::Relaxed);
        let after = before.saturating_add(bytes);
        if before / PROGRESS_STEP != after / PROGRESS_STEP {
            (self.report)(after.min(self.total), self.total);
        }
    }
}

/// One level checked against the level above it ("parents").
pub(super) struct LevelCheck<'a> {
    children: &'a dyn ReadAt,
    child_start: u64,
    child_size: usize,
    child_count: u64,
    parents: &'a dyn ReadAt,
    parent_start: u64,
    parent_size: usize,
    per_parent: u64,
    slot: usize,
    digest: usize,
}

/// The first thing found wrong, in reading order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Problem {
    /// This child does not hash to the digest stored for it.
    Child(u64),
    /// This parent block has a non-zero byte where only zeros belong.
    Spare(u64),
}

/// Lets threads stop early: past the first problem found so far, or on a read error.
struct Stop {
    first_bad_parent: AtomicU64,
    aborted: AtomicBool,
}

/// A worker thread that did not return: reported, never taken for success.
pub(super) fn thread_died(src: &dyn ReadAt) -> ReadError {
    ReadError {
        source: src.name().to_string(),
        offset: 0,
        len: 0,
        cause: "a verification thread stopped unexpectedly".to_string(),
    }
}

/// Byte offset of block `index` of `size` bytes from `start`.
pub(super) fn offset_of(start: u64, index: u64, size: usize) -> Option<u64> {
    index.checked_mul(size as u64)?.checked_add(start)
}

// Offsets cannot overflow once `VerityParams::check_sources` has passed; if one did, the
// u64::MAX stand-in makes the read fail with "beyond the end" instead of wrapping.
impl LevelCheck<'_> {
    fn parent_count(&self) -> u64 {
        self.child_count.div_ceil(self.per_parent)
    }

    pub(super) fn child_offset(&self, index: u64) -> u64 {
        offset_of(self.child_start, index, self.child_size).unwrap_or(u64::MAX)
    }

    pub(super) fn parent_offset(&self, index: u64) -> u64 {
        offset_of(self.parent_start, index, self.parent_size).unwrap_or(u64::MAX)
    }

    /// Whether parent `p` is zero outside its used digests: slot padding and the tail.
    fn spare_is_zero(&self, p: u64, block: &[u8]) -> bool {
        let first = p.saturating_mul(self.per_parent);
        let used = self.child_count.saturating_sub(first).min(self.per_parent) as usize;
        let slots_end = used.saturating_mul(self.slot);
        let pads_ok = block
            .chunks(self.slot)
            .take(used)
            .all(|s| s.iter().skip(self.digest).all(|&b| b == 0));
        pads_ok && block.iter().skip(slots_end).all(|&b| b == 0)
    }

    /// Checks parents `range` and their children; `Ok(None)` when all is well or when
    /// another thread already found a problem earlier in the level.
    fn run(
        &self,
        range: std::ops::Range<u64>,
        salted: &Salted,
        stop: &Stop,
        progress: &Progress,
    ) -> Result<Option<Problem>, ReadError> {
        let per_group = self.per_parent.saturating_mul(self.child_size as u64);
        let group = (CHUNK as u64 / per_group.max(1)).max(1);
        let per_read = (CHUNK / self.child_size.max(1)).max(1) as u64;
        let mut parent_buf = Vec::new();
        let mut child_buf = Vec::new();
        let mut p = range.start;
        while p < range.end {
            if stop.aborted.load(Ordering::Relaxed)
                || stop.first_bad_parent.load(Ordering::Relaxed) < p
            {
                return Ok(None);
            }
            let n = group.min(range.end - p);
            parent_buf.resize(n as usize * self.parent_size, 0);
            read_into(self.parents, self.parent_offset(p), &mut parent_buf)?;
            for (k, block) in parent_buf.chunks_exact(self.parent_size).enumerate() {
                let parent = p + k as u64;
                if !self.spare_is_zero(parent, block) {
                    stop.first_bad_parent.fetch_min(parent, Ordering::Relaxed);
                    return Ok(Some(Problem::Spare(parent)));
                }
            }
            let first_child = p.saturating_mul(self.per_parent);
            let end_child = (p + n)
                .saturating_mul(self.per_parent)
                .min(self.child_count);
            let mut c = first_child;
            while c < end_child {
                let m = per_read.min(end_child - c);
                child_buf.resize(m as usize * self.child_size, 0);
                read_into(self.children, self.child_offset(c), &mut child_buf)?;
                for (i, block) in child_buf.chunks_exact(self.child_size).enumerate() {
                    let child = c + i as u64;
                    let at = (child - first_child) as usize * self.slot;
                    let stored = parent_buf.get(at..at + self.digest);
                    if stored != Some(salted.digest(block).as_slice()) {
                        let parent = child / self.per_parent;
                        stop.first_bad_parent.fetch_min(parent, Ordering::Relaxed);
                        return Ok(Some(Problem::Child(child)));
                    }
                }
                progress.add(child_buf.len() as u64);
                c += m;
            }
            p += n;
        }
        Ok(None)
    }

    /// Splits the parents into `threads` contiguous ranges and returns the first problem.
    pub(super) fn run_parallel(
        &self,
        threads: usize,
        salted: &Salted,
        progress: &Progress,
    ) -> Result<Option<Problem>, ReadError> {
        let parents = self.parent_count();
        let threads = (threads.max(1) as u64).min(parents.max(1));
        let per_thread = parents.div_ceil(threads);
        let stop = Stop {
            first_bad_parent: AtomicU64::new(u64::MAX),
            aborted: AtomicBool::new(false),
        };
        let ranges: Vec<_> = (0..threads)
            .map(|t| {
                let start = (t * per_thread).min(parents);
                start..(start + per_thread).min(parents)
            })
            .collect();
        let results: Vec<_> = std::thread::scope(|scope| {
            let workers: Vec<_> = ranges
                .iter()
                .skip(1)
                .map(|range| {
                    let (stop, salted, range) = (&stop, salted.clone(), range.clone());
                    scope.spawn(move || {
                        let r = self.run(range, &salted, stop, progress);
                        if r.is_err() {
                            stop.aborted.store(true, Ordering::Relaxed);
                        }
                        r
                    })
                })
                .collect();
            let first = ranges.first().cloned().unwrap_or(0..0);
            let mut results = vec![self.run(first, salted, &stop, progress)];
            if results.iter().any(|r| r.is_err()) {
                stop.aborted.store(true, Ordering::Relaxed);
            }
            for w in workers {
                results.push(w.join().unwrap_or_else(|_| Err(thread_died(self.children))));
            }
            results
        });
        for r in results {
            if let Some(found) = r? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// The check of `level` (0: data against level 0) of the tree.
pub(super) fn level_check<'a>(
    params: &VerityParams,
    layout: &TreeLayout,
    data: &'a dyn ReadAt,
    hash: &'a dyn ReadAt,
    level: usize,
) -> Option<LevelCheck<'a>> {
    let hbs = params.hash_block_size as usize;
    let parent = layout.levels.get(level)?;
    let (children, child_start, child_size, child_count) = match level.checked_sub(1) {
        None => (data, 0, params.data_block_size as usize, params.data_blocks),
        Some(below) => {
            let l = layout.levels.get(below)?;
            (hash, offset_of(0, l.first_block, hbs)?, hbs, l.blocks)
        }
    };
    Some(LevelCheck {
        children,
        child_start,
        child_size,
        child_count,
        parents: hash,
        parent_start: offset_of(0, parent.first_block, hbs)?,
        parent_size: hbs,
        per_parent: layout.hash_per_block,
        slot: layout.slot_size,
        digest: params.algorithm.digest_len(),
    })
}
