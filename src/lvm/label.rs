//! The LVM2 physical volume label (lvm2 `lib/label/label.c`, `lib/format_text/layout.h`).
//!
//! Format (little-endian), in one of the 512-byte sectors 0..3 whatever the device's
//! logical block size:
//!   label_header  id[8] = "LABELONE", sector_xl u64 (the sector it sits in),
//!                 crc_xl u32 (over bytes 20..512), offset_xl u32, type[8] = "LVM2 001"
//!   pv_header     at offset_xl: pv_uuid[32] (no dashes), device_size u64 (bytes),
//!                 data areas      {offset u64, size u64}* ended by an offset of 0,
//!                 metadata areas  the same way, then an extension lvm2 reads and we do not.
//! Offsets are bytes from the start of the device. A data area of size 0 runs to the end.
//! As lvm2 does, a sector whose LABELONE fails a check is passed over for the next one;
//! only when no sector holds a good label is the first failure an error.

use std::fmt;

use crate::disk::source::{read_vec, ReadAt};
use crate::id::LvmId;
use crate::lvm::crc::{calc_crc, INITIAL_CRC};
use crate::lvm::le::{bytes_at, u32_at, u64_at};
use crate::units::{Bytes, SECTOR_SIZE};

/// Sectors lvm2 searches for a label.
pub const LABEL_SCAN_SECTORS: u64 = 4;
/// At most this many data areas, and as many metadata areas, are read from one label:
/// lvm2 writes one data area and at most two metadata areas.
pub const MAX_AREAS: usize = 8;

const LABEL_ID: &[u8; 8] = b"LABELONE";
const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
/// Where the label checksum starts: it covers offset_xl to the end of the sector.
const CRC_START: usize = 20;
const LABEL_HEADER_SIZE: usize = 32;
/// pv_uuid and device_size.
const PV_HEADER_SIZE: usize = 40;
const DISK_LOCN_SIZE: usize = 16;

/// A region of the device named by the label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskArea {
    pub offset: Bytes,
    /// 0 for a data area means "to the end of the device".
    pub size: Bytes,
}

/// A physical volume's label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvLabel {
    /// The 512-byte sector it was found in, 0..3.
    pub sector: u64,
    pub pv_uuid: LvmId,
    pub device_size: Bytes,
    pub data_areas: Vec<DiskArea>,
    pub metadata_areas: Vec<DiskArea>,
}

/// A label that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelError {
    pub device: String,
    /// Byte offset of the field (or read) at fault.
    pub offset: u64,
    pub problem: LabelProblem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelProblem {
    /// The read itself failed.
    Read(String),
    /// sector_xl names another sector than the one the label sits in.
    SectorMismatch {
        recorded: u64,
        found: u64,
    },
    Checksum {
        stored: u32,
        computed: u32,
    },
    /// Not "LVM2 001".
    Type([u8; 8]),
    /// offset_xl puts the pv_header outside the sector.
    HeaderOffset(u32),
    BadUuid(String),
    /// An area list has no terminating entry before the end of the sector.
    AreaListRunsOff {
        list: &'static str,
    },
    TooManyAreas {
        list: &'static str,
    },
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read the LVM label on {} at offset {}: ",
            self.device, self.offset
        )?;
        let damaged = "the label is damaged: `pvck --dump headers` shows it, and lvm2 \
                       cannot use this PV either";
        match &self.problem {
            LabelProblem::Read(cause) => write!(f, "{cause}"),
            LabelProblem::SectorMismatch { recorded, found } => write!(
                f,
                "the label found in sector {found} says it belongs in sector {recorded} \
                 (a copied or shifted image?)"
            ),
            LabelProblem::Checksum { stored, computed } => write!(
                f,
                "checksum {computed:#010x} does not match the stored {stored:#010x}; {damaged}"
            ),
            LabelProblem::Type(t) => write!(
                f,
                "label type '{}' is not 'LVM2 001' (only LVM2 text-format PVs are supported)",
                String::from_utf8_lossy(t).escape_debug()
            ),
            LabelProblem::HeaderOffset(o) => write!(
                f,
                "the pv_header offset {o} does not fit in the 512-byte sector; {damaged}"
            ),
            LabelProblem::BadUuid(why) => write!(f, "bad PV UUID: {why}"),
            LabelProblem::AreaListRunsOff { list } => write!(
                f,
                "the list of {list} areas runs off the end of the sector; {damaged}"
            ),
            LabelProblem::TooManyAreas { list } => {
                write!(f, "more than {MAX_AREAS} {list} areas; {damaged}")
            }
        }
    }
}

impl std::error::Error for LabelError {}

/// Looks for a PV label in sectors 0..3 of `src`. `Ok(None)`: no sector says LABELONE, so
/// this is not a PV.
pub fn read_label(src: &dyn ReadAt) -> Result<Option<PvLabel>, LabelError> {
    let sectors = (src.len() / SECTOR_SIZE).min(LABEL_SCAN_SECTORS);
    let head = read_vec(src, 0, sectors * SECTOR_SIZE).map_err(|e| LabelError {
        device: src.name().to_string(),
        offset: e.offset,
        problem: LabelProblem::Read(e.cause),
    })?;
    let mut first_error = None;
    for (sector, bytes) in (0u64..).zip(head.chunks_exact(SECTOR_SIZE as usize)) {
        if bytes.get(..LABEL_ID.len()) != Some(LABEL_ID.as_slice()) {
            continue;
        }
        match parse_sector(sector, bytes) {
            Ok(label) => return Ok(Some(label)),
            Err((at, problem)) => {
                first_error.get_or_insert(LabelError {
                    device: src.name().to_string(),
                    offset: sector * SECTOR_SIZE + at as u64,
                    problem,
                });
            }
        }
    }
    first_error.map_or(Ok(None), Err)
}

/// label_header, as on disk.
struct LabelHeader {
    sector_xl: u64,
    crc_xl: u32,
    offset_xl: u32,
    label_type: [u8; 8],
}

impl LabelHeader {
    /// `None` only when `bytes` is shorter than a label_header.
    fn read(bytes: &[u8]) -> Option<LabelHeader> {
        Some(LabelHeader {
            sector_xl: u64_at(bytes, 8)?,
            crc_xl: u32_at(bytes, 16)?,
            offset_xl: u32_at(bytes, 20)?,
            label_type: bytes_at(bytes, 24)?,
        })
    }
}

/// Checks and reads one 512-byte sector that starts with LABELONE. Errors carry the
/// offset of the field at fault within the sector.
fn parse_sector(sector: u64, bytes: &[u8]) -> Result<PvLabel, (usize, LabelProblem)> {
    let h = LabelHeader::read(bytes)
        .ok_or_else(|| (0, LabelProblem::Read("the sector is cut short".into())))?;
    if h.sector_xl != sector {
        return Err((
            8,
            LabelProblem::SectorMismatch {
                recorded: h.sector_xl,
                found: sector,
            },
        ));
    }
    let computed = calc_crc(INITIAL_CRC, bytes.get(CRC_START..).unwrap_or_default());
    if h.crc_xl != computed {
        return Err((
            16,
            LabelProblem::Checksum {
                stored: h.crc_xl,
                computed,
            },
        ));
    }
    if &h.label_type != LABEL_TYPE {
        return Err((24, LabelProblem::Type(h.label_type)));
    }

    // pv_header: pv_uuid[32], device_size u64, inside the sector after the label_header.
    let (header, uuid, device_size) = usize::try_from(h.offset_xl)
        .ok()
        .filter(|&at| at >= LABEL_HEADER_SIZE)
        .and_then(|at| {
            let uuid: [u8; 32] = bytes_at(bytes, at)?;
            Some((at, uuid, u64_at(bytes, at.checked_add(32)?)?))
        })
        .ok_or((20, LabelProblem::HeaderOffset(h.offset_xl)))?;
    let pv_uuid = std::str::from_utf8(&uuid)
        .map_err(|_| "not ASCII".to_string())
        .and_then(|text| LvmId::parse(text).map_err(|e| e.to_string()))
        .map_err(|why| (header, LabelProblem::BadUuid(why)))?;

    let mut at = header + PV_HEADER_SIZE;
    let data_areas = area_list(bytes, &mut at, "data")?;
    let metadata_areas = area_list(bytes, &mut at, "metadata")?;
    Ok(PvLabel {
        sector,
        pv_uuid,
        device_size: Bytes(device_size),
        data_areas,
        metadata_areas,
    })
}

/// Reads disk_locn entries from `*at` up to and including the one with offset 0.
fn area_list(
    bytes: &[u8],
    at: &mut usize,
    list: &'static str,
) -> Result<Vec<DiskArea>, (usize, LabelProblem)> {
    let start = *at;
    let mut areas = Vec::new();
    loop {
        let entry = (u64_at(bytes, *at), u64_at(bytes, *at + 8));
        let (Some(offset), Some(size)) = entry else {
            return Err((start, LabelProblem::AreaListRunsOff { list }));
        };
        *at += DISK_LOCN_SIZE;
        if offset == 0 {
            return Ok(areas);
        }
        if areas.len() == MAX_AREAS {
            return Err((start, LabelProblem::TooManyAreas { list }));
        }
        areas.push(DiskArea {
            offset: Bytes(offset),
            size: Bytes(size),
        });
    }
}

#[cfg(test)]
#[path = "label_tests.rs"]
mod tests;
