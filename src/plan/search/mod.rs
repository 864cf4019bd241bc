//! Finding the root: which volumes match the command line, and what each one holds.
//!
//! The volume comes from, in this order: `systemd.verity_root_data=`, `root=`,
//! `rd.lvm.lv=` (each one named), and with none of these the Discoverable Partitions rule:
//! every GPT partition, on a disk or inside a logical volume, whose UUID is the first half
//! of the root hash. A logical volume that starts with a GPT is a disk image (DDI): its
//! root partition is the one whose UUID is the first half of the root hash, else its only
//! root partition for this architecture. The images themselves (GPT, partitions,
//! signature) are `image.rs`'s; a search reads each one once.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cmdline::{BootArgs, DeviceSpec};
use crate::disk::dps::{self, Arch, DpsRole};
use crate::id::RootHash;
use crate::plan::image::{self, Image, ImageSignature, LvImage};
use crate::plan::volume::{self, Origin, Volume};
use crate::scan::{LvError, Scan};

mod resolve;

/// A volume that matched the command line, and the image it sits in, if any.
#[derive(Clone)]
pub struct Match {
    pub data: Volume,
    /// Shared: many matches may come from one image.
    pub image: Option<Arc<Image>>,
    /// Why it matched, for the report.
    pub why: String,
}

/// Something looked at that did not become a candidate, and why.
#[derive(Clone, Debug)]
pub struct Rejected {
    pub label: String,
    pub reason: String,
}

pub struct Search<'a> {
    pub scan: &'a Scan,
    pub args: &'a BootArgs,
    pub arch: Arch,
    lv_images: HashMap<(usize, usize), LvImage>,
    disk_images: Option<Vec<Arc<Image>>>,
    pub rejected: Vec<Rejected>,
    /// Volumes that could not be read while searching (a damaged GPT in an LV, say):
    /// not candidates, but possibly why nothing matched.
    pub problems: Vec<String>,
    /// Damage passed over that does not weaken the check (a disk image in an LV read
    /// from its backup GPT, a signature partition not needed): each said once.
    pub warnings: Vec<String>,
    /// LVs searched that could not be read because a PV of theirs is missing: any of
    /// them may be a copy of the root, once its disk appears.
    pub pending: Vec<String>,
}

impl<'a> Search<'a> {
    pub fn new(scan: &'a Scan, args: &'a BootArgs, arch: Arch) -> Search<'a> {
        Search {
            scan,
            args,
            arch,
            lv_images: HashMap::new(),
            disk_images: None,
            rejected: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Adds a warning unless it was said already.
    pub fn warn(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    fn reject(&mut self, label: &str, reason: String) {
        self.rejected.push(Rejected {
            label: label.to_string(),
            reason,
        });
    }

    /// Every GPT disk, with a volume per partition.
    fn disks(&mut self) -> Vec<Arc<Image>> {
        if let Some(d) = &self.disk_images {
            return d.clone();
        }
        let images = image::disk_images(self.scan);
        self.disk_images = Some(images.clone());
        images
    }

    /// The disk image inside an LV, if it starts with a GPT.
    fn lv_image(&mut self, vg: usize, lv: usize) -> LvImage {
        if let Some(cached) = self.lv_images.get(&(vg, lv)) {
            return cached.clone();
        }
        let result = image::lv_image(self.scan, vg, lv);
        if let Ok(Some(image)) = &result {
            if let Some(used) = &image.gpt.used_backup {
                self.warn(used.warning(&format!("/dev/{}", image.label)));
            }
        }
        self.lv_images.insert((vg, lv), result.clone());
        result
    }

    /// Notes LV `lv` of VG `vg` as pending when a PV of its is missing: it may be a copy
    /// of the root once its disk appears.
    fn note_missing_pv(&mut self, vg: usize, lv: usize) {
        let group = &self.scan.vgs[vg];
        let missing_pv = matches!(
            self.scan.lv_layout(group, &group.vg.lvs[lv]),
            Err(LvError::MissingPv { .. })
        );
        let name = format!("{}/{}", group.vg.name, group.vg.lvs[lv].name);
        if missing_pv && !self.pending.contains(&name) {
            self.pending.push(name);
        }
    }

    fn all_lvs(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (g, vg) in self.scan.vgs.iter().enumerate() {
            for (l, lv) in vg.vg.lvs.iter().enumerate() {
                if lv.visible {
                    out.push((g, l));
                }
            }
        }
        out
    }

    /// Every GPT: on disks, and at the start of every visible LV that can be read.
    fn all_images(&mut self) -> Vec<Arc<Image>> {
        let mut images = self.disks();
        for (g, l) in self.all_lvs() {
            match self.lv_image(g, l) {
                Ok(Some(image)) => images.push(image),
                Ok(None) => {}
                Err(e) => {
                    self.note_missing_pv(g, l);
                    let vg = &self.scan.vgs[g].vg;
                    let name = format!("{}/{}", vg.name, vg.lvs[l].name);
                    let problem = format!("{name}: {e}");
                    if !self.problems.contains(&problem) {
                        self.problems.push(problem);
                    }
                }
            }
        }
        images
    }

    /// The volumes the command line points at as the root data.
    pub fn find_data(&mut self) -> Vec<Match> {
        let args = self.args;
        if let Some(spec) = &args.verity_data {
            return self.resolve(spec, false, "systemd.verity_root_data=");
        }
        // `root=/dev/mapper/root` names the verity device itself, not a volume.
        if let Some(root) = args
            .root
            .as_ref()
            .filter(|r| r.spec != DeviceSpec::VerityRoot)
        {
            return self.resolve(&root.spec, root.expect_ddi, "root=");
        }
        if !args.lvm_lv.is_empty() {
            let mut out = Vec::new();
            for vglv in &args.lvm_lv {
                out.extend(self.resolve(&DeviceSpec::Lv(vglv.clone()), false, "rd.lvm.lv="));
            }
            return out;
        }
        let Some(hash) = &args.root_hash else {
            return Vec::new();
        };
        let Some(uuid) = hash.data_partition_uuid() else {
            return Vec::new();
        };
        self.partitions_where(
            |image, p| {
                image
                    .gpt
                    .partitions
                    .get(p)
                    .is_some_and(|e| e.part_guid == uuid)
            },
            &format!("partition UUID {uuid} is the first half of the root hash"),
        )
    }

    /// The root hash an image is booted with: the command line's, else the one its
    /// signature partition carries.
    pub fn root_hash_for(&self, image: &Image) -> Option<RootHash> {
        if let Some(h) = &self.args.root_hash {
            return Some(h.clone());
        }
        match image.signature(self.scan, self.arch) {
            ImageSignature::Signed { sig, .. } => Some(sig.root_hash.clone()),
            _ => None,
        }
    }

    /// The root partition of a disk image.
    fn image_root(&mut self, image: Arc<Image>, why: &str) -> Vec<Match> {
        let by_uuid = self
            .root_hash_for(&image)
            .as_ref()
            .and_then(RootHash::data_partition_uuid)
            .map(|u| image.by_uuid(&u))
            .unwrap_or_default();
        let chosen = match by_uuid.as_slice() {
            [one] => Some((
                (*one).clone(),
                "its UUID is the first half of the root hash",
            )),
            _ => match image.by_role(DpsRole::Root, self.arch).as_slice() {
                [one] => Some(((*one).clone(), "the image's only root partition")),
                [] => {
                    self.reject(
                        &image.label,
                        format!(
                            "a disk image with no root partition for {} (type {})",
                            self.arch.name(),
                            dps::root_type(self.arch)
                        ),
                    );
                    None
                }
                many => {
                    let labels: Vec<_> = many.iter().map(|v| v.label.clone()).collect();
                    self.reject(
                        &image.label,
                        format!(
                            "a disk image with several root partitions ({}) and none whose UUID \
                             is the first half of the root hash",
                            labels.join(", ")
                        ),
                    );
                    None
                }
            },
        };
        chosen
            .map(|(data, how)| Match {
                data,
                why: format!("{why}: {} ({how})", image.label),
                image: Some(image),
            })
            .into_iter()
            .collect()
    }

    /// The hash partition of an image for a data partition: UUID = last half of the root
    /// hash, else the image's only root-verity partition.
    pub fn image_hash(&self, image: &Image) -> Option<(Volume, &'static str)> {
        let by_uuid = self
            .root_hash_for(image)
            .as_ref()
            .and_then(RootHash::hash_partition_uuid)
            .map(|u| image.by_uuid(&u))
            .unwrap_or_default();
        if let [one] = by_uuid.as_slice() {
            return Some(((*one).clone(), "its UUID is the last half of the root hash"));
        }
        match image.by_role(DpsRole::RootVerity, self.arch).as_slice() {
            [one] => Some(((*one).clone(), "the image's only root-verity partition")),
            _ => None,
        }
    }

    /// The LV next to a data LV that holds its hash tree: `<LV>-verity` or `<LV>_verity`
    /// in the same VG.
    pub fn sibling_hash_lv(&mut self, data: &Volume) -> Result<Option<Volume>, String> {
        let Origin::Lv { vg, lv } = data.origin else {
            return Ok(None);
        };
        let group = &self.scan.vgs[vg].vg;
        let base = &group.lvs[lv].name;
        let found: Vec<usize> = ["-verity", "_verity"]
            .iter()
            .filter_map(|suffix| {
                let want = format!("{base}{suffix}");
                group.lvs.iter().position(|l| l.name == want)
            })
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => volume::lv_volume(self.scan, vg, *one).map(Some),
            _ => Err(format!(
                "both {0}/{1}-verity and {0}/{1}_verity exist: name the hash volume with \
                 systemd.verity_root_hash=",
                group.name, base
            )),
        }
    }
}
