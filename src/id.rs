//! Identifiers: GUIDs (RFC 4122 text, GPT mixed-endian bytes), LVM IDs and root hashes.
//!
//! Grammar:
//!   guid      = 8HEX "-" 4HEX "-" 4HEX "-" 4HEX "-" 12HEX      (case-insensitive)
//!   lvm-id    = 32 of [0-9a-zA-Z!#], optionally dashed 6-4-4-4-4-4-6
//!   root-hash = an even number of hex digits, 16 to 64 bytes
//! A `Guid` holds its 16 bytes in text order; GPT stores the first three fields
//! little-endian, which `from_gpt_bytes` undoes.

use std::fmt;

/// A GUID in RFC 4122 text order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub [u8; 16]);

/// An LVM2 ID: 32 characters, shown dashed 6-4-4-4-4-4-6.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LvmId(pub [u8; 32]);

/// A dm-verity root hash (the digest of the top hash block).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RootHash(pub Vec<u8>);

/// Why an identifier did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    pub kind: &'static str,
    pub text: String,
    pub why: String,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a valid {}: {}",
            self.text, self.kind, self.why
        )
    }
}

impl std::error::Error for IdError {}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex text; `None` on an odd length or a non-hex character.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2)
        .map(|p| Some(hex_value(p[0])? << 4 | hex_value(p[1])?))
        .collect()
}

/// Lowercase hex.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

impl Guid {
    pub fn parse(text: &str) -> Result<Guid, IdError> {
        let err = |why: &str| IdError {
            kind: "GUID",
            text: text.to_string(),
            why: why.to_string(),
        };
        let b = text.as_bytes();
        if b.len() != 36 {
            return Err(err(
                "expected 36 characters like 4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
            ));
        }
        for (i, &c) in b.iter().enumerate() {
            let dash = matches!(i, 8 | 13 | 18 | 23);
            if dash != (c == b'-') || (!dash && hex_value(c).is_none()) {
                return Err(err(&format!(
                    "unexpected '{}' at position {}",
                    c as char,
                    i + 1
                )));
            }
        }
        let digits: String = text.chars().filter(|&c| c != '-').collect();
        let bytes = decode_hex(&digits).ok_or_else(|| err("not hex"))?;
        let mut out = [0u8; 16];
        out.copy_from_slice(&bytes);
        Ok(Guid(out))
    }

    /// From the 16 bytes as GPT stores them (first three fields little-endian).
    pub fn from_gpt_bytes(b: &[u8; 16]) -> Guid {
        let mut g = *b;
        g[0..4].reverse();
        g[4..6].reverse();
        g[6..8].reverse();
        Guid(g)
    }

    /// From the first 16 bytes of a slice in text order (a root hash half).
    pub fn from_slice(b: &[u8]) -> Option<Guid> {
        Some(Guid(b.get(..16)?.try_into().ok()?))
    }

    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = encode_hex(&self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

fn is_lvm_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'!' || c == b'#'
}

impl LvmId {
    /// 32 ID characters, with no dashes or dashed exactly as 6-4-4-4-4-4-6.
    pub fn parse(text: &str) -> Result<LvmId, IdError> {
        let err = |why: &str| IdError {
            kind: "LVM ID",
            text: text.to_string(),
            why: why.to_string(),
        };
        let b = text.as_bytes();
        let plain: Vec<u8> = match b.len() {
            32 => b.to_vec(),
            38 => {
                for (i, &c) in b.iter().enumerate() {
                    let dash = matches!(i, 6 | 11 | 16 | 21 | 26 | 31);
                    if dash != (c == b'-') {
                        return Err(err("dashes must group it 6-4-4-4-4-4-6"));
                    }
                }
                b.iter().copied().filter(|&c| c != b'-').collect()
            }
            _ => return Err(err("expected 32 characters, or 38 with dashes")),
        };
        if let Some(&c) = plain.iter().find(|&&c| !is_lvm_id_char(c)) {
            return Err(err(&format!(
                "'{}' is not one of 0-9 a-z A-Z ! #",
                c as char
            )));
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(&plain);
        Ok(LvmId(out))
    }

    /// The 32 characters without dashes, as in dm UUIDs and pv_header.
    pub fn plain(&self) -> &str {
        // The constructor only admits ASCII.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for LvmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.plain();
        write!(
            f,
            "{}-{}-{}-{}-{}-{}-{}",
            &s[0..6],
            &s[6..10],
            &s[10..14],
            &s[14..18],
            &s[18..22],
            &s[22..26],
            &s[26..32]
        )
    }
}

impl fmt::Debug for LvmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LvmId({self})")
    }
}

impl RootHash {
    pub fn parse(text: &str) -> Result<RootHash, IdError> {
        let err = |why: &str| IdError {
            kind: "root hash",
            text: text.to_string(),
            why: why.to_string(),
        };
        let bytes = decode_hex(text).ok_or_else(|| err("expected an even number of hex digits"))?;
        if !(16..=64).contains(&bytes.len()) {
            return Err(err(&format!(
                "{} bytes; a root hash has 16 to 64 (sha256: 32, sha512: 64)",
                bytes.len()
            )));
        }
        Ok(RootHash(bytes))
    }

    /// The Discoverable Partitions rule: the root partition's UUID is the first 128 bits.
    pub fn data_partition_uuid(&self) -> Option<Guid> {
        Guid::from_slice(&self.0)
    }

    /// ... and the verity partition's UUID is the last 128 bits.
    pub fn hash_partition_uuid(&self) -> Option<Guid> {
        let n = self.0.len();
        Guid::from_slice(self.0.get(n.checked_sub(16)?..)?)
    }

    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

impl fmt::Display for RootHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for RootHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootHash({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        let g = Guid::parse("4F68BCE3-e8cd-4db1-96e7-fbcaf984b709").unwrap();
        assert_eq!(g.to_string(), "4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
        for bad in [
            "",
            "4f68bce3e8cd4db196e7fbcaf984b709",
            "4f68bce3-e8cd-4db1-96e7-fbcaf984b70",
            "4f68bce3-e8cd-4db1-96e7-fbcaf984b70g",
            "4f68bce3-e8cd-4db1-96e7fbcaf984b7099",
            "4f68bce3-e8cd-4db1-96e7-fbcaf984b709-",
        ] {
            assert!(Guid::parse(bad).is_err(), "{bad}");
        }
        // GPT stores the first three fields little-endian.
        let on_disk = [
            0xe3, 0xbc, 0x68, 0x4f, 0xcd, 0xe8, 0xb1, 0x4d, 0x96, 0xe7, 0xfb, 0xca, 0xf9, 0x84,
            0xb7, 0x09,
        ];
        assert_eq!(Guid::from_gpt_bytes(&on_disk), g);
    }

    #[test]
    fn lvm_ids() {
        let dashed = "Lx3Za1-2Bcd-3Efg-4Hij-5Klm-6Nop-7Qrs!#9";
        assert!(LvmId::parse(dashed).is_err(), "39 chars");
        let dashed = "Lx3Za1-2Bcd-3Efg-4Hij-5Klm-6Nop-7Qrs!#";
        let id = LvmId::parse(dashed).unwrap();
        assert_eq!(id.to_string(), dashed);
        assert_eq!(id.plain(), "Lx3Za12Bcd3Efg4Hij5Klm6Nop7Qrs!#");
        assert_eq!(LvmId::parse(id.plain()).unwrap(), id);
        for bad in [
            "",
            "Lx3Za12Bcd3Efg4Hij5Klm6Nop7Qrs!",
            "Lx3Za12Bcd3Efg4Hij5Klm6Nop7Qrs!$",
            "Lx3Za1-2Bcd3-Efg-4Hij-5Klm-6Nop-7Qrs!#",
        ] {
            assert!(LvmId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn root_hashes_and_dps_halves() {
        let text = "4f68bce3e8cd4db196e7fbcaf984b7092c7357edebd246d9aec123d437ec2bf5";
        let h = RootHash::parse(text).unwrap();
        assert_eq!(h.to_hex(), text);
        assert_eq!(
            h.data_partition_uuid().unwrap().to_string(),
            "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
        );
        assert_eq!(
            h.hash_partition_uuid().unwrap().to_string(),
            "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
        );
        for bad in ["", "abc", "zz", &"00".repeat(15), &"00".repeat(65)] {
            assert!(RootHash::parse(bad).is_err(), "{bad}");
        }
    }
}
