//! A logical volume and its segments, from its section of the metadata (lvm2
//! `import_vsn1.c` `_read_lvnames` and `_read_segments`, `lib/striped/striped.c`).
//!
//! Rules, each its own error:
//!   - the names are valid lvm2 names; id is an LVM ID; status is an array of strings;
//!   - every subsection is a segment, and there are segment_count of them (at most
//!     `MAX_SEGMENTS`); sorted by start_extent they run from extent 0 with no gap or
//!     overlap, and the LV's size in sectors fits in 64 bits;
//!   - a segment has extent_count > 0 and a type;
//!   - a "striped" segment has 1 to `MAX_STRIPES` stripes, a stripe_size > 0 when there
//!     are several, a stripes array of one "name", extent pair per stripe, and an
//!     extent_count that the stripe count divides; each stripe names a PV of the VG and
//!     its extent_count / stripe_count extents lie inside that PV's pe_count.
//!
//! A striped segment whose stripes are on another LV (pvmove does this) is unsupported,
//! as is every other segment type: kept by name for the planner to report.

use std::collections::{HashMap, HashSet};

use crate::cmdline::VgLv;
use crate::lvm::fields::Fields;
use crate::lvm::metadata::{
    LogicalVolume, MetadataError, MetadataProblem as P, PvEntry, Segment, SegmentKind, StripeArea,
    MAX_SEGMENTS, MAX_STRIPES,
};
use crate::lvm::text::{Section, Value};
use crate::units::Sectors;

const U32_MAX: u64 = u32::MAX as u64;

/// What segments refer to: the VG's PVs by key, its LVs by name, its extent size.
pub(super) struct VgIndex<'a> {
    pvs: &'a [PvEntry],
    by_key: HashMap<&'a str, usize>,
    lv_names: HashSet<&'a str>,
    extent_size: Sectors,
}

impl<'a> VgIndex<'a> {
    pub fn new(
        pvs: &'a [PvEntry],
        extent_size: Sectors,
        lv_names: impl Iterator<Item = &'a str>,
    ) -> VgIndex<'a> {
        VgIndex {
            pvs,
            by_key: pvs
                .iter()
                .enumerate()
                .map(|(i, pv)| (pv.key.as_str(), i))
                .collect(),
            lv_names: lv_names.collect(),
            extent_size,
        }
    }
}

/// Reads and checks LV `name` of VG `vg` from its section.
pub(super) fn read(
    vg: &str,
    name: &str,
    section: &Section<'_>,
    index: &VgIndex,
) -> Result<LogicalVolume, MetadataError> {
    let lv = Fields::new(section, format!("{vg}/logical_volumes/{name}"));
    VgLv::new(vg, name).map_err(|why| lv.fail(P::BadName(why)))?;
    let id = lv.id()?;
    let status = lv.words("status", true)?;
    let visible = status.iter().any(|w| w == "VISIBLE");

    let recorded = lv.u32("segment_count")?;
    let sections: Vec<(&str, &Section<'_>)> = section.sections().collect();
    if sections.len() > MAX_SEGMENTS {
        return Err(lv.fail(P::TooMany {
            what: "segments",
            limit: MAX_SEGMENTS,
        }));
    }
    if recorded != sections.len() as u64 {
        return Err(lv.fail(P::SegmentCount {
            recorded,
            found: sections.len(),
        }));
    }
    let mut segments = Vec::with_capacity(sections.len());
    for (key, section) in sections {
        let fields = Fields::new(section, format!("{}/{key}", lv.path));
        segments.push((key, segment(&fields, index)?));
    }
    segments.sort_by_key(|(_, s)| s.start_extent);

    let mut end = 0u64;
    for (key, s) in &segments {
        if s.start_extent != end {
            return Err(lv.fail(P::SegmentStart {
                segment: key.to_string(),
                start: s.start_extent,
                expected: end,
            }));
        }
        end = end
            .checked_add(s.extent_count)
            .ok_or_else(|| lv.fail(P::LvTooLarge))?;
    }
    index
        .extent_size
        .checked_mul(end)
        .and_then(Sectors::to_bytes)
        .ok_or_else(|| lv.fail(P::LvTooLarge))?;

    Ok(LogicalVolume {
        name: name.to_string(),
        id,
        status,
        visible,
        segments: segments.into_iter().map(|(_, s)| s).collect(),
    })
}

fn segment(seg: &Fields, index: &VgIndex) -> Result<Segment, MetadataError> {
    let start_extent = seg.u32("start_extent")?;
    let extent_count = seg.u32("extent_count")?;
    if extent_count == 0 {
        return Err(seg.fail(P::ZeroExtentCount));
    }
    let type_name = seg.string("type")?;
    let kind = if type_name == "striped" {
        striped(seg, extent_count, index)?
    } else {
        SegmentKind::Unsupported {
            type_name: type_name.to_string(),
        }
    };
    Ok(Segment {
        start_extent,
        extent_count,
        kind,
    })
}

fn striped(seg: &Fields, extent_count: u64, index: &VgIndex) -> Result<SegmentKind, MetadataError> {
    let stripe_count = seg.u32("stripe_count")?;
    if stripe_count == 0 || stripe_count > MAX_STRIPES {
        return Err(seg.fail(P::StripeCount(stripe_count)));
    }
    let stripe_size = if stripe_count == 1 {
        0
    } else {
        match seg.u32("stripe_size")? {
            0 => return Err(seg.fail(P::ZeroStripeSize)),
            size => size,
        }
    };
    let entries = seg.array("stripes")?;
    if entries.len() as u64 != stripe_count * 2 {
        return Err(seg.fail(P::StripesLength {
            stripe_count,
            entries: entries.len(),
        }));
    }
    if extent_count % stripe_count != 0 {
        return Err(seg.fail(P::StripesDoNotDivide {
            extent_count,
            stripe_count,
        }));
    }
    let per_stripe = extent_count / stripe_count;

    let mut stripes = Vec::with_capacity(entries.len() / 2);
    for (stripe, pair) in entries.chunks_exact(2).enumerate() {
        let (name, start) = match pair {
            [Value::Str(name), Value::Int(start)] => (name.as_ref(), *start),
            _ => return Err(seg.fail(P::StripeEntry { stripe })),
        };
        let start_extent = u64::try_from(start)
            .ok()
            .filter(|&s| s <= U32_MAX)
            .ok_or_else(|| {
                seg.fail(P::OutOfRange {
                    key: "stripes",
                    value: start,
                    max: U32_MAX,
                })
            })?;
        let Some((pv, entry)) = index
            .by_key
            .get(name)
            .and_then(|&pv| Some((pv, index.pvs.get(pv)?)))
        else {
            if index.lv_names.contains(name) {
                return Ok(SegmentKind::Unsupported {
                    type_name: format!("striped (on logical volume {name})"),
                });
            }
            return Err(seg.fail(P::UnknownVolume {
                stripe,
                name: name.to_string(),
            }));
        };
        if start_extent + per_stripe > entry.pe_count {
            return Err(seg.fail(P::OutsidePv {
                stripe,
                pv: name.to_string(),
                start: start_extent,
                count: per_stripe,
                pe_count: entry.pe_count,
            }));
        }
        stripes.push(StripeArea { pv, start_extent });
    }
    Ok(SegmentKind::Striped {
        stripe_size: Sectors(stripe_size),
        stripes,
    })
}
