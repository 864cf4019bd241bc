//! An LVM2 metadata area (lvm2 `lib/format_text/layout.h`, `format-text.c`).
//!
//! Format (little-endian), at the area's offset on the device:
//!   mda_header  checksum u32 (over bytes 4..512), magic[16] = " LVM2 x[5A%r0N*>",
//!               version u32 = 1, start u64 (= the area's offset), size u64 (of the area),
//!               raw_locn {offset u64, size u64, checksum u32, flags u32}*, ended by zeros
//!   ring        bytes 512..size of the area, holding the metadata text
//! raw_locn slot 0 is the committed text: `offset` bytes from the area's start, `size`
//! bytes including a trailing NUL, `checksum` over all of them. When offset + size passes
//! the end of the area, the text wraps and continues at area start + 512.
//! flags bit 0 (RAW_LOCN_IGNORED): this area's copy is out of date, read another.

use std::fmt;

use crate::disk::source::{read_vec, ReadAt, ReadError};
use crate::lvm::crc::{calc_crc, INITIAL_CRC};
use crate::lvm::label::DiskArea;
use crate::lvm::le::{bytes_at, u32_at, u64_at};
use crate::units::Bytes;

pub const MDA_HEADER_SIZE: u64 = 512;
/// No metadata text longer than this is read. lvm2's own default area is 1 MiB.
pub const MAX_METADATA_TEXT: u64 = 128 << 20;

const MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
const VERSION: u32 = 1;
const RAW_LOCN_IGNORED: u32 = 1;
/// Offset of raw_locn slot 0 in the header.
const SLOT0: usize = 40;

/// The committed metadata text of one area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataText {
    /// Where the metadata area starts on the device.
    pub area_offset: Bytes,
    /// Where the text starts on the device.
    pub text_offset: Bytes,
    /// The raw_locn checksum, which the text was checked against.
    pub checksum: u32,
    /// The text, without its trailing NUL.
    pub text: Vec<u8>,
    /// The raw_locn size: the bytes checksummed, the NUL included.
    pub size: u64,
}

/// A metadata area that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdaError {
    pub device: String,
    /// Byte offset on the device of the header or text at fault.
    pub offset: u64,
    pub problem: MdaProblem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MdaProblem {
    Read(String),
    HeaderChecksum {
        stored: u32,
        computed: u32,
    },
    Magic([u8; 16]),
    Version(u32),
    /// The header records another start than the label's area offset.
    Start {
        recorded: u64,
    },
    /// The header's area size is not between 512 (exclusive) and the label's area size.
    AreaSize {
        recorded: u64,
        label: u64,
    },
    /// raw_locn slot 0 points outside the ring.
    TextOffset {
        offset: u64,
        area_size: u64,
    },
    /// The text is empty, larger than the ring or larger than `MAX_METADATA_TEXT`.
    TextSize {
        size: u64,
        limit: u64,
    },
    TextChecksum {
        stored: u32,
        computed: u32,
    },
}

impl fmt::Display for MdaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read the LVM metadata area on {} at offset {}: ",
            self.device, self.offset
        )?;
        let damaged = "this copy of the metadata is damaged (`pvck --dump metadata` shows it)";
        match &self.problem {
            MdaProblem::Read(cause) => write!(f, "{cause}"),
            MdaProblem::HeaderChecksum { stored, computed } => write!(
                f,
                "header checksum {computed:#010x} does not match the stored {stored:#010x}; \
                 {damaged}"
            ),
            MdaProblem::Magic(m) => write!(
                f,
                "no metadata area header here (magic '{}'); {damaged}",
                String::from_utf8_lossy(m).escape_debug()
            ),
            MdaProblem::Version(v) => {
                write!(
                    f,
                    "header version {v} is not 1; only LVM2 text format is supported"
                )
            }
            MdaProblem::Start { recorded } => write!(
                f,
                "the header says the area starts at {recorded} (a copied or shifted image?)"
            ),
            MdaProblem::AreaSize { recorded, label } => write!(
                f,
                "the header gives the area {recorded} bytes but the label {label}; {damaged}"
            ),
            MdaProblem::TextOffset { offset, area_size } => write!(
                f,
                "the text is said to start {offset} bytes into a {area_size}-byte area, outside \
                 its ring buffer; {damaged}"
            ),
            MdaProblem::TextSize { size, limit } => write!(
                f,
                "the text is said to be {size} bytes, but must be 1 to {limit}; {damaged}"
            ),
            MdaProblem::TextChecksum { stored, computed } => write!(
                f,
                "text checksum {computed:#010x} does not match the stored {stored:#010x}; \
                 {damaged}"
            ),
        }
    }
}

impl std::error::Error for MdaError {}

/// raw_locn: where a copy of the text lies, relative to the area's start.
struct RawLocn {
    offset: u64,
    size: u64,
    checksum: u32,
    flags: u32,
}

/// mda_header, as on disk, with its first raw_locn slot.
struct MdaHeader {
    checksum: u32,
    magic: [u8; 16],
    version: u32,
    start: u64,
    size: u64,
    slot0: RawLocn,
}

impl MdaHeader {
    /// `None` only when `bytes` is shorter than the header.
    fn read(bytes: &[u8]) -> Option<MdaHeader> {
        Some(MdaHeader {
            checksum: u32_at(bytes, 0)?,
            magic: bytes_at(bytes, 4)?,
            version: u32_at(bytes, 20)?,
            start: u64_at(bytes, 24)?,
            size: u64_at(bytes, 32)?,
            slot0: RawLocn {
                offset: u64_at(bytes, SLOT0)?,
                size: u64_at(bytes, SLOT0 + 8)?,
                checksum: u32_at(bytes, SLOT0 + 16)?,
                flags: u32_at(bytes, SLOT0 + 20)?,
            },
        })
    }
}

/// Reads the committed metadata text of the area `area` that a label names. `Ok(None)`
/// when the area holds no text (a PV in no VG) or its copy is flagged ignored.
pub fn read_metadata_area(
    src: &dyn ReadAt,
    area: &DiskArea,
) -> Result<Option<MetadataText>, MdaError> {
    read_metadata_area_after(src, area, &[])
}

/// As `read_metadata_area`, after the texts `checked` were read and checked: a text with
/// the same stored checksum and size as one of them and the same bytes is not
/// checksummed again (the same bytes have the same CRC). One VG's text sits on each of
/// its PVs, and comparing is several times cheaper than the CRC.
pub fn read_metadata_area_after(
    src: &dyn ReadAt,
    area: &DiskArea,
    checked: &[MetadataText],
) -> Result<Option<MetadataText>, MdaError> {
    let start = area.offset.0;
    let fail = |at: u64, problem| MdaError {
        device: src.name().to_string(),
        offset: start.saturating_add(at),
        problem,
    };
    let read = |offset: u64, len| {
        read_vec(src, offset, len).map_err(|e: ReadError| MdaError {
            device: src.name().to_string(),
            offset: e.offset,
            problem: MdaProblem::Read(e.cause),
        })
    };

    let bytes = read(start, MDA_HEADER_SIZE)?;
    let h = MdaHeader::read(&bytes).ok_or_else(|| fail(0, MdaProblem::Read("cut short".into())))?;
    let computed = calc_crc(INITIAL_CRC, bytes.get(4..).unwrap_or_default());
    if h.checksum != computed {
        let stored = h.checksum;
        return Err(fail(0, MdaProblem::HeaderChecksum { stored, computed }));
    }
    if &h.magic != MAGIC {
        return Err(fail(4, MdaProblem::Magic(h.magic)));
    }
    if h.version != VERSION {
        return Err(fail(20, MdaProblem::Version(h.version)));
    }
    if h.start != start {
        return Err(fail(24, MdaProblem::Start { recorded: h.start }));
    }
    let area_size = h.size;
    if area_size <= MDA_HEADER_SIZE || area_size > area.size.0 {
        let label = area.size.0;
        return Err(fail(
            32,
            MdaProblem::AreaSize {
                recorded: area_size,
                label,
            },
        ));
    }

    let RawLocn {
        offset,
        size,
        checksum,
        flags,
    } = h.slot0;
    if (offset == 0 && size == 0) || flags & RAW_LOCN_IGNORED != 0 {
        return Ok(None);
    }
    let text_offset = start
        .checked_add(offset)
        .filter(|_| (MDA_HEADER_SIZE..area_size).contains(&offset))
        .ok_or_else(|| fail(SLOT0 as u64, MdaProblem::TextOffset { offset, area_size }))?;
    // At most the whole ring, less the header; checked before anything is allocated.
    let limit = (area_size - MDA_HEADER_SIZE).min(MAX_METADATA_TEXT);
    if size == 0 || size > limit {
        return Err(fail(SLOT0 as u64 + 8, MdaProblem::TextSize { size, limit }));
    }

    // The text runs to the end of the area at most, then continues after the header.
    let first_len = size.min(area_size - offset);
    let mut text = read(text_offset, first_len)?;
    if first_len < size {
        text.extend_from_slice(&read(
            start.saturating_add(MDA_HEADER_SIZE),
            size - first_len,
        )?);
    }
    let body = text.strip_suffix(&[0]).unwrap_or(&text);
    let known = checked
        .iter()
        .any(|k| k.checksum == checksum && k.size == size && same_bytes(&k.text, body));
    let computed = if known {
        checksum
    } else {
        calc_crc(INITIAL_CRC, &text)
    };
    if computed != checksum {
        return Err(MdaError {
            device: src.name().to_string(),
            offset: text_offset,
            problem: MdaProblem::TextChecksum {
                stored: checksum,
                computed,
            },
        });
    }
    if text.last() == Some(&0) {
        text.pop();
    }
    Ok(Some(MetadataText {
        area_offset: area.offset,
        text_offset: Bytes(text_offset),
        checksum,
        text,
        size,
    }))
}

/// Whether two byte strings are equal, compared 16 bytes at a time (musl's memcmp, which
/// `==` on slices calls, goes a byte at a time).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tails_equal = ca.remainder() == cb.remainder();
    tails_equal
        && ca.zip(cb).all(|(x, y)| {
            let x = u128::from_ne_bytes(x.try_into().unwrap_or_default());
            let y = u128::from_ne_bytes(y.try_into().unwrap_or_default());
            x == y
        })
}

#[cfg(test)]
#[path = "mda_tests.rs"]
mod tests;
