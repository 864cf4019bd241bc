//! Where the sectors of a volume live: a logical volume's segments, a partition, or a
//! slice of either, as a list of extents over physical sources.
//!
//! A `Layout` covers `0 .. len` contiguously. Each extent is linear (one source at an
//! offset) or striped like dm-stripe: logical sector `s` of the extent is chunk
//! `c = s / chunk`, on stripe `c % n`, at `stripe_offset + (c / n) * chunk + s % chunk`.
//! The same layout gives the dm table (through `table`) and reads the bytes in user
//! space (through `LayoutReader`, in `layout_reader.rs`), so the dry run reads exactly what
//! the boot maps.

use std::fmt;

use crate::dm_table::{DevRef, TableLine, Target};
use crate::units::Sectors;

/// Index of a physical source (a device or image file) in the scan's device list.
pub type SourceId = usize;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mapping {
    Linear {
        source: SourceId,
        offset: Sectors,
    },
    Striped {
        chunk: Sectors,
        stripes: Vec<(SourceId, Sectors)>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extent {
    pub start: Sectors,
    pub len: Sectors,
    pub mapping: Mapping,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub extents: Vec<Extent>,
}

/// A slice that does not fit the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceError {
    pub start: Sectors,
    pub len: Sectors,
    pub layout_len: Sectors,
}

impl fmt::Display for SliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sectors {}..+{} lie outside the volume ({} sectors)",
            self.start, self.len, self.layout_len
        )
    }
}

impl std::error::Error for SliceError {}

impl Layout {
    /// One linear extent: a whole device or a partition of it.
    pub fn linear(source: SourceId, offset: Sectors, len: Sectors) -> Layout {
        Layout {
            extents: vec![Extent {
                start: Sectors(0),
                len,
                mapping: Mapping::Linear { source, offset },
            }],
        }
    }

    pub fn len(&self) -> Sectors {
        self.extents
            .last()
            .map_or(Sectors(0), |e| Sectors(e.start.0.saturating_add(e.len.0)))
    }

    pub fn is_empty(&self) -> bool {
        self.len().0 == 0
    }

    /// Every source this layout touches, each once, in order of first use.
    pub fn sources(&self) -> Vec<SourceId> {
        let mut out = Vec::new();
        for e in &self.extents {
            let ids: Vec<SourceId> = match &e.mapping {
                Mapping::Linear { source, .. } => vec![*source],
                Mapping::Striped { stripes, .. } => stripes.iter().map(|s| s.0).collect(),
            };
            for id in ids {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// The sectors `start .. start + len` as a layout of their own, starting at 0.
    /// A striped extent cut off a stripe row keeps a striped target for the whole rows
    /// and maps the partial rows at either end chunk by chunk, as linear targets: the
    /// kernel's striped target needs a length that is a multiple of the row.
    pub fn slice(&self, start: Sectors, len: Sectors) -> Result<Layout, SliceError> {
        let end = start.0.checked_add(len.0).filter(|&e| e <= self.len().0);
        let end = end.ok_or(SliceError {
            start,
            len,
            layout_len: self.len(),
        })?;
        let mut out = Layout::default();
        for e in &self.extents {
            let (e_start, e_end) = (e.start.0, e.start.0.saturating_add(e.len.0));
            let (from, to) = (start.0.max(e_start), end.min(e_end));
            if from >= to {
                continue;
            }
            out.push_part(&e.mapping, from - e_start, to - from);
        }
        Ok(out)
    }

    /// Appends `len` sectors of `mapping` starting `skip` sectors into it.
    fn push_part(&mut self, mapping: &Mapping, skip: u64, len: u64) {
        match mapping {
            Mapping::Linear { source, offset } => self.push(
                Sectors(len),
                Mapping::Linear {
                    source: *source,
                    offset: Sectors(offset.0.saturating_add(skip)),
                },
            ),
            Mapping::Striped { chunk, stripes } => {
                let (chunk, n) = (chunk.0.max(1), stripes.len() as u64);
                if n == 0 {
                    return;
                }
                let row = chunk.saturating_mul(n);
                let (mut pos, end) = (skip, skip.saturating_add(len));
                while pos < end {
                    if pos % row == 0 && end - pos >= row {
                        let rows = (end - pos) / row;
                        let first_row = pos / row;
                        self.push(
                            Sectors(rows.saturating_mul(row)),
                            Mapping::Striped {
                                chunk: Sectors(chunk),
                                stripes: stripes
                                    .iter()
                                    .map(|(s, o)| {
                                        (
                                            *s,
                                            Sectors(
                                                o.0.saturating_add(first_row.saturating_mul(chunk)),
                                            ),
                                        )
                                    })
                                    .collect(),
                            },
                        );
                        pos = pos.saturating_add(rows.saturating_mul(row));
                        continue;
                    }
                    let c = pos / chunk;
                    let Some(&(source, base)) = stripes.get((c % n) as usize) else {
                        return;
                    };
                    let piece = (chunk - pos % chunk).min(end - pos);
                    self.push(
                        Sectors(piece),
                        Mapping::Linear {
                            source,
                            offset: Sectors(stripe_offset(base.0, c / n, chunk, pos % chunk)),
                        },
                    );
                    pos += piece;
                }
            }
        }
    }

    /// Appends an extent, merging it into the previous one when both are linear and
    /// physically contiguous.
    fn push(&mut self, len: Sectors, mapping: Mapping) {
        let start = self.len();
        if let (
            Some(Extent {
                len: last_len,
                mapping:
                    Mapping::Linear {
                        source: last_src,
                        offset: last_off,
                    },
                ..
            }),
            Mapping::Linear { source, offset },
        ) = (self.extents.last_mut(), &mapping)
        {
            if *last_src == *source && last_off.0.checked_add(last_len.0) == Some(offset.0) {
                last_len.0 = last_len.0.saturating_add(len.0);
                return;
            }
        }
        self.extents.push(Extent {
            start,
            len,
            mapping,
        });
    }

    /// The dm table lines for this layout, naming each source as `dev_ref` says.
    pub fn table(&self, dev_ref: &dyn Fn(SourceId) -> DevRef) -> Vec<TableLine> {
        self.extents
            .iter()
            .map(|e| TableLine {
                start: e.start,
                len: e.len,
                target: match &e.mapping {
                    Mapping::Linear { source, offset } => Target::Linear {
                        dev: dev_ref(*source),
                        offset: *offset,
                    },
                    Mapping::Striped { chunk, stripes } => Target::Striped {
                        chunk: *chunk,
                        stripes: stripes.iter().map(|(s, o)| (dev_ref(*s), *o)).collect(),
                    },
                },
            })
            .collect()
    }
}

/// Where row `row` of a stripe starting at `base` puts sector `within` of its chunk.
/// Saturates: a layout from a hostile disk then points past the device, and the read
/// fails with an error naming it instead of wrapping around.
pub(crate) fn stripe_offset(base: u64, row: u64, chunk: u64, within: u64) -> u64 {
    base.saturating_add(row.saturating_mul(chunk))
        .saturating_add(within)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn name(id: SourceId) -> DevRef {
        DevRef::Name(format!("d{id}"))
    }

    pub(crate) fn striped(n: usize, chunk: u64, len: u64) -> Layout {
        Layout {
            extents: vec![Extent {
                start: Sectors(0),
                len: Sectors(len),
                mapping: Mapping::Striped {
                    chunk: Sectors(chunk),
                    stripes: (0..n).map(|i| (i, Sectors(100))).collect(),
                },
            }],
        }
    }

    fn lines(l: &Layout) -> Vec<String> {
        l.table(&name).iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn linear_slices_merge() {
        let mut l = Layout::default();
        l.push(
            Sectors(8),
            Mapping::Linear {
                source: 0,
                offset: Sectors(2048),
            },
        );
        l.push(
            Sectors(8),
            Mapping::Linear {
                source: 0,
                offset: Sectors(2056),
            },
        );
        l.push(
            Sectors(8),
            Mapping::Linear {
                source: 1,
                offset: Sectors(0),
            },
        );
        assert_eq!(lines(&l), ["0 16 linear d0 2048", "16 8 linear d1 0"]);
        assert_eq!(
            lines(&l.slice(Sectors(4), Sectors(16)).unwrap()),
            ["0 12 linear d0 2052", "12 4 linear d1 0"]
        );
        assert!(l.slice(Sectors(20), Sectors(5)).is_err());
        assert!(l.slice(Sectors(u64::MAX), Sectors(2)).is_err());
        assert_eq!(l.sources(), [0, 1]);
    }

    #[test]
    fn striped_slices_keep_whole_rows_striped() {
        let l = striped(2, 8, 64);
        // Row aligned: still one striped target, offsets advanced by whole rows.
        assert_eq!(
            lines(&l.slice(Sectors(16), Sectors(32)).unwrap()),
            ["0 32 striped 2 8 d0 108 d1 108"]
        );
        // Off the row: partial chunks become linear pieces around the striped middle.
        assert_eq!(
            lines(&l.slice(Sectors(4), Sectors(40)).unwrap()),
            [
                "0 4 linear d0 104",
                "4 8 linear d1 100",
                "12 16 striped 2 8 d0 108 d1 108",
                "28 8 linear d0 116",
                "36 4 linear d1 116"
            ]
        );
    }
}
