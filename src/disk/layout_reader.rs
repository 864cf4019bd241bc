//! Reading a layout's bytes in user space: logical sector `s` is found in its extent and,
//! when striped, in its chunk (`c = s / chunk`, on stripe `c % n`, at
//! `stripe_offset + (c / n) * chunk + s % chunk`), and read from that source. The dry run
//! reads a logical volume through this exactly as the boot's dm table maps it.

use std::io;
use std::sync::Arc;

use crate::disk::layout::{stripe_offset, Layout, Mapping, SourceId};
use crate::disk::source::ReadAt;
use crate::units::SECTOR_SIZE;

impl Layout {
    /// Where logical sector `s` lives, and how many sectors from there are contiguous.
    fn locate(&self, s: u64) -> Option<(SourceId, u64, u64)> {
        let i = self
            .extents
            .partition_point(|e| e.start.0.saturating_add(e.len.0) <= s);
        let e = self.extents.get(i)?;
        let rel = s.checked_sub(e.start.0)?;
        let left = e.len.0.checked_sub(rel)?;
        match &e.mapping {
            Mapping::Linear { source, offset } => Some((*source, offset.0.checked_add(rel)?, left)),
            Mapping::Striped { chunk, stripes } => {
                let (chunk, n) = (chunk.0.max(1), stripes.len() as u64);
                let c = rel / chunk;
                let (source, base) = stripes.get(usize::try_from(c.checked_rem(n)?).ok()?)?;
                let run = (chunk - rel % chunk).min(left);
                Some((
                    *source,
                    stripe_offset(base.0, c / n, chunk, rel % chunk),
                    run,
                ))
            }
        }
    }
}

/// Reads a layout's bytes from its sources: a logical volume seen from user space.
pub struct LayoutReader {
    name: String,
    layout: Layout,
    sources: Vec<Arc<dyn ReadAt>>,
    len: u64,
}

impl LayoutReader {
    /// `sources[id]` must be the source for every `SourceId` the layout uses.
    pub fn new(name: String, layout: Layout, sources: Vec<Arc<dyn ReadAt>>) -> LayoutReader {
        let len = layout.len().0.saturating_mul(SECTOR_SIZE);
        LayoutReader {
            name,
            layout,
            sources,
            len,
        }
    }
}

impl ReadAt for LayoutReader {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let eof = || io::Error::from(io::ErrorKind::UnexpectedEof);
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset.checked_add(done as u64).ok_or_else(eof)?;
            let (sector, within) = (pos / SECTOR_SIZE, pos % SECTOR_SIZE);
            let (source, phys, run) = self.layout.locate(sector).ok_or_else(eof)?;
            let src = self.sources.get(source).ok_or_else(eof)?;
            let run_bytes = run.saturating_mul(SECTOR_SIZE) - within;
            let n = (buf.len() - done).min(usize::try_from(run_bytes).unwrap_or(usize::MAX));
            let at = phys
                .checked_mul(SECTOR_SIZE)
                .and_then(|b| b.checked_add(within))
                .ok_or_else(eof)?;
            if at.checked_add(n as u64).is_none_or(|end| end > src.len()) {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "byte {pos} of {} lies at byte {at} of {}, beyond its end ({} bytes): \
                         the device is shorter than the volume (a truncated image?)",
                        self.name,
                        src.name(),
                        src.len()
                    ),
                ));
            }
            src.read_exact_at(at, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
    fn prefetch(&self, offset: u64, len: u64) {
        // Each run of contiguous sectors to its source, as `read_exact_at` maps them.
        let end = offset.saturating_add(len).min(self.len);
        let mut pos = offset;
        while pos < end {
            let (sector, within) = (pos / SECTOR_SIZE, pos % SECTOR_SIZE);
            let Some((source, phys, run)) = self.layout.locate(sector) else {
                return;
            };
            let Some(src) = self.sources.get(source) else {
                return;
            };
            let n = (end - pos).min(run.saturating_mul(SECTOR_SIZE) - within);
            if let Some(at) = phys
                .checked_mul(SECTOR_SIZE)
                .and_then(|b| b.checked_add(within))
            {
                src.prefetch(at, n);
            }
            pos = pos.saturating_add(n.max(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::layout::tests::striped;
    use crate::disk::source::{read_vec, MemSource};
    use crate::units::Sectors;

    #[test]
    fn reader_follows_stripes_and_slices() {
        // Two sources whose byte at sector s, offset i is (source, s) so we can tell.
        let mk = |id: u8| -> Arc<dyn ReadAt> {
            let bytes = (0..400u64 * 512)
                .map(|b| id * 100 + (b / 512 % 97) as u8)
                .collect();
            Arc::new(MemSource::new(&format!("d{id}"), bytes))
        };
        let sources = vec![mk(0), mk(1)];
        let l = striped(2, 8, 64);
        let sliced = l.slice(Sectors(4), Sectors(40)).unwrap();
        for layout in [l.clone(), sliced.clone()] {
            let base = if layout == l { 0 } else { 4 };
            let reader = LayoutReader::new("lv".into(), layout.clone(), sources.clone());
            let all = read_vec(&reader, 0, reader.len()).unwrap();
            for s in 0..layout.len().0 {
                let logical = s + base;
                let c = logical / 8;
                let (src, phys) = ((c % 2) as u8, 100 + (c / 2) * 8 + logical % 8);
                let want = src * 100 + (phys % 97) as u8;
                assert_eq!(all[(s * 512) as usize], want, "sector {s}");
                assert_eq!(all[(s * 512 + 511) as usize], want, "sector {s} end");
            }
            // A read that starts mid-sector and crosses chunks.
            let part = read_vec(&reader, 7 * 512 + 100, 1024).unwrap();
            assert_eq!(part[..412], all[7 * 512 + 100..8 * 512]);
            assert_eq!(part[..], all[7 * 512 + 100..7 * 512 + 1124]);
        }
    }

    /// Records the prefetches it is given.
    struct Recorder {
        name: String,
        len: u64,
        seen: std::sync::Mutex<Vec<(u64, u64)>>,
    }

    impl ReadAt for Recorder {
        fn name(&self) -> &str {
            &self.name
        }
        fn len(&self) -> u64 {
            self.len
        }
        fn read_exact_at(&self, _: u64, _: &mut [u8]) -> std::io::Result<()> {
            Ok(())
        }
        fn prefetch(&self, offset: u64, len: u64) {
            self.seen.lock().unwrap().push((offset, len));
        }
    }

    #[test]
    fn prefetches_map_like_reads() {
        let recorders: Vec<Arc<Recorder>> = (0..2)
            .map(|i| {
                Arc::new(Recorder {
                    name: format!("d{i}"),
                    len: 400 * 512,
                    seen: Default::default(),
                })
            })
            .collect();
        let sources: Vec<Arc<dyn ReadAt>> = recorders
            .iter()
            .map(|r| r.clone() as Arc<dyn ReadAt>)
            .collect();
        // Stripes of 8 sectors over two sources, each from its sector 100.
        let reader = LayoutReader::new("lv".into(), striped(2, 8, 64), sources);
        // Sectors 6..18: 6..8 on d0, 8..16 on d1, 16..18 on d0 again.
        reader.prefetch(6 * 512, 12 * 512);
        let d0 = recorders[0].seen.lock().unwrap().clone();
        let d1 = recorders[1].seen.lock().unwrap().clone();
        assert_eq!(d0, vec![(106 * 512, 2 * 512), (108 * 512, 2 * 512)]);
        assert_eq!(d1, vec![(100 * 512, 8 * 512)]);
        // Past the end: clamped, and nothing at all from beyond it.
        reader.prefetch(reader.len() - 512, 1 << 20);
        reader.prefetch(reader.len() + 512, 512);
        let total: usize = recorders.iter().map(|r| r.seen.lock().unwrap().len()).sum();
        assert_eq!(total, 4);
    }
}
