//! Units of size and position on block devices.
//!
//! `Sectors` are always 512-byte sectors, the unit of LVM metadata and of every
//! device-mapper table, whatever the device's logical block size. `Bytes` are bytes.
//! They are distinct types so that a sector count is never used as a byte offset.
//! Every conversion that can overflow is checked: the numbers come from disks.

use std::fmt;

/// Bytes in one 512-byte sector.
pub const SECTOR_SIZE: u64 = 512;

/// A count or position in 512-byte sectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sectors(pub u64);

/// A count or position in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

impl Sectors {
    /// The same length in bytes, or `None` when it does not fit in a u64.
    pub fn to_bytes(self) -> Option<Bytes> {
        self.0.checked_mul(SECTOR_SIZE).map(Bytes)
    }

    pub fn checked_add(self, other: Sectors) -> Option<Sectors> {
        self.0.checked_add(other.0).map(Sectors)
    }

    pub fn checked_sub(self, other: Sectors) -> Option<Sectors> {
        self.0.checked_sub(other.0).map(Sectors)
    }

    pub fn checked_mul(self, n: u64) -> Option<Sectors> {
        self.0.checked_mul(n).map(Sectors)
    }
}

impl Bytes {
    /// Whole sectors in this many bytes, or `None` when it is not a multiple of 512.
    pub fn to_sectors_exact(self) -> Option<Sectors> {
        (self.0 % SECTOR_SIZE == 0).then_some(Sectors(self.0 / SECTOR_SIZE))
    }

    /// Whole sectors in this many bytes, rounding down.
    pub fn to_sectors_floor(self) -> Sectors {
        Sectors(self.0 / SECTOR_SIZE)
    }

    pub fn checked_add(self, other: Bytes) -> Option<Bytes> {
        self.0.checked_add(other.0).map(Bytes)
    }
}

impl fmt::Display for Sectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Bytes {
    /// Human size: `512 B`, `64 MiB`, `1.5 GiB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        let mut unit = 0;
        let mut whole = self.0;
        while whole >= 1024 && unit + 1 < UNITS.len() {
            whole /= 1024;
            unit += 1;
        }
        if unit == 0 {
            return write!(f, "{} B", self.0);
        }
        let scale = 1u64 << (10 * unit);
        let tenths = (self.0 % scale) * 10 / scale;
        if tenths == 0 {
            write!(f, "{} {}", whole, UNITS[unit])
        } else {
            write!(f, "{}.{} {}", whole, tenths, UNITS[unit])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_checked() {
        assert_eq!(Sectors(8).to_bytes(), Some(Bytes(4096)));
        assert_eq!(Sectors(u64::MAX).to_bytes(), None);
        assert_eq!(Bytes(4096).to_sectors_exact(), Some(Sectors(8)));
        assert_eq!(Bytes(4097).to_sectors_exact(), None);
        assert_eq!(Bytes(4097).to_sectors_floor(), Sectors(8));
    }

    #[test]
    fn human_sizes() {
        for (bytes, text) in [
            (0, "0 B"),
            (512, "512 B"),
            (1024, "1 KiB"),
            (64 << 20, "64 MiB"),
            (3 << 29, "1.5 GiB"),
        ] {
            assert_eq!(Bytes(bytes).to_string(), text);
        }
    }
}
