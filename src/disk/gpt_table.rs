//! GPT partition tables (UEFI 2.10 section 5.3). Every header field is checked here before
//! the `gpt` crate decodes the entries: it asserts on an entry size other than 128.
//!
//! ```text
//! Header, at LBA 1 and (backup) at the last LBA:
//!   0 "EFI PART"        8 revision u32     12 header_size u32 (92..=sector size)
//!  16 header_crc32 u32 (CRC-32 of header_size bytes, this field zeroed)   20 reserved u32
//!  24 my_lba u64       32 alternate_lba u64   40 first_usable u64   48 last_usable u64
//!  56 disk_guid[16]    72 entries_lba u64     80 entry_count u32    84 entry_size u32 (128)
//!  88 entries_crc32 u32 (CRC-32 of the entry array)
//! Entry, 128 bytes: 0 type[16]  16 unique[16]  32 first_lba u64  40 last_lba u64
//!   48 attributes u64  56 name, 36 UTF-16LE units. GUIDs are stored mixed-endian.
//! ```

use std::fmt;
use std::io::Cursor;

use crate::disk::source::{read_vec, ReadAt};
use crate::id::Guid;
use crate::units::Bytes;

/// The most entries verinit reads (sgdisk and systemd-repart write 128).
pub const MAX_ENTRIES: u32 = 4096;
const ENTRY_SIZE: u32 = 128;

/// A validated GPT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GptDisk {
    pub sector_size: u32,
    pub disk_guid: Guid,
    /// Used entries only, in table order.
    pub partitions: Vec<GptPartition>,
    /// The primary header or its entries were bad and the backup was used: why, and
    /// where each copy is.
    pub used_backup: Option<BackupUsed>,
}

/// Why a GPT was read from its backup: a warning, since the disk still reads, but the
/// next bad sector there leaves no copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupUsed {
    /// What is wrong with the primary (its offset: the header, or the entry at fault).
    pub primary: GptError,
    /// Byte offsets of the primary header (LBA 1) and of the backup used (the last LBA).
    pub primary_offset: u64,
    pub backup_offset: u64,
}

impl BackupUsed {
    /// The warning for a person; `repair` is what to run sgdisk on (`/dev/vda`,
    /// `/dev/vg0/root`).
    pub fn warning(&self, repair: &str) -> String {
        format!(
            "{}; the primary GPT header at offset {} cannot be used, so the backup GPT at \
             offset {} (which is good) was used. verinit never writes to a disk: `sgdisk -v \
             {repair}` shows the damage and `sgdisk -e {repair}` rewrites the primary from the \
             backup (or write the image again)",
            self.primary, self.primary_offset, self.backup_offset
        )
    }
}

/// One used partition entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GptPartition {
    /// 1-based index in the entry array, as in `/dev/vda3`.
    pub number: u32,
    pub type_guid: Guid,
    pub part_guid: Guid,
    pub first_lba: u64,
    pub last_lba: u64,
    pub start: Bytes,
    pub size: Bytes,
    pub name: String,
    pub attributes: u64,
}

/// A GPT that is there but cannot be trusted, or could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GptError {
    pub device: String,
    pub offset: u64,
    pub cause: String,
}

impl fmt::Display for GptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad GPT on {} at offset {}: {}",
            self.device, self.offset, self.cause
        )
    }
}

impl std::error::Error for GptError {}

use crate::disk::crc32::crc32;

fn le_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The header fields verinit uses, checked.
#[derive(Debug)]
struct Header {
    first_usable: u64,
    last_usable: u64,
    disk_guid: Guid,
    entries_lba: u64,
    entry_count: u32,
    entries_crc: u32,
}

/// Parses the header in `sector` (one sector), read from `lba` of a device of `sectors`
/// sectors; `Ok(None)` without the signature. Errors are causes: the caller adds the
/// device and offset.
fn parse_header(sector: &[u8], lba: u64, sectors: u64) -> Result<Option<Header>, String> {
    if sector.get(..8) != Some(b"EFI PART") {
        return Ok(None);
    }
    let size = le_u32(sector, 12) as usize;
    let mut covered = match sector.get(..size) {
        Some(bytes) if size >= 92 => bytes.to_vec(),
        _ => {
            return Err(format!(
                "header size {size} is not within 92..={}",
                sector.len()
            ))
        }
    };
    if let Some(field) = covered.get_mut(16..20) {
        field.fill(0);
    }
    let (stored, computed) = (le_u32(sector, 16), crc32(&covered));
    if stored != computed {
        return Err(format!(
            "header CRC32 {stored:#010x} != computed {computed:#010x}"
        ));
    }
    let my_lba = le_u64(sector, 24);
    if my_lba != lba {
        return Err(format!(
            "the header says it is at LBA {my_lba} but was read from LBA {lba}: wrong sector \
             size, or an image copied to a device of another size"
        ));
    }
    let entry_size = le_u32(sector, 84);
    if entry_size != ENTRY_SIZE {
        return Err(format!(
            "unsupported partition entry size {entry_size}: only 128 is supported (as by Linux)"
        ));
    }
    let mut guid = [0u8; 16];
    guid.copy_from_slice(sector.get(56..72).unwrap_or(&[0; 16]));
    let h = Header {
        first_usable: le_u64(sector, 40),
        last_usable: le_u64(sector, 48),
        disk_guid: Guid::from_gpt_bytes(&guid),
        entries_lba: le_u64(sector, 72),
        entry_count: le_u32(sector, 80),
        entries_crc: le_u32(sector, 88),
    };
    if h.entry_count > MAX_ENTRIES {
        return Err(format!(
            "{} partition entries, more than {MAX_ENTRIES}",
            h.entry_count
        ));
    }
    let usable = h.first_usable..=h.last_usable;
    if usable.is_empty() || h.last_usable >= sectors || usable.contains(&lba) {
        return Err(format!(
            "usable LBAs {}..={} do not fit beside the header in a device of {sectors} \
             sectors: the image was truncated or the sector size is wrong",
            h.first_usable, h.last_usable
        ));
    }
    let array_bytes = u64::from(h.entry_count) * u64::from(ENTRY_SIZE);
    let array_end = h
        .entries_lba
        .checked_add(array_bytes.div_ceil(sector.len().max(1) as u64))
        .filter(|&end| end <= sectors);
    let Some(array_end) = array_end else {
        return Err(format!(
            "the entry array at LBA {} ends past the device",
            h.entries_lba
        ));
    };
    let array = h.entries_lba..array_end;
    if !array.is_empty()
        && (array.contains(&lba) || (array.start <= h.last_usable && h.first_usable < array.end))
    {
        return Err(format!(
            "the entry array at LBAs {}..{} overlaps the header or the usable area",
            array.start, array.end
        ));
    }
    Ok(Some(h))
}

/// Reads the table whose header is at `lba`; `Ok(None)` without a signature there.
fn read_table(src: &dyn ReadAt, ss: u32, lba: u64) -> Result<Option<GptDisk>, GptError> {
    let ss64 = u64::from(ss);
    let sectors = src.len() / ss64;
    let header_offset = lba.saturating_mul(ss64);
    let fail = |offset: u64, cause: String| GptError {
        device: src.name().to_string(),
        offset,
        cause,
    };
    if sectors < 3 || lba >= sectors {
        return Ok(None);
    }
    // The header and, where GPTs put it, the entry array after it (128 entries of 128
    // bytes): one wait for both.
    src.prefetch(header_offset, ss64 + 128 * u64::from(ENTRY_SIZE));
    let sector = read_vec(src, header_offset, ss64).map_err(|e| fail(header_offset, e.cause))?;
    let Some(h) = parse_header(&sector, lba, sectors).map_err(|c| fail(header_offset, c))? else {
        return Ok(None);
    };
    // parse_header proved the array lies inside the device.
    let entries_offset = h.entries_lba * ss64;
    let len = u64::from(h.entry_count) * u64::from(ENTRY_SIZE);
    let entries = read_vec(src, entries_offset, len).map_err(|e| fail(entries_offset, e.cause))?;
    let computed = crc32(&entries);
    if computed != h.entries_crc {
        return Err(fail(
            entries_offset,
            format!(
                "entry array CRC32 {:#010x} != computed {computed:#010x}",
                h.entries_crc
            ),
        ));
    }
    let partitions = decode_entries(&entries, &h, ss)
        .map_err(|(index, cause)| fail(entries_offset + index * u64::from(ENTRY_SIZE), cause))?;
    Ok(Some(GptDisk {
        sector_size: ss,
        disk_guid: h.disk_guid,
        partitions,
        used_backup: None,
    }))
}

/// Decodes the validated entry array with the `gpt` crate, then checks each used entry;
/// errors carry the 0-based entry index.
fn decode_entries(entries: &[u8], h: &Header, ss: u32) -> Result<Vec<GptPartition>, (u64, String)> {
    let lb =
        gpt::disk::LogicalBlockSize::try_from(u64::from(ss)).map_err(|e| (0, e.to_string()))?;
    // The crate's reader only uses the entry geometry: the array starts at 0 of the cursor.
    let header = gpt::header::Header {
        signature: "EFI PART".to_string(),
        revision: (1, 0),
        header_size_le: 92,
        crc32: 0,
        reserved: 0,
        current_lba: 0,
        backup_lba: 0,
        first_usable: h.first_usable,
        last_usable: h.last_usable,
        disk_guid: gpt::partition_types::UNUSED.guid,
        part_start: 0,
        num_parts: h.entry_count,
        part_size: ENTRY_SIZE,
        crc32_parts: h.entries_crc,
    };
    let decoded = gpt::partition::file_read_partitions(&mut Cursor::new(entries), &header, lb)
        .map_err(|e| (0, format!("cannot decode the entries: {e}")))?;
    let ss = u64::from(ss);
    let mut out: Vec<GptPartition> = Vec::new();
    for (number, p) in decoded.into_iter().filter(|(_, p)| p.is_used()) {
        let index = u64::from(number.saturating_sub(1));
        let inside = p.first_lba <= p.last_lba
            && p.first_lba >= h.first_usable
            && p.last_lba <= h.last_usable;
        if !inside {
            return Err((
                index,
                format!(
                    "partition {number} spans LBAs {}..={}, outside the usable LBAs {}..={}",
                    p.first_lba, p.last_lba, h.first_usable, h.last_usable
                ),
            ));
        }
        if let Some(other) = out
            .iter()
            .find(|o| o.first_lba <= p.last_lba && p.first_lba <= o.last_lba)
        {
            return Err((
                index,
                format!("partition {number} overlaps partition {}", other.number),
            ));
        }
        // Inside the device, so these fit in a u64.
        out.push(GptPartition {
            number,
            type_guid: Guid(*p.part_type_guid.guid.as_bytes()),
            part_guid: Guid(*p.part_guid.as_bytes()),
            first_lba: p.first_lba,
            last_lba: p.last_lba,
            start: Bytes(p.first_lba * ss),
            size: Bytes((p.last_lba - p.first_lba + 1) * ss),
            name: p.name,
            attributes: p.flags,
        });
    }
    Ok(out)
}

/// Reads the GPT of `src`. With no `sector_size`, looks for a header at LBA 1 for 512-byte,
/// then 4096-byte sectors. When the primary header or its entries are bad and the backup
/// at the last LBA is good, returns the backup with `used_backup`. `Ok(None)`: no GPT.
pub fn read_gpt(src: &dyn ReadAt, sector_size: Option<u32>) -> Result<Option<GptDisk>, GptError> {
    let sizes: &[u32] = match sector_size {
        None => &[512, 4096],
        Some(512) => &[512],
        Some(4096) => &[4096],
        Some(other) => {
            return Err(GptError {
                device: src.name().to_string(),
                offset: 0,
                cause: format!("unsupported sector size {other}: only 512 and 4096 are"),
            })
        }
    };
    // The backup at the last LBA, used because of `primary`.
    let backup = |ss: u32, primary: GptError| {
        let last = (src.len() / u64::from(ss)).saturating_sub(1);
        read_table(src, ss, last).map(|d| {
            d.map(|d| GptDisk {
                used_backup: Some(BackupUsed {
                    primary,
                    primary_offset: u64::from(ss),
                    backup_offset: last.saturating_mul(u64::from(ss)),
                }),
                ..d
            })
        })
    };
    for &ss in sizes {
        match read_table(src, ss, 1) {
            Ok(Some(disk)) => return Ok(Some(disk)),
            Ok(None) => {}
            Err(mut primary) => {
                return match backup(ss, primary.clone()) {
                    Ok(Some(disk)) => Ok(Some(disk)),
                    Ok(None) => {
                        primary.cause += "; there is no backup header at the last LBA either";
                        Err(primary)
                    }
                    Err(b) => {
                        primary.cause += &format!(
                            "; the backup at offset {} is bad too: {}",
                            b.offset, b.cause
                        );
                        Err(primary)
                    }
                };
            }
        }
    }
    // No primary signature: a wiped primary header may still have a good backup. A last
    // sector that cannot be read is no sign of a GPT: the device is then read without one
    // (a whole-disk PV whose second metadata area fails to read stays a PV).
    for &ss in sizes {
        let last = (src.len() / u64::from(ss)).saturating_sub(1);
        if read_vec(src, last.saturating_mul(u64::from(ss)), u64::from(ss)).is_err() {
            continue;
        }
        let wiped = GptError {
            device: src.name().to_string(),
            offset: u64::from(ss),
            cause: "no \"EFI PART\" signature at LBA 1: the primary header is missing or wiped"
                .into(),
        };
        if let Some(disk) = backup(ss, wiped)? {
            return Ok(Some(disk));
        }
    }
    Ok(None)
}

#[cfg(test)]
#[path = "gpt_table_tests.rs"]
mod tests;
