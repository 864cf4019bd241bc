//! lvm2's checksum (`lib/misc/crc.c`): the reflected CRC-32 of zlib (polynomial
//! 0xEDB88320) started from `INITIAL_CRC` and with no final XOR. It chains: the checksum of
//! `a` then `b` is `calc_crc(calc_crc(INITIAL_CRC, a), b)`.

/// The initial value lvm2 uses for every checksum on disk.
pub const INITIAL_CRC: u32 = 0xf597_a6cf;

/// Continues the checksum `initial` over `data`.
pub fn calc_crc(initial: u32, data: &[u8]) -> u32 {
    crate::disk::crc32::update(initial, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit by bit, straight from the definition.
    fn slow(initial: u32, data: &[u8]) -> u32 {
        let mut crc = initial;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ crate::disk::crc32::POLYNOMIAL
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn is_zlib_crc32_without_the_final_xor() {
        // The standard CRC-32 check value of "123456789" is 0xcbf43926.
        assert_eq!(!calc_crc(!0, b"123456789"), 0xcbf4_3926);
        assert_eq!(calc_crc(INITIAL_CRC, b""), INITIAL_CRC);
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for initial in [INITIAL_CRC, 0, !0] {
            assert_eq!(calc_crc(initial, &data), slow(initial, &data));
        }
    }

    #[test]
    fn chains() {
        let data = b"vg0 {\nid = \"x\"\n}\n";
        let (a, b) = data.split_at(7);
        assert_eq!(
            calc_crc(calc_crc(INITIAL_CRC, a), b),
            calc_crc(INITIAL_CRC, data)
        );
        assert_ne!(calc_crc(INITIAL_CRC, b), calc_crc(INITIAL_CRC, data));
    }
}
