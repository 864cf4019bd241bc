//! The areas of a scan: the stretches of the devices that may hold a PV or a filesystem.
//! A whole device is read through its own GPT, and each partition is an area: through
//! the partition device when the kernel exposes one at the same start, else the whole
//! device plus the partition's offset. A whole device without a GPT is one area, and so
//! is a partition the kernel exposes that no GPT described (an MBR disk, say). A GPT read
//! from its backup, because the primary is damaged, is a warning.

use crate::disk::devices::{BlockDevice, DeviceKind};
use crate::disk::gpt_table::{self, GptPartition};
use crate::disk::layout::SourceId;
use crate::scan::{Area, Disk, Scan};
use crate::units::Sectors;

impl Area {
    /// All of a device, which has no partition table.
    fn whole(source: SourceId, dev: &BlockDevice) -> Area {
        Area {
            source,
            start: Sectors(0),
            len: dev.size.to_sectors_floor(),
            name: dev.display_name(),
            gpt: None,
        }
    }
}

impl Scan {
    pub(super) fn find_areas(&mut self) {
        let mut covered = vec![false; self.devices.len()];
        for id in 0..self.devices.len() {
            if matches!(self.devices[id].kind, DeviceKind::Partition { .. }) {
                continue;
            }
            let Some(src) = self.source(id).cloned() else {
                continue;
            };
            let dev = &self.devices[id];
            let sector_size = Some(dev.sector_size);
            match gpt_table::read_gpt(src.as_ref(), sector_size) {
                Ok(Some(gpt)) => {
                    if let Some(used) = &gpt.used_backup {
                        self.warnings.push(used.warning(&dev.display_name()));
                    }
                    let disk = self.disks.len();
                    for part in &gpt.partitions {
                        let area = self.partition_area(id, disk, part, &mut covered);
                        self.areas.push(area);
                    }
                    self.disks.push(Disk {
                        source: id,
                        gpt: Some(gpt),
                    });
                }
                Ok(None) => {
                    self.disks.push(Disk {
                        source: id,
                        gpt: None,
                    });
                    self.areas.push(Area::whole(id, dev));
                }
                Err(e) => {
                    self.warnings.push(e.to_string());
                    self.disks.push(Disk {
                        source: id,
                        gpt: None,
                    });
                }
            }
        }
        // Partitions the kernel exposes that no GPT described (an MBR disk, say).
        for (id, dev) in self.devices.iter().enumerate() {
            if matches!(dev.kind, DeviceKind::Partition { .. })
                && !covered[id]
                && self.sources.get(id).is_some_and(Option::is_some)
            {
                self.areas.push(Area::whole(id, dev));
            }
        }
    }

    /// The area of a GPT partition: through the partition device when the kernel
    /// exposes one at the same start, else the whole disk plus the partition's offset.
    fn partition_area(
        &self,
        disk_id: SourceId,
        disk: usize,
        part: &GptPartition,
        covered: &mut [bool],
    ) -> Area {
        let dev = &self.devices[disk_id];
        let start = part.start.to_sectors_floor();
        let len = part.size.to_sectors_floor();
        let exposed = self.devices.iter().position(|d| match &d.kind {
            DeviceKind::Partition {
                parent, start: s, ..
            } => *parent == dev.name && *s == start,
            _ => false,
        });
        match exposed {
            Some(pid) if self.source(pid).is_some() => {
                covered[pid] = true;
                Area {
                    source: pid,
                    start: Sectors(0),
                    len,
                    name: self.devices[pid].display_name(),
                    gpt: Some((disk, part.clone())),
                }
            }
            _ => Area {
                source: disk_id,
                start,
                len,
                name: format!("{} partition {}", dev.display_name(), part.number),
                gpt: Some((disk, part.clone())),
            },
        }
    }
}
