//! A volume group, from its metadata text (lvm2 `lib/format_text/import_vsn1.c`).
//!
//! Shape of the text (see `text` for the syntax):
//!   VGNAME { id, seqno, status [..], extent_size (sectors),
//!            physical_volumes { pvN { id, device, status [..], flags [..], dev_size,
//!                                     pe_start (sectors), pe_count } }
//!            logical_volumes { LVNAME { id, status [..], segment_count,
//!                                       segmentN { start_extent, extent_count, type,
//!                                                  stripe_count, stripe_size,
//!                                                  stripes ["pvN", extent, ...] } } } }
//!   contents = "Text Format Volume Group", version = 1, description, creation_host, ...
//! Everything the boot relies on is checked here, so that the planner can trust the
//! model: IDs, names, counts, and that every segment and stripe lies where it may. Fields
//! lvm2 reads as 32-bit numbers must fit in 32 bits. Unknown keys and status words are
//! ignored. Logical volumes and their segments are read in `logical_volume`.

use std::collections::HashMap;

use crate::id::LvmId;
use crate::lvm::fields::Fields;
use crate::lvm::logical_volume::{self, VgIndex};
use crate::lvm::text::{self, Section};
use crate::units::Sectors;

pub use crate::lvm::metadata_error::{MetadataError, MetadataProblem};

pub const MAX_PVS: usize = 4096;
pub const MAX_LVS: usize = 65536;
pub const MAX_SEGMENTS: usize = 65536;
pub const MAX_STRIPES: u64 = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeGroup {
    pub name: String,
    pub id: LvmId,
    pub seqno: u64,
    pub extent_size: Sectors,
    pub status: Vec<String>,
    pub pvs: Vec<PvEntry>,
    pub lvs: Vec<LogicalVolume>,
}

/// A physical volume as the VG's metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvEntry {
    /// Its key in the text, "pv0", which segments use to name it.
    pub key: String,
    pub id: LvmId,
    /// The device it was on when the metadata was written: a hint only.
    pub device_hint: Option<String>,
    /// 0 when the text does not say.
    pub dev_size: Sectors,
    pub pe_start: Sectors,
    pub pe_count: u64,
    /// status or flags contain MISSING: lvm2 lost this PV.
    pub missing: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalVolume {
    pub name: String,
    pub id: LvmId,
    pub status: Vec<String>,
    /// status contains VISIBLE; hidden LVs are parts of others (raid images, pool data).
    pub visible: bool,
    /// Sorted, contiguous from extent 0.
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start_extent: u64,
    pub extent_count: u64,
    pub kind: SegmentKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    /// type "striped"; a linear segment is one stripe.
    Striped {
        /// 0 for one stripe.
        stripe_size: Sectors,
        stripes: Vec<StripeArea>,
    },
    /// Any other type (mirror, raid1, thin, cache, error, ...), or a striped segment over
    /// another LV (as during pvmove): kept so the planner can name it.
    Unsupported { type_name: String },
}

/// Where one stripe of a segment lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StripeArea {
    /// Index into `VolumeGroup::pvs`.
    pub pv: usize,
    pub start_extent: u64,
}

impl LogicalVolume {
    /// Its size in extents: where its last segment ends.
    pub fn extent_count(&self) -> u64 {
        self.segments
            .last()
            .map_or(0, |s| s.start_extent.saturating_add(s.extent_count))
    }
}

/// Reads and checks the volume group described by `text`.
pub fn volume_group(text: &[u8]) -> Result<VolumeGroup, MetadataError> {
    // from_utf8's check runs a word at a time over ASCII; lossy's goes byte by byte, so
    // it is left for the text that needs it.
    let text = match std::str::from_utf8(text) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(text),
    };
    let root = text::parse(&text).map_err(|e| MetadataError {
        path: String::new(),
        problem: MetadataProblem::Text(e),
    })?;
    let top = Fields::new(&root, String::new());
    let contents = top.string("contents")?;
    if contents != "Text Format Volume Group" {
        return Err(top.fail(MetadataProblem::Contents(contents.to_string())));
    }
    let version = top.u64("version")?;
    if version != 1 {
        return Err(top.fail(MetadataProblem::Version(version)));
    }
    let vgs: Vec<(&str, &Section<'_>)> = root.sections().collect();
    let (name, section) = match vgs.as_slice() {
        [] => return Err(top.fail(MetadataProblem::NoVolumeGroup)),
        [one] => *one,
        several => {
            let names = several.iter().map(|(n, _)| n.to_string()).collect();
            return Err(top.fail(MetadataProblem::SeveralVolumeGroups(names)));
        }
    };

    let vg = Fields::new(section, name.to_string());
    let id = vg.id()?;
    let seqno = vg.u32("seqno")?;
    let status = vg.words("status", true)?;
    let extent_size = Sectors(vg.u32("extent_size")?);
    if extent_size.0 == 0 {
        return Err(vg.fail(MetadataProblem::ZeroExtentSize));
    }

    let pv_section = vg.subsection("physical_volumes")?.ok_or_else(|| {
        vg.fail(MetadataProblem::Missing {
            key: "physical_volumes",
            expected: "a section",
        })
    })?;
    let pv_list = Fields::new(pv_section, format!("{name}/physical_volumes"));
    let children = pv_list.children("physical volumes", MAX_PVS)?;
    let mut pvs = Vec::with_capacity(children.len());
    let mut ids = HashMap::with_capacity(children.len());
    for (key, section) in children {
        let pv = pv_entry(
            key,
            Fields::new(section, format!("{}/{key}", pv_list.path)),
            extent_size,
        )?;
        unique(&mut ids, pv.id, key, &pv_list)?;
        pvs.push(pv);
    }

    let mut lvs = Vec::new();
    if let Some(lv_section) = vg.subsection("logical_volumes")? {
        let lv_list = Fields::new(lv_section, format!("{name}/logical_volumes"));
        let children = lv_list.children("logical volumes", MAX_LVS)?;
        let index = VgIndex::new(&pvs, extent_size, children.iter().map(|(k, _)| *k));
        let mut ids = HashMap::with_capacity(children.len());
        for (key, section) in children {
            let lv = logical_volume::read(name, key, section, &index)?;
            unique(&mut ids, lv.id, key, &lv_list)?;
            lvs.push(lv);
        }
    }

    Ok(VolumeGroup {
        name: name.to_string(),
        id,
        seqno,
        extent_size,
        status,
        pvs,
        lvs,
    })
}

/// Records that `key` has ID `id`, unless an earlier entry of `list` has it too.
fn unique<'a>(
    ids: &mut HashMap<LvmId, &'a str>,
    id: LvmId,
    key: &'a str,
    list: &Fields,
) -> Result<(), MetadataError> {
    match ids.insert(id, key) {
        None => Ok(()),
        Some(first) => Err(list.fail(MetadataProblem::DuplicateId {
            id,
            first: first.to_string(),
        })),
    }
}

fn pv_entry(key: &str, pv: Fields, extent_size: Sectors) -> Result<PvEntry, MetadataError> {
    let id = pv.id()?;
    let device_hint = pv.optional_string("device")?.map(str::to_string);
    let status = pv.words("status", true)?;
    let flags = pv.words("flags", false)?;
    let dev_size = Sectors(pv.optional_uint("dev_size", i64::MAX as u64)?.unwrap_or(0));
    let pe_start = Sectors(pv.u64("pe_start")?);
    let pe_count = pv.u32("pe_count")?;
    extent_size
        .checked_mul(pe_count)
        .and_then(|s| s.checked_add(pe_start))
        .and_then(Sectors::to_bytes)
        .ok_or_else(|| pv.fail(MetadataProblem::PvTooLarge))?;
    let missing = status.iter().chain(&flags).any(|w| w == "MISSING");
    Ok(PvEntry {
        key: key.to_string(),
        id,
        device_hint,
        dev_size,
        pe_start,
        pe_count,
        missing,
    })
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;
