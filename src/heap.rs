//! The binary's global allocator: small blocks from size-class pools that keep what is
//! freed, everything else from the system allocator (musl's mallocng).
//!
//! Why: mallocng gives each small size class its own group of pages, mapped and unmapped
//! as it fills and empties; a dry run over 8 PVs / 200 LVs made ~190 mmap and ~160 munmap
//! calls for it. Here a request of at most `MAX_BLOCK` bytes (alignment included) is
//! rounded up to a power of two from 16 and served from that class's free list, else cut
//! from the class's current slab (`SLAB` bytes from the system allocator, never given
//! back). A freed block goes onto its class's free list. Memory kept is bounded by the
//! peak of each class, and PID 1 ends in exec, which frees it all.
//!
//! One spin lock guards the pools: verinit's threads (the hash tree check) allocate
//! rarely.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

/// The smallest block: room for the free list's link, and malloc's usual alignment.
const MIN_SHIFT: u32 = 4;
/// The largest pooled block; larger requests go to the system allocator.
const MAX_SHIFT: u32 = 12;
pub const MAX_BLOCK: usize = 1 << MAX_SHIFT;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;
/// What a class takes from the system allocator at a time: a whole number of its blocks,
/// aligned to the largest block so that every block is aligned to its own size.
const SLAB: usize = 32 * 1024;

struct Pools {
    /// Each class's free blocks, linked through their first word.
    free: [*mut u8; CLASSES],
    /// Each class's current slab: the next block to cut, and its end.
    next: [*mut u8; CLASSES],
    end: [*mut u8; CLASSES],
}

pub struct PoolAllocator {
    locked: AtomicBool,
    pools: UnsafeCell<Pools>,
}

// SAFETY: `pools` is only touched with `locked` held (see `with_pools`).
unsafe impl Sync for PoolAllocator {}

impl Default for PoolAllocator {
    fn default() -> Self {
        PoolAllocator::new()
    }
}

/// The size class of a layout, or None when it is too big for the pools.
fn class(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align());
    if size > MAX_BLOCK {
        return None;
    }
    let shift = size.next_power_of_two().trailing_zeros().max(MIN_SHIFT);
    Some((shift - MIN_SHIFT) as usize)
}

fn block_size(class: usize) -> usize {
    1 << (class as u32 + MIN_SHIFT)
}

impl PoolAllocator {
    pub const fn new() -> Self {
        PoolAllocator {
            locked: AtomicBool::new(false),
            pools: UnsafeCell::new(Pools {
                free: [ptr::null_mut(); CLASSES],
                next: [ptr::null_mut(); CLASSES],
                end: [ptr::null_mut(); CLASSES],
            }),
        }
    }

    fn with_pools<R>(&self, f: impl FnOnce(&mut Pools) -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference to the pools.
        let r = f(unsafe { &mut *self.pools.get() });
        self.locked.store(false, Ordering::Release);
        r
    }

    /// A block of class `c`, or null when the system allocator has no slab to give.
    fn take(&self, c: usize) -> *mut u8 {
        self.with_pools(|p| {
            let head = p.free[c];
            if !head.is_null() {
                // SAFETY: a free block holds the link to the next one in its first word
                // (written by `give`; blocks are at least 16 bytes and 16-aligned).
                p.free[c] = unsafe { *head.cast::<*mut u8>() };
                return head;
            }
            let size = block_size(c);
            if p.next[c] == p.end[c] {
                // SAFETY: SLAB and MAX_BLOCK are non-zero powers of two.
                let slab =
                    unsafe { System.alloc(Layout::from_size_align_unchecked(SLAB, MAX_BLOCK)) };
                if slab.is_null() {
                    return slab;
                }
                p.next[c] = slab;
                // SAFETY: one past the end of the slab just allocated.
                p.end[c] = unsafe { slab.add(SLAB) };
            }
            let block = p.next[c];
            // SAFETY: SLAB is a multiple of every block size, so the block lies in the slab.
            p.next[c] = unsafe { block.add(size) };
            block
        })
    }

    /// Puts a block of class `c` back on its free list.
    fn give(&self, c: usize, block: *mut u8) {
        self.with_pools(|p| {
            // SAFETY: the block is ours again (dealloc's contract) and big enough for a link.
            unsafe { *block.cast::<*mut u8>() = p.free[c] };
            p.free[c] = block;
        })
    }
}

// SAFETY: a pooled block is `block_size(class)` bytes, at least the layout's size, and
// aligned to its size, at least the layout's alignment (slabs are MAX_BLOCK-aligned and
// cut in whole blocks); a block is handed out once until it is freed. Other layouts are
// the system allocator's, with the same layout in and out.
unsafe impl GlobalAlloc for PoolAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class(layout) {
            Some(c) => self.take(c),
            // SAFETY: the caller's layout, passed on.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class(layout) {
            Some(c) => self.give(c, ptr),
            // SAFETY: it came from System.alloc with this layout (alloc above).
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's alignment, valid already; new_size is valid (realloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            (Some(a), Some(b)) if a == b => ptr,
            // SAFETY: both sides are the system allocator's.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: a fresh block of the new layout; the old one is valid for
                // layout.size() bytes and freed once copied.
                unsafe {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_to_powers_of_two_from_16() {
        let cases = [
            (1, 1, Some(0)),
            (16, 8, Some(0)),
            (17, 8, Some(1)),
            (8, 64, Some(2)),
            (4096, 1, Some(8)),
            (4097, 1, None),
            (16, 8192, None),
        ];
        for (size, align, want) in cases {
            let l = Layout::from_size_align(size, align).unwrap();
            assert_eq!(class(l), want, "size {size} align {align}");
        }
    }

    #[test]
    fn blocks_are_aligned_distinct_and_reused() {
        let a = PoolAllocator::new();
        let mut seen = Vec::new();
        for (size, align) in [
            (1, 1),
            (24, 8),
            (100, 32),
            (3000, 8),
            (8, 4096),
            (10_000, 8),
        ] {
            let l = Layout::from_size_align(size, align).unwrap();
            let blocks: Vec<*mut u8> = (0..40)
                .map(|i| unsafe {
                    let p = a.alloc(l);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    ptr::write_bytes(p, i as u8, size);
                    p
                })
                .collect();
            for (i, &p) in blocks.iter().enumerate() {
                let bytes = unsafe { std::slice::from_raw_parts(p, size) };
                assert!(
                    bytes.iter().all(|&b| b == i as u8),
                    "a block was overwritten"
                );
            }
            seen.push((l, blocks));
        }
        let (l, blocks) = &seen[1];
        let last = *blocks.last().unwrap();
        unsafe { a.dealloc(last, *l) };
        assert_eq!(
            unsafe { a.alloc(*l) },
            last,
            "a freed block is the next one given"
        );
        for (l, blocks) in seen {
            for p in blocks {
                unsafe { a.dealloc(p, l) };
            }
        }
    }

    #[test]
    fn realloc_keeps_the_bytes_across_classes_and_to_the_system() {
        let a = PoolAllocator::new();
        let l = Layout::from_size_align(10, 8).unwrap();
        unsafe {
            let p = a.alloc(l);
            ptr::copy_nonoverlapping(b"0123456789".as_ptr(), p, 10);
            assert_eq!(a.realloc(p, l, 12), p, "same class: same block");
            let mut size = 12;
            let mut p = p;
            for new_size in [100, 4096, 9000, 20_000, 50, 5] {
                p = a.realloc(p, Layout::from_size_align(size, 8).unwrap(), new_size);
                assert!(!p.is_null());
                assert_eq!(std::slice::from_raw_parts(p, 5), b"01234");
                size = new_size;
            }
            a.dealloc(p, Layout::from_size_align(size, 8).unwrap());
        }
    }

    #[test]
    fn threads_share_the_pools() {
        let a = PoolAllocator::new();
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let a = &a;
                s.spawn(move || {
                    let l = Layout::from_size_align(48, 8).unwrap();
                    for _ in 0..1000 {
                        unsafe {
                            let p = a.alloc(l);
                            ptr::write_bytes(p, t, 48);
                            assert!(std::slice::from_raw_parts(p, 48).iter().all(|&b| b == t));
                            a.dealloc(p, l);
                        }
                    }
                });
            }
        });
    }
}
