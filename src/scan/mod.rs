//! What the disks hold: GPT partitions, LVM physical volumes and the volume groups they
//! assemble into. Reading only; no decision about the root is made here. This is the
//! planner's input, a stage of its own: it reads through both `disk` and `lvm`, and the
//! planner (`plan`) and the report (`report`) read it.
//!
//! Order of work: every device is opened read-only; a whole device is read through its
//! own GPT (a partition the kernel also exposes is then addressed through that partition
//! device, one it does not expose as the whole device plus an offset); every partition,
//! and every whole device without a GPT, is an *area* that may hold a PV. Each PV's
//! metadata areas are read and checked; one VG's text found on several PVs is parsed
//! once, and the copy with the highest seqno wins. `areas` finds the areas,
//! `volume_groups` the PVs and volume groups on them and the layout of each LV.

mod areas;
#[cfg(test)]
mod redundancy_tests;
mod volume_groups;

pub use volume_groups::{FoundPv, LvError, Vg};

use std::sync::Arc;

use crate::disk::devices::BlockDevice;
use crate::disk::gpt_table::{GptDisk, GptPartition};
use crate::disk::layout::{Layout, SourceId};
use crate::disk::layout_reader::LayoutReader;
use crate::disk::source::{FileSource, ReadAt, Slice};
use crate::dm_table::DevRef;
use crate::lvm::metadata::VolumeGroup;
use crate::units::{Bytes, Sectors};

/// How much of each device and area the scan asks for up front: the GPT (17 KiB with
/// 512-byte sectors), the LVM label, the metadata area's header at 4 KiB and the first
/// part of its text.
pub const HEAD_PREFETCH: u64 = 64 << 10;

/// A stretch of a device that may hold a PV or a filesystem: a GPT partition or a whole
/// device without a partition table.
#[derive(Clone, Debug)]
pub struct Area {
    pub source: SourceId,
    pub start: Sectors,
    pub len: Sectors,
    /// `/dev/loop0`, `/dev/loop0 partition 2`, `/dev/vda2`.
    pub name: String,
    /// The disk (index into `Scan::disks`) and GPT entry this area comes from.
    pub gpt: Option<(usize, GptPartition)>,
}

/// A device and what was seen on it.
pub struct Disk {
    pub source: SourceId,
    pub gpt: Option<GptDisk>,
}

/// Everything read from the disks.
#[derive(Default)]
pub struct Scan {
    pub devices: Vec<BlockDevice>,
    pub sources: Vec<Option<Arc<dyn ReadAt>>>,
    pub disks: Vec<Disk>,
    pub areas: Vec<Area>,
    pub pvs: Vec<FoundPv>,
    /// Parsed metadata texts, shared by the PVs that carry the same text.
    pub vg_copies: Vec<Arc<VolumeGroup>>,
    pub vgs: Vec<Vg>,
    /// Things a person should know that do not stop the boot: a damaged metadata copy,
    /// a stale PV, a device that could not be read.
    pub warnings: Vec<String>,
}

impl Scan {
    /// Opens and reads every device. Nothing here fails the whole scan: a device that
    /// cannot be read becomes a warning, since it may not be the one that matters.
    pub fn read(devices: Vec<BlockDevice>) -> Scan {
        let mut warnings = Vec::new();
        let sources = devices
            .iter()
            .map(|d| match FileSource::open(&d.path) {
                Ok(s) => Some(Arc::new(s) as Arc<dyn ReadAt>),
                Err(e) => {
                    warnings.push(format!("cannot open {} read-only: {e}", d.display_name()));
                    None
                }
            })
            .collect();
        Scan::assemble(devices, sources, warnings)
    }

    /// A scan over sources already open (tests, fuzzing).
    pub fn from_sources(devices: Vec<BlockDevice>, sources: Vec<Arc<dyn ReadAt>>) -> Scan {
        Scan::assemble(devices, sources.into_iter().map(Some).collect(), Vec::new())
    }

    fn assemble(
        devices: Vec<BlockDevice>,
        sources: Vec<Option<Arc<dyn ReadAt>>>,
        warnings: Vec<String>,
    ) -> Scan {
        let mut scan = Scan {
            devices,
            sources,
            warnings,
            ..Scan::default()
        };
        // What every device's head holds (GPT, LVM label, metadata area header, and
        // usually the metadata text) is asked for at once, so the scan waits for the
        // disks once rather than once per device.
        for src in scan.sources.iter().flatten() {
            src.prefetch(0, HEAD_PREFETCH);
        }
        scan.find_areas();
        // Areas inside a whole device (a partition the kernel does not expose); one at
        // offset 0 of its source was asked for above.
        for area in scan.areas.iter().filter(|a| a.start.0 != 0) {
            if let Some(reader) = scan.area_reader(area) {
                reader.prefetch(0, HEAD_PREFETCH);
            }
        }
        scan.find_pvs();
        scan.assemble_vgs();
        scan
    }

    pub fn source(&self, id: SourceId) -> Option<&Arc<dyn ReadAt>> {
        self.sources.get(id)?.as_ref()
    }

    /// How dm tables name a source.
    pub fn dev_ref(&self, id: SourceId) -> DevRef {
        self.devices
            .get(id)
            .map_or(DevRef::Name(format!("source{id}")), |d| d.dev_ref())
    }

    /// A reader for an area's bytes.
    pub fn area_reader(&self, area: &Area) -> Option<Arc<dyn ReadAt>> {
        let src = self.source(area.source)?.clone();
        let start = area.start.to_bytes()?.0;
        let len = area.len.to_bytes()?.0;
        if start == 0 && len == src.len() {
            return Some(src);
        }
        Some(Arc::new(Slice::new(area.name.clone(), src, start, len)?))
    }

    /// A reader for the bytes of a layout, under a name for messages.
    pub fn layout_reader(&self, name: &str, layout: &Layout) -> LayoutReader {
        let sources = self
            .sources
            .iter()
            .map(|s| match s {
                Some(s) => s.clone(),
                None => Arc::new(crate::disk::source::MemSource::new(
                    "(unreadable)",
                    Vec::new(),
                )) as Arc<dyn ReadAt>,
            })
            .collect();
        LayoutReader::new(name.to_string(), layout.clone(), sources)
    }

    /// The size of an area in bytes.
    pub fn area_size(&self, area: &Area) -> Bytes {
        area.len.to_bytes().unwrap_or_default()
    }
}
