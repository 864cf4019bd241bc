//! Read-only byte sources: block devices, image files, slices of them, and memory.
//!
//! Every reader in verinit takes a `&dyn ReadAt`, never a path, so that parsers can be
//! tested on bytes and the same code reads a partition, a logical volume or a file.
//! Reads are positional (`pread`), so one source can be shared between threads.
//! Files are only ever opened read-only: verinit never writes to a block device.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A read-only, fixed-size source of bytes.
pub trait ReadAt: Send + Sync {
    /// What a person would call it: `/dev/loop0`, `/dev/vda partition 2`, `vg0/root`.
    fn name(&self) -> &str;
    /// Size in bytes.
    fn len(&self) -> u64;
    /// Fills all of `buf` from byte `offset`. Callers check bounds first (see `read_vec`).
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;

    /// A hint that `[offset, offset + len)` will be read soon: a device starts reading it
    /// now, beside other prefetches, so that the reads that follow wait once for all of
    /// them instead of once each. It reads nothing into the caller and changes no
    /// result: a prefetch that fails only leaves the later read to do the work (and to
    /// report the error). Clamped to the source.
    fn prefetch(&self, _offset: u64, _len: u64) {}

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A read that failed, naming the source, the offset and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub source: String,
    pub offset: u64,
    pub len: u64,
    pub cause: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read {} bytes at offset {} of {}: {}",
            self.len, self.offset, self.source, self.cause
        )
    }
}

impl std::error::Error for ReadError {}

/// What this process has read from files and devices so far: for the boot log's
/// per-phase counts. Relaxed counters; reads from memory are not counted.
pub mod counters {
    use std::sync::atomic::{AtomicU64, Ordering};

    static READS: AtomicU64 = AtomicU64::new(0);
    static BYTES: AtomicU64 = AtomicU64::new(0);
    static PREFETCHES: AtomicU64 = AtomicU64::new(0);

    pub(super) fn read(bytes: usize) {
        READS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(super) fn prefetch() {
        PREFETCHES.fetch_add(1, Ordering::Relaxed);
    }

    /// (pread calls, bytes they asked for, prefetch hints given).
    pub fn get() -> (u64, u64, u64) {
        (
            READS.load(Ordering::Relaxed),
            BYTES.load(Ordering::Relaxed),
            PREFETCHES.load(Ordering::Relaxed),
        )
    }
}

/// Reads `buf.len()` bytes at `offset`, checking first that they lie inside the source.
pub fn read_into(src: &dyn ReadAt, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
    let len = buf.len() as u64;
    let fail = |cause: String| ReadError {
        source: src.name().to_string(),
        offset,
        len,
        cause,
    };
    match offset.checked_add(len) {
        Some(end) if end <= src.len() => {}
        _ => {
            return Err(fail(format!(
                "beyond the end of the device ({} bytes)",
                src.len()
            )))
        }
    }
    src.read_exact_at(offset, buf)
        .map_err(|e| fail(e.to_string()))
}

/// Reads `len` bytes at `offset` into a new buffer. The length is checked against the
/// source's size before anything is allocated, so a size read from a disk cannot make
/// verinit allocate more than the device holds.
pub fn read_vec(src: &dyn ReadAt, offset: u64, len: u64) -> Result<Vec<u8>, ReadError> {
    let in_bounds = offset.checked_add(len).is_some_and(|end| end <= src.len());
    if !in_bounds {
        return Err(ReadError {
            source: src.name().to_string(),
            offset,
            len,
            cause: format!("beyond the end of the device ({} bytes)", src.len()),
        });
    }
    let mut buf = vec![0u8; len as usize];
    read_into(src, offset, &mut buf)?;
    Ok(buf)
}

/// A block device or image file, opened read-only.
pub struct FileSource {
    name: String,
    path: PathBuf,
    file: File,
    len: u64,
}

impl FileSource {
    /// Opens `path` read-only; the size comes from seeking to the end, which works for
    /// block devices and regular files alike.
    pub fn open(path: &Path) -> io::Result<FileSource> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(path)?;
        let len = file.seek(SeekFrom::End(0))?;
        Ok(FileSource {
            name: path.display().to_string(),
            path: path.to_path_buf(),
            file,
            len,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &File {
        &self.file
    }
}

impl ReadAt for FileSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        counters::read(buf.len());
        self.file.read_exact_at(buf, offset)
    }
    fn prefetch(&self, offset: u64, len: u64) {
        use std::os::fd::AsRawFd;
        let len = len.min(self.len.saturating_sub(offset));
        let (Ok(off), Ok(len)) = (i64::try_from(offset), usize::try_from(len)) else {
            return;
        };
        if len == 0 {
            return;
        }
        counters::prefetch();
        // readahead(2) starts the reads into the page cache and returns. Not
        // posix_fadvise: kernels without CONFIG_ADVISE_SYSCALLS (tinyconfig) lack it,
        // while readahead(2) is always built.
        // SAFETY: readahead reads no memory of ours; the fd is open for the call.
        let _ = unsafe { libc::readahead(self.file.as_raw_fd(), off, len) };
    }
}

/// A window `[start, start + len)` of another source, with a name of its own.
pub struct Slice {
    name: String,
    inner: Arc<dyn ReadAt>,
    start: u64,
    len: u64,
}

impl Slice {
    /// The window must lie inside `inner`; `None` when it does not.
    pub fn new(name: String, inner: Arc<dyn ReadAt>, start: u64, len: u64) -> Option<Slice> {
        let end = start.checked_add(len)?;
        (end <= inner.len()).then_some(Slice {
            name,
            inner,
            start,
            len,
        })
    }
}

impl ReadAt for Slice {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|end| end > self.len)
        {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.inner.read_exact_at(self.start + offset, buf)
    }
    fn prefetch(&self, offset: u64, len: u64) {
        if offset < self.len {
            let len = len.min(self.len - offset);
            self.inner.prefetch(self.start + offset, len);
        }
    }
}

/// Bytes in memory: for tests and for fuzzing the readers.
pub struct MemSource {
    name: String,
    bytes: Vec<u8>,
}

impl MemSource {
    pub fn new(name: &str, bytes: Vec<u8>) -> MemSource {
        MemSource {
            name: name.to_string(),
            bytes,
        }
    }
}

impl ReadAt for MemSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start
            .checked_add(buf.len())
            .filter(|&end| end <= self.bytes.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(&self.bytes[start..end]);
        Ok(())
    }
}

/// A source whose reads fail with EIO wherever they touch one of `bad` (byte ranges), as
/// a failing flash region does: for testing that one bad region costs only what is on it.
#[cfg(test)]
pub struct FailingSource {
    pub inner: MemSource,
    pub bad: Vec<std::ops::Range<u64>>,
}

#[cfg(test)]
impl ReadAt for FailingSource {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = offset.saturating_add(buf.len() as u64);
        if self.bad.iter().any(|r| r.start < end && offset < r.end) {
            return Err(io::Error::from_raw_os_error(5));
        }
        self.inner.read_exact_at(offset, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_and_named() {
        let src = MemSource::new("disk", (0..=255u8).collect());
        assert_eq!(
            read_vec(&src, 250, 6).unwrap(),
            vec![250, 251, 252, 253, 254, 255]
        );
        let err = read_vec(&src, 250, 7).unwrap_err();
        assert_eq!(err.source, "disk");
        assert!(err.to_string().contains("offset 250"), "{err}");
        assert!(read_vec(&src, u64::MAX, 2).is_err());
        assert!(read_vec(&src, 0, u64::MAX).is_err());
    }

    #[test]
    fn slices_stay_inside() {
        let inner: Arc<dyn ReadAt> = Arc::new(MemSource::new("disk", (0..100u8).collect()));
        let slice = Slice::new("part".into(), inner.clone(), 10, 20).unwrap();
        assert_eq!(read_vec(&slice, 0, 2).unwrap(), vec![10, 11]);
        assert!(read_vec(&slice, 19, 2).is_err());
        assert!(Slice::new("big".into(), inner.clone(), 90, 11).is_none());
        assert!(Slice::new("wrap".into(), inner, u64::MAX, 2).is_none());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // a list of bad byte ranges
    fn failing_sources_fail_only_where_bad() {
        let src = FailingSource {
            inner: MemSource::new("flash", vec![7; 100]),
            bad: vec![10..20],
        };
        // (offset, len, fails): the edges of the bad range and the near misses beside it.
        for (offset, len, fails) in [(0, 10, false), (0, 11, true), (19, 1, true), (20, 5, false)] {
            let got = read_vec(&src, offset, len);
            assert_eq!(got.is_err(), fails, "{offset}+{len}");
            if let Err(e) = got {
                assert!(e.cause.contains("os error 5"), "{e}");
            }
        }
    }
}
