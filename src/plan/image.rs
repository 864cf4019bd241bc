//! Disk images: a GPT and a volume for each of its partitions, on a disk or at the start
//! of a logical volume (a DDI in an LV). An image answers which of its partitions has a
//! UUID or a Discoverable Partitions role, and reads its root-verity-sig partition (the
//! signature, and the root hash it carries) the first time it is asked for.

use std::sync::{Arc, OnceLock};

use crate::disk::dps::{self, Arch, DpsRole};
use crate::disk::gpt_table::GptDisk;
use crate::disk::source::read_vec;
use crate::id::Guid;
use crate::plan::volume::{self, Volume};
use crate::scan::Scan;
use crate::verity::sig::{parse_signature, RootSignature, MAX_SIGNATURE_SIZE};

/// An image's root-verity-sig partition.
#[derive(Clone)]
pub enum ImageSignature {
    /// The image has none.
    Unsigned,
    /// Its one signature partition, parsed (JSON and PKCS#7 structure).
    Signed {
        partition: String,
        sig: RootSignature,
    },
    /// It has one that cannot be used, or several; why.
    Bad(String),
}

/// A GPT and a volume for each of its partitions: a disk, or a disk image in an LV.
#[derive(Clone)]
pub struct Image {
    /// `/dev/vda`, `vg0/root`.
    pub label: String,
    pub gpt: GptDisk,
    /// One per `gpt.partitions` entry; `Err` says why that partition cannot be mapped.
    pub partitions: Vec<Result<Volume, String>>,
    /// The whole volume when the image is an LV.
    pub lv: Option<Volume>,
    /// Read when first asked for (`Image::signature`): only a candidate's, or an image's
    /// whose root hash must come from it, is ever read.
    signature: OnceLock<ImageSignature>,
}

impl Image {
    pub(super) fn by_uuid(&self, uuid: &Guid) -> Vec<&Volume> {
        self.gpt
            .partitions
            .iter()
            .zip(&self.partitions)
            .filter(|(p, _)| p.part_guid == *uuid)
            .filter_map(|(_, v)| v.as_ref().ok())
            .collect()
    }

    /// The image's signature partition (for `arch`), read the first time it is asked for.
    pub fn signature(&self, scan: &Scan, arch: Arch) -> &ImageSignature {
        self.signature
            .get_or_init(|| self.read_signature(scan, arch))
    }

    fn read_signature(&self, scan: &Scan, arch: Arch) -> ImageSignature {
        match self.by_role(DpsRole::RootVeritySig, arch).as_slice() {
            [] => ImageSignature::Unsigned,
            [vol] => match read_signature_volume(scan, vol) {
                Ok(sig) => ImageSignature::Signed {
                    partition: vol.label.clone(),
                    sig,
                },
                Err(e) => ImageSignature::Bad(e),
            },
            many => ImageSignature::Bad(format!(
                "{} has several root-verity-sig partitions ({}): verinit takes a root hash \
                 from one only; give roothash=",
                self.label,
                many.iter()
                    .map(|v| v.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    pub(super) fn by_role(&self, role: DpsRole, arch: Arch) -> Vec<&Volume> {
        self.gpt
            .partitions
            .iter()
            .zip(&self.partitions)
            .filter(|(p, _)| dps::role_of(&p.type_guid, arch) == Some(role))
            .filter_map(|(_, v)| v.as_ref().ok())
            .collect()
    }
}

/// The disk image at the start of an LV, none, or why it cannot be read.
pub(super) type LvImage = Result<Option<Arc<Image>>, String>;

/// Every GPT disk of the scan, with a volume per partition.
pub(super) fn disk_images(scan: &Scan) -> Vec<Arc<Image>> {
    let mut images = Vec::new();
    for (d, disk) in scan.disks.iter().enumerate() {
        let Some(gpt) = &disk.gpt else { continue };
        let partitions = gpt
            .partitions
            .iter()
            .map(|p| {
                scan.areas
                    .iter()
                    .position(
                        |a| matches!(&a.gpt, Some((dd, pp)) if *dd == d && pp.number == p.number),
                    )
                    .and_then(|a| volume::area_volume(scan, a))
                    .ok_or_else(|| format!("partition {} was not scanned", p.number))
            })
            .collect();
        images.push(Arc::new(Image {
            label: scan.devices[disk.source].display_name(),
            gpt: gpt.clone(),
            partitions,
            lv: None,
            signature: OnceLock::new(),
        }));
    }
    images
}

/// What the planner reads of an image's partitions next, asked for at once: the head of
/// each (a signature, a filesystem's superblock, a verity superblock and the top of its
/// tree) and the last block (where an FEC footer would be).
fn prefetch_partitions(scan: &Scan, partitions: &[Result<Volume, String>]) {
    const TAIL: u64 = 4096;
    for vol in partitions.iter().flatten() {
        let reader = vol.reader(scan);
        reader.prefetch(0, crate::scan::HEAD_PREFETCH);
        reader.prefetch(reader.len().saturating_sub(TAIL), TAIL);
    }
}

/// The disk image inside LV `lv` of VG `vg`, if it starts with a GPT.
pub(super) fn lv_image(scan: &Scan, vg: usize, lv: usize) -> LvImage {
    let whole = volume::lv_volume(scan, vg, lv)?;
    let Some(gpt) = volume::volume_gpt(scan, &whole)? else {
        return Ok(None);
    };
    let partitions: Vec<Result<Volume, String>> = gpt
        .partitions
        .iter()
        .map(|p| volume::lv_partition_volume(&whole, p))
        .collect();
    prefetch_partitions(scan, &partitions);
    Ok(Some(Arc::new(Image {
        label: whole.label.clone(),
        gpt,
        partitions,
        lv: Some(whole),
        signature: OnceLock::new(),
    })))
}

/// Reads and parses a signature partition: at most [`MAX_SIGNATURE_SIZE`] bytes, which
/// must hold the whole JSON (its NUL padding starts within them).
fn read_signature_volume(scan: &Scan, vol: &Volume) -> Result<RootSignature, String> {
    let reader = vol.reader(scan);
    let limit = MAX_SIGNATURE_SIZE as u64;
    let len = reader.len().min(limit);
    let bytes = read_vec(reader.as_ref(), 0, len).map_err(|e| e.to_string())?;
    if reader.len() > limit && !bytes.contains(&0) {
        return Err(format!(
            "the signature partition {} holds more than {} KiB of JSON with no end (a \
             signature takes a few KiB): it is damaged or not a signature",
            vol.label,
            limit / 1024
        ));
    }
    parse_signature(&bytes, &vol.label).map_err(|e| e.to_string())
}
