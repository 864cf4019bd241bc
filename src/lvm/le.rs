//! Little-endian fields of LVM2's on-disk structures, read from a buffer at a byte
//! offset. `None` when the field does not lie inside the buffer.

/// `N` bytes at `at`.
pub(super) fn bytes_at<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub(super) fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    bytes_at(buf, at).map(u32::from_le_bytes)
}

pub(super) fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    bytes_at(buf, at).map(u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_stay_inside() {
        let buf = [1, 0, 0, 0, 2, 0, 0, 0, 3];
        assert_eq!(u32_at(&buf, 0), Some(1));
        assert_eq!(u64_at(&buf, 0), Some(0x2_0000_0001));
        assert_eq!(u32_at(&buf, 5), Some(0x0300_0000));
        assert_eq!(u32_at(&buf, 6), None);
        assert_eq!(u64_at(&buf, usize::MAX), None);
        assert_eq!(bytes_at::<2>(&buf, 7), Some([0, 3]));
    }
}
