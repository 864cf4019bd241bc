//! Volumes the plan can map: whole devices, partitions on disks, logical volumes, and
//! partitions inside logical volumes (a disk image in an LV). Each knows its layout on
//! the physical devices and the dm device the boot would create for it, if any.

use std::sync::Arc;

use crate::disk::devices::DeviceKind;
use crate::disk::gpt_table::{self, GptDisk, GptPartition};
use crate::disk::layout::Layout;
use crate::disk::source::ReadAt;
use crate::dm_table::DevRef;
use crate::plan::names;
use crate::scan::{Area, Scan, Vg};
use crate::units::Sectors;

/// How the boot reaches a volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Device {
    /// A device that exists as it is (a disk, an exposed partition, an image file).
    Existing(DevRef),
    /// A dm-linear (or striped) device the plan creates over the volume's layout.
    Create { name: String, uuid: String },
}

/// Where a volume came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `Scan::areas[i]`.
    Area(usize),
    /// `Scan::vgs[vg].vg.lvs[lv]`.
    Lv { vg: usize, lv: usize },
    /// Partition `part` of the GPT inside LV (vg, lv).
    LvPartition {
        vg: usize,
        lv: usize,
        part: GptPartition,
    },
}

#[derive(Clone, Debug)]
pub struct Volume {
    /// For messages: `vg0/root`, `vg0/root partition 1`, `/dev/vda2`.
    pub label: String,
    pub layout: Layout,
    pub device: Device,
    pub origin: Origin,
}

impl Volume {
    pub fn dev_ref(&self) -> DevRef {
        match &self.device {
            Device::Existing(d) => d.clone(),
            Device::Create { name, .. } => DevRef::Name(name.clone()),
        }
    }

    /// The GPT entry of this volume, when it is a partition.
    pub fn partition<'a>(&'a self, scan: &'a Scan) -> Option<&'a GptPartition> {
        match &self.origin {
            Origin::Area(a) => scan.areas.get(*a)?.gpt.as_ref().map(|(_, p)| p),
            Origin::LvPartition { part, .. } => Some(part),
            Origin::Lv { .. } => None,
        }
    }

    pub fn reader(&self, scan: &Scan) -> Arc<dyn ReadAt> {
        Arc::new(scan.layout_reader(&self.label, &self.layout))
    }
}

/// A volume for a scanned area.
pub fn area_volume(scan: &Scan, index: usize) -> Option<Volume> {
    let area: &Area = scan.areas.get(index)?;
    let dev = scan.devices.get(area.source)?;
    let whole = area.start.0 == 0 && dev.size.to_sectors_floor() == area.len;
    let device = if whole {
        Device::Existing(dev.dev_ref())
    } else {
        let number = area.gpt.as_ref().map_or(0, |(_, p)| p.number);
        let base = match &dev.kind {
            DeviceKind::File => dev
                .path
                .file_name()
                .map_or_else(|| dev.name.clone(), |n| n.to_string_lossy().into_owned()),
            _ => dev.name.clone(),
        };
        let disk_guid = area
            .gpt
            .as_ref()
            .and_then(|(d, _)| scan.disks.get(*d)?.gpt.as_ref())
            .map_or_else(String::new, |g| g.disk_guid.to_string());
        Device::Create {
            name: names::partition_name(&base, number),
            uuid: names::partition_uuid(&format!("GPT-{disk_guid}"), number),
        }
    };
    Some(Volume {
        label: area.name.clone(),
        layout: Layout::linear(area.source, area.start, area.len),
        device,
        origin: Origin::Area(index),
    })
}

/// A volume for a logical volume; errors say why it cannot be mapped.
pub fn lv_volume(scan: &Scan, vg: usize, lv: usize) -> Result<Volume, String> {
    let group: &Vg = scan.vgs.get(vg).ok_or("no such VG")?;
    let l = group.vg.lvs.get(lv).ok_or("no such LV")?;
    let layout = scan.lv_layout(group, l).map_err(|e| e.to_string())?;
    Ok(Volume {
        label: format!("{}/{}", group.vg.name, l.name),
        layout,
        device: Device::Create {
            name: names::lv_name(&group.vg.name, &l.name),
            uuid: names::lv_uuid(&group.vg.id, &l.id),
        },
        origin: Origin::Lv { vg, lv },
    })
}

/// A partition of the disk image inside an LV: mapped straight onto the LV's physical
/// extents, with kpartx's name and UUID derived from the LV's.
pub fn lv_partition_volume(lv: &Volume, part: &GptPartition) -> Result<Volume, String> {
    let Origin::Lv { vg, lv: l } = lv.origin else {
        return Err("not a logical volume".into());
    };
    let Device::Create { name, uuid } = &lv.device else {
        return Err("not a logical volume".into());
    };
    let start = part.start.to_sectors_exact();
    let len = part.size.to_sectors_exact();
    let (Some(start), Some(len)) = (start, len) else {
        return Err(format!(
            "partition {} of {} is not aligned to 512 bytes",
            part.number, lv.label
        ));
    };
    let layout = lv
        .layout
        .slice(start, len)
        .map_err(|e| format!("partition {} of {}: {e}", part.number, lv.label))?;
    Ok(Volume {
        label: format!("{} partition {}", lv.label, part.number),
        layout,
        device: Device::Create {
            name: names::partition_name(name, part.number),
            uuid: names::partition_uuid(uuid, part.number),
        },
        origin: Origin::LvPartition {
            vg,
            lv: l,
            part: part.clone(),
        },
    })
}

/// The GPT at the start of a volume, if any (sector size probed: 512, then 4096).
pub fn volume_gpt(scan: &Scan, volume: &Volume) -> Result<Option<GptDisk>, String> {
    let reader = volume.reader(scan);
    gpt_table::read_gpt(reader.as_ref(), None).map_err(|e| e.to_string())
}

/// Sectors of a volume as bytes, saturating (layouts come from checked metadata).
pub fn volume_bytes(volume: &Volume) -> u64 {
    volume.layout.len().to_bytes().map_or(u64::MAX, |b| b.0)
}

/// Start of a byte offset in sectors, when it is whole.
pub fn whole_sectors(bytes: u64) -> Option<Sectors> {
    (bytes % 512 == 0).then_some(Sectors(bytes / 512))
}
