//! LVM on the areas of a scan: each area's PV label and metadata areas, read and
//! checked; one VG's text found on several PVs is parsed once, and the copy with the
//! highest seqno wins (a PV with an older one is a warning). A metadata area that cannot
//! be read (an I/O error, a bad checksum) is a warning naming the copy used instead:
//! each area is read on its own, so one failing region costs only the copy on it. Then where a logical
//! volume's sectors lie on the devices found (`Scan::lv_layout`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::disk::layout::{Extent, Layout, Mapping, SourceId};
use crate::id::LvmId;
use crate::lvm::label::{self, PvLabel};
use crate::lvm::mda;
use crate::lvm::metadata::{self, LogicalVolume, SegmentKind, VolumeGroup};
use crate::scan::Scan;
use crate::units::Sectors;

/// A PV found on an area.
pub struct FoundPv {
    pub area: usize,
    pub label: PvLabel,
    /// The VG this PV's own metadata describes (index into `Scan::vg_copies`).
    pub copy: Option<usize>,
}

/// One assembled volume group.
pub struct Vg {
    pub vg: Arc<VolumeGroup>,
    /// For each entry of `vg.pvs`: the PVs (indexes into `Scan::pvs`) that carry its UUID.
    /// None found: missing. Several: a cloned disk.
    pub pv_found: Vec<Vec<usize>>,
    /// PVs whose own metadata is older than the winning copy.
    pub stale: Vec<(usize, u64)>,
}

impl Vg {
    pub fn missing_pvs(&self) -> Vec<LvmId> {
        self.vg
            .pvs
            .iter()
            .zip(&self.pv_found)
            .filter(|(_, found)| found.is_empty())
            .map(|(pv, _)| pv.id)
            .collect()
    }
}

/// Why a logical volume cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LvError {
    Unsupported {
        lv: String,
        segment: usize,
        kind: String,
    },
    MissingPv {
        lv: String,
        pv: LvmId,
    },
    ClonedPv {
        lv: String,
        pv: LvmId,
        areas: Vec<String>,
    },
    Range {
        lv: String,
        why: String,
    },
}

impl fmt::Display for LvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LvError::Unsupported { lv, segment, kind } => write!(
                f,
                "{lv} segment {segment} has type {kind}: not supported for a root volume \
                 (only linear and striped are); convert it with lvconvert or use another LV"
            ),
            LvError::MissingPv { lv, pv } => write!(
                f,
                "{lv} needs PV {pv}, which is on none of the devices found; \
                 check that the disk is attached (rootdelay= waits longer for it)"
            ),
            LvError::ClonedPv { lv, pv, areas } => write!(
                f,
                "{lv} needs PV {pv}, which is on several devices ({}): a cloned disk? \
                 give one of them a new UUID with pvchange -u and vgimportclone",
                areas.join(", ")
            ),
            LvError::Range { lv, why } => write!(f, "{lv}: {why}"),
        }
    }
}

impl std::error::Error for LvError {}

/// The warning for a metadata area of a PV that could not be read; `used`: the VG and
/// the offset of the area on the same PV whose copy was used instead, if one was.
fn mda_warning(e: &mda::MdaError, used: Option<(&str, u64)>) -> String {
    let dev = &e.device;
    let failing = match e.problem {
        mda::MdaProblem::Read(_) => " (the device failed to read there: it may be failing)",
        _ => "",
    };
    match used {
        Some((vg, offset)) => format!(
            "{e}{failing}; using the copy of VG {vg} in the metadata area at offset {offset} \
             of {dev} instead. verinit never writes to a disk: `vgck --updatemetadata {vg}` \
             writes the metadata again"
        ),
        None => format!(
            "{e}{failing}; no other metadata area of this PV could be read, so its VG must \
             come from another PV. verinit never writes to a disk: `pvck --dump headers \
             {dev}` shows the damage"
        ),
    }
}

impl Scan {
    pub(super) fn find_pvs(&mut self) {
        // One VG text usually sits on every PV of the VG: parse each distinct text once.
        let mut parsed: HashMap<(u32, usize), Option<usize>> = HashMap::new();
        // The texts whose checksum matched, so that copies of them need no CRC (mda.rs).
        let mut checked: Vec<mda::MetadataText> = Vec::new();
        for a in 0..self.areas.len() {
            let Some(reader) = self.area_reader(&self.areas[a]) else {
                continue;
            };
            let label = match label::read_label(reader.as_ref()) {
                Ok(Some(label)) => label,
                Ok(None) => continue,
                Err(e) => {
                    self.warnings.push(e.to_string());
                    continue;
                }
            };
            // The copy used (index into vg_copies) and its area's offset; the areas that
            // could not be read.
            let mut best: Option<(usize, u64)> = None;
            let mut failed = Vec::new();
            for area in &label.metadata_areas {
                let text = match mda::read_metadata_area_after(reader.as_ref(), area, &checked) {
                    Ok(Some(text)) => text,
                    Ok(None) => continue,
                    Err(e) => {
                        failed.push(e);
                        continue;
                    }
                };
                let key = (text.checksum, text.text.len());
                let copy = match parsed.get(&key) {
                    Some(copy) => *copy,
                    None => {
                        let copy = match metadata::volume_group(&text.text) {
                            Ok(vg) => {
                                self.vg_copies.push(Arc::new(vg));
                                Some(self.vg_copies.len() - 1)
                            }
                            Err(e) => {
                                self.warnings.push(format!(
                                    "bad LVM metadata on {} at offset {}: {e}",
                                    reader.name(),
                                    text.text_offset.0
                                ));
                                None
                            }
                        };
                        parsed.insert(key, copy);
                        copy
                    }
                };
                if !checked
                    .iter()
                    .any(|k| k.checksum == text.checksum && k.size == text.size)
                {
                    checked.push(text);
                }
                if let Some(c) = copy {
                    let newer =
                        best.is_none_or(|(b, _)| self.vg_copies[c].seqno > self.vg_copies[b].seqno);
                    if newer {
                        best = Some((c, area.offset.0));
                    }
                }
            }
            let used = best.map(|(c, offset)| (self.vg_copies[c].name.as_str(), offset));
            for e in &failed {
                self.warnings.push(mda_warning(e, used));
            }
            self.pvs.push(FoundPv {
                area: a,
                label,
                copy: best.map(|(c, _)| c),
            });
        }
    }

    pub(super) fn assemble_vgs(&mut self) {
        // The newest copy of each VG (by VG id) wins.
        let mut newest: Vec<usize> = Vec::new();
        for pv in &self.pvs {
            let Some(c) = pv.copy else { continue };
            let vg = &self.vg_copies[c];
            match newest.iter_mut().find(|n| self.vg_copies[**n].id == vg.id) {
                Some(n) if self.vg_copies[*n].seqno < vg.seqno => *n = c,
                Some(_) => {}
                None => newest.push(c),
            }
        }
        for c in newest {
            let vg = self.vg_copies[c].clone();
            let pv_found = vg
                .pvs
                .iter()
                .map(|entry| {
                    (0..self.pvs.len())
                        .filter(|&p| self.pvs[p].label.pv_uuid == entry.id)
                        .collect()
                })
                .collect();
            let mut stale = Vec::new();
            for (p, pv) in self.pvs.iter().enumerate() {
                if let Some(own) = pv.copy {
                    let own = &self.vg_copies[own];
                    if own.id == vg.id && own.seqno < vg.seqno {
                        stale.push((p, own.seqno));
                        self.warnings.push(format!(
                            "PV {} on {} has old metadata of VG {} (seqno {} < {}): using the newer copy; \
                             'vgck --updatemetadata {}' repairs it",
                            pv.label.pv_uuid,
                            self.areas[pv.area].name,
                            vg.name,
                            own.seqno,
                            vg.seqno,
                            vg.name
                        ));
                    }
                }
            }
            self.vgs.push(Vg {
                vg,
                pv_found,
                stale,
            });
        }
        self.vgs
            .sort_by(|a, b| a.vg.name.cmp(&b.vg.name).then(a.vg.id.cmp(&b.vg.id)));
    }

    /// The layout of a logical volume on the devices found.
    pub fn lv_layout(&self, vg: &Vg, lv: &LogicalVolume) -> Result<Layout, LvError> {
        let name = format!("{}/{}", vg.vg.name, lv.name);
        let es = vg.vg.extent_size.0;
        let range = |why: String| LvError::Range {
            lv: name.clone(),
            why,
        };
        // Where physical extent `pe` of the VG's PV number `pv` starts.
        // Where extents `pe .. pe + count` of the VG's PV number `pv` start; they must lie
        // inside the device the PV was found on, whatever the metadata says its size is.
        let pv_sector = |pv: usize, pe: u64, count: u64| -> Result<(SourceId, Sectors), LvError> {
            let entry = vg.vg.pvs.get(pv).ok_or_else(|| {
                range(format!(
                    "segment names PV #{pv}, which the VG does not list"
                ))
            })?;
            let found = vg.pv_found.get(pv).map(Vec::as_slice).unwrap_or(&[]);
            let p = match found {
                [] => {
                    return Err(LvError::MissingPv {
                        lv: name.clone(),
                        pv: entry.id,
                    })
                }
                [p] => *p,
                many => {
                    return Err(LvError::ClonedPv {
                        lv: name.clone(),
                        pv: entry.id,
                        areas: many
                            .iter()
                            .map(|&p| self.areas[self.pvs[p].area].name.clone())
                            .collect(),
                    })
                }
            };
            let area = &self.areas[self.pvs[p].area];
            let within = pe
                .checked_mul(es)
                .and_then(|s| s.checked_add(entry.pe_start.0))
                .ok_or_else(|| range(format!("extent {pe} overflows")))?;
            let end = pe
                .checked_add(count)
                .and_then(|e| e.checked_mul(es))
                .and_then(|s| s.checked_add(entry.pe_start.0));
            if end.is_none_or(|end| end > area.len.0) {
                return Err(range(format!(
                    "extents {pe}..{} of PV {} lie beyond the end of {} ({} sectors): the \
                     metadata does not fit the device (a truncated image, or the wrong disk)",
                    pe.saturating_add(count),
                    entry.id,
                    area.name,
                    area.len.0
                )));
            }
            let offset = within
                .checked_add(area.start.0)
                .ok_or_else(|| range(format!("extent {pe} overflows")))?;
            Ok((area.source, Sectors(offset)))
        };
        let mut extents = Vec::with_capacity(lv.segments.len());
        for (i, seg) in lv.segments.iter().enumerate() {
            let start = seg.start_extent.checked_mul(es);
            let len = seg.extent_count.checked_mul(es);
            let (Some(start), Some(len)) = (start, len) else {
                return Err(range(format!("segment {i} overflows")));
            };
            let mapping = match &seg.kind {
                SegmentKind::Unsupported { type_name } => {
                    return Err(LvError::Unsupported {
                        lv: name.clone(),
                        segment: i + 1,
                        kind: type_name.clone(),
                    })
                }
                SegmentKind::Striped {
                    stripe_size,
                    stripes,
                } => match stripes.as_slice() {
                    [one] => {
                        let (source, offset) =
                            pv_sector(one.pv, one.start_extent, seg.extent_count)?;
                        Mapping::Linear { source, offset }
                    }
                    many => {
                        // Each stripe holds an equal share of the segment's extents.
                        let share = seg.extent_count / (many.len() as u64).max(1);
                        Mapping::Striped {
                            chunk: *stripe_size,
                            stripes: many
                                .iter()
                                .map(|s| pv_sector(s.pv, s.start_extent, share))
                                .collect::<Result<_, _>>()?,
                        }
                    }
                },
            };
            extents.push(Extent {
                start: Sectors(start),
                len: Sectors(len),
                mapping,
            });
        }
        Ok(Layout { extents })
    }
}
