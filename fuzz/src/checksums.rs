//! Checksums recomputed over fuzzed bytes, so that the readers get past their first check
//! and the fuzzer reaches the ones behind it: lvm2's label and metadata area CRCs
//! (`calc_crc`) and GPT's header and entry array CRC-32s, wherever their structures sit
//! in a device. Each `fix_*` rewrites only the checksum fields of structures it
//! recognises (by their magic) and that lie wholly inside the bytes.

use verinit::disk::crc32::crc32;
use verinit::lvm::crc::{calc_crc, INITIAL_CRC};

pub(crate) const LABEL_ID: &[u8] = b"LABELONE";
const MDA_MAGIC: &[u8] = b" LVM2 x[5A%r0N*>";
const GPT_SIGNATURE: &[u8] = b"EFI PART";

pub(crate) fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(crate) fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

fn put_u32(b: &mut [u8], at: usize, value: u32) {
    if let Some(field) = at.checked_add(4).and_then(|end| b.get_mut(at..end)) {
        field.copy_from_slice(&value.to_le_bytes());
    }
}

/// Recomputes the checksum of every LVM label (a 512-byte sector that starts LABELONE).
pub(crate) fn fix_labels(dev: &mut [u8]) {
    for sector in dev.chunks_exact_mut(512) {
        if sector.starts_with(LABEL_ID) {
            let crc = calc_crc(INITIAL_CRC, sector.get(20..).unwrap_or_default());
            put_u32(sector, 16, crc);
        }
    }
}

/// Recomputes the checksums of the metadata area header at `start` and of the text its
/// slot 0 names (wrapping as the reader does), when they lie inside `dev`.
pub(crate) fn fix_mda(dev: &mut [u8], start: usize) {
    let Some(header) = start.checked_add(512).and_then(|end| dev.get(start..end)) else {
        return;
    };
    if header.get(4..20) != Some(MDA_MAGIC) {
        return;
    }
    let field = |at| le_u64(header, at).and_then(|v| usize::try_from(v).ok());
    if let (Some(size), Some(offset), Some(len)) = (field(32), field(40), field(48)) {
        let first = len.min(size.saturating_sub(offset));
        let parts = [(offset, first), (512, len - first)];
        let mut crc = Some(INITIAL_CRC);
        for (at, n) in parts {
            let bytes = start
                .checked_add(at)
                .and_then(|from| Some((from, from.checked_add(n)?)))
                .and_then(|(from, to)| dev.get(from..to));
            crc = crc.zip(bytes).map(|(crc, bytes)| calc_crc(crc, bytes));
        }
        let plausible = offset >= 512 && offset < size && len > 0;
        if let (Some(crc), true) = (crc, plausible) {
            put_u32(dev, start + 56, crc);
        }
    }
    let crc = calc_crc(
        INITIAL_CRC,
        dev.get(start + 4..start + 512).unwrap_or_default(),
    );
    put_u32(dev, start, crc);
}

/// Recomputes the CRCs of the GPT header at byte `at`, read as sector `my_lba` of a
/// volume with `ss`-byte sectors, and of its entry array, when they lie inside `dev`.
pub(crate) fn fix_gpt(dev: &mut [u8], at: usize, ss: usize) {
    let Some(header) = at.checked_add(ss).and_then(|end| dev.get(at..end)) else {
        return;
    };
    if !header.starts_with(GPT_SIGNATURE) {
        return;
    }
    let number = |at| le_u64(header, at).and_then(|v| usize::try_from(v).ok());
    let base = number(24)
        .and_then(|lba| lba.checked_mul(ss))
        .and_then(|off| at.checked_sub(off));
    let entries = base
        .zip(number(72))
        .and_then(|(base, lba)| base.checked_add(lba.checked_mul(ss)?));
    let count = le_u32(header, 80).unwrap_or(0) as usize;
    let entry_size = le_u32(header, 84).unwrap_or(0) as usize;
    let header_size = le_u32(header, 12).unwrap_or(0) as usize;
    if let Some(array) = entries
        .zip(count.checked_mul(entry_size))
        .and_then(|(from, n)| dev.get(from..from.checked_add(n)?))
    {
        let crc = crc32(array);
        put_u32(dev, at + 88, crc);
    }
    if (92..=ss).contains(&header_size) {
        let mut covered = dev.get(at..at + header_size).unwrap_or_default().to_vec();
        if let Some(field) = covered.get_mut(16..20) {
            field.fill(0);
        }
        put_u32(dev, at + 16, crc32(&covered));
    }
}

/// Every checksum the scan checks, wherever its structure sits in a device: labels, then
/// metadata areas (text, then header), then GPT headers as for `gpt_ss`-byte sectors.
pub(crate) fn fix_all(dev: &mut [u8], gpt_ss: usize) {
    fix_labels(dev);
    for at in (0..dev.len()).step_by(512) {
        match dev.get(at..at + 20) {
            Some(head) if head.get(4..20) == Some(MDA_MAGIC) => fix_mda(dev, at),
            Some(head) if head.starts_with(GPT_SIGNATURE) && at % gpt_ss == 0 => {
                fix_gpt(dev, at, gpt_ss)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verinit::disk::source::MemSource;
    use verinit::lvm::label;

    #[test]
    fn fixed_checksums_satisfy_the_readers() {
        // A label with a wrong CRC is refused, and read once fixed.
        let mut dev = vec![0u8; 2048];
        dev[512..520].copy_from_slice(LABEL_ID);
        dev[520] = 1; // sector_xl
        dev[532..536].copy_from_slice(&32u32.to_le_bytes());
        dev[536..544].copy_from_slice(b"LVM2 001");
        dev[544..576].copy_from_slice(&[b'A'; 32]);
        let src = MemSource::new("d", dev.clone());
        assert!(label::read_label(&src).is_err());
        fix_labels(&mut dev);
        let src = MemSource::new("d", dev);
        assert!(label::read_label(&src).unwrap().is_some());
    }
}
