//! Resolving one device spec of the command line (`PARTUUID=`, `PARTLABEL=`, an LV by
//! name or UUID, a disk GUID, a kernel name) to the volumes it names: partitions of every
//! image, LVs (a DDI's root partition when the LV holds a disk image), whole devices.

use crate::cmdline::{DeviceSpec, VgLv};
use crate::plan::image::Image;
use crate::plan::volume;

use super::{Match, Search};

impl Search<'_> {
    /// Partitions of every image for which `pred(image, index)` holds.
    pub(super) fn partitions_where(
        &mut self,
        pred: impl Fn(&Image, usize) -> bool,
        why: &str,
    ) -> Vec<Match> {
        let mut out = Vec::new();
        for image in self.all_images() {
            for (i, v) in image.partitions.iter().enumerate() {
                if !pred(&image, i) {
                    continue;
                }
                match v {
                    Ok(v) => out.push(Match {
                        data: v.clone(),
                        image: Some(image.clone()),
                        why: why.to_string(),
                    }),
                    Err(e) => {
                        let number = image.gpt.partitions.get(i).map_or(0, |p| p.number);
                        let label = format!("{} partition {number}", image.label);
                        self.reject(&label, e.clone());
                    }
                }
            }
        }
        out
    }

    /// The volumes a device spec names.
    pub fn resolve(&mut self, spec: &DeviceSpec, expect_ddi: bool, option: &str) -> Vec<Match> {
        let why = format!("{option}{spec}");
        match spec {
            DeviceSpec::PartUuid(uuid) => {
                let uuid = *uuid;
                self.partitions_where(
                    |image, i| {
                        image
                            .gpt
                            .partitions
                            .get(i)
                            .is_some_and(|p| p.part_guid == uuid)
                    },
                    &why,
                )
            }
            DeviceSpec::PartLabel(label) => self.partitions_where(
                |image, i| {
                    image
                        .gpt
                        .partitions
                        .get(i)
                        .is_some_and(|p| p.name == *label)
                },
                &why,
            ),
            DeviceSpec::LvUuid(id) => {
                let lvs: Vec<_> = self
                    .all_lvs()
                    .into_iter()
                    .filter(|&(g, l)| self.scan.vgs[g].vg.lvs[l].id == *id)
                    .collect();
                self.lv_matches(lvs, expect_ddi, &why)
            }
            DeviceSpec::Lv(VgLv { vg, lv }) => {
                let lvs: Vec<_> = self
                    .scan
                    .vgs
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.vg.name == *vg)
                    .flat_map(|(g, group)| {
                        group
                            .vg
                            .lvs
                            .iter()
                            .enumerate()
                            .filter(|(_, l)| l.name == *lv)
                            .map(move |(l, _)| (g, l))
                    })
                    .collect();
                self.lv_matches(lvs, expect_ddi, &why)
            }
            DeviceSpec::DiskGuid(guid) => {
                let mut out = Vec::new();
                for image in self.all_images() {
                    if image.gpt.disk_guid == *guid {
                        out.extend(self.image_root(image, &why));
                    }
                }
                out
            }
            DeviceSpec::KernelName(name) => self.kernel_name(name, &why),
            DeviceSpec::VerityRoot => {
                self.reject(
                    &why,
                    "/dev/mapper/root is the verified root verinit creates, not a volume it reads"
                        .into(),
                );
                Vec::new()
            }
            DeviceSpec::FsUuid(_) | DeviceSpec::Label(_) => {
                self.reject(
                    &why,
                    "UUID= and LABEL= name filesystems, which verinit does not read before \
                     verity checks them; name the volume with PARTUUID=, PARTLABEL=, \
                     /dev/<VG>/<LV> or the LV's UUID"
                        .into(),
                );
                Vec::new()
            }
        }
    }

    fn lv_matches(&mut self, lvs: Vec<(usize, usize)>, expect_ddi: bool, why: &str) -> Vec<Match> {
        let mut out = Vec::new();
        for (g, l) in lvs {
            let label = format!(
                "{}/{}",
                self.scan.vgs[g].vg.name, self.scan.vgs[g].vg.lvs[l].name
            );
            match self.lv_image(g, l) {
                Err(e) => {
                    self.note_missing_pv(g, l);
                    self.reject(&label, e)
                }
                Ok(Some(image)) => out.extend(self.image_root(image, why)),
                Ok(None) if expect_ddi => self.reject(
                    &label,
                    "has no GPT at its start, but root=ddi: names a disk image".into(),
                ),
                Ok(None) => match volume::lv_volume(self.scan, g, l) {
                    Ok(data) => out.push(Match {
                        data,
                        image: None,
                        why: why.to_string(),
                    }),
                    Err(e) => self.reject(&label, e),
                },
            }
        }
        out
    }

    fn kernel_name(&mut self, name: &str, why: &str) -> Vec<Match> {
        let scan = self.scan;
        let Some(src) = scan.devices.iter().position(|d| d.name == name) else {
            return Vec::new();
        };
        if let Some(image) = self
            .disks()
            .into_iter()
            .find(|i| i.label == scan.devices[src].display_name())
        {
            return self.image_root(image, why);
        }
        scan.areas
            .iter()
            .position(|a| a.source == src && a.start.0 == 0)
            .and_then(|a| volume::area_volume(scan, a))
            .map(|data| Match {
                data,
                image: None,
                why: why.to_string(),
            })
            .into_iter()
            .collect()
    }
}
