//! Strict base64 (RFC 4648 section 4, standard alphabet, `=` padding) for the signature
//! partition's `signature` field.
//!
//! Grammar: `base64 = *(4 alphabet) [2 alphabet "==" / 3 alphabet "="]`. Anything else is
//! refused: whitespace, line breaks, the URL-safe alphabet, missing or extra padding, and
//! non-zero bits left over in the last group (a second spelling of the same bytes).

/// Why a base64 text did not decode; `position` counts characters from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Error {
    pub position: usize,
    pub why: &'static str,
}

impl std::fmt::Display for Base64Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid base64 at character {}: {}",
            self.position, self.why
        )
    }
}

impl std::error::Error for Base64Error {}

fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes standard, padded base64.
pub fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let b = text.as_bytes();
    if b.len() % 4 != 0 {
        return Err(Base64Error {
            position: b.len(),
            why: "length is not a multiple of 4 (missing '=' padding?)",
        });
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    let groups = b.len() / 4;
    for (g, quad) in b.chunks_exact(4).enumerate() {
        let last = g + 1 == groups;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            let at = quad.iter().position(|&c| c == b'=').unwrap_or(0);
            return Err(Base64Error {
                position: g * 4 + at,
                why: "'=' is only allowed as one or two characters at the very end",
            });
        }
        let mut n = 0u32;
        for (i, &c) in quad.iter().take(4 - pad).enumerate() {
            let v = value(c).ok_or(Base64Error {
                position: g * 4 + i,
                why: "not in the base64 alphabet A-Z a-z 0-9 + /",
            })?;
            n |= v << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        let keep = 3 - pad;
        // The bits below the kept bytes must be zero: only one spelling is accepted.
        if n & (0xff_ffff >> (8 * keep)) != 0 {
            return Err(Base64Error {
                position: g * 4 + 3 - pad,
                why: "non-zero bits before the padding",
            });
        }
        out.extend(bytes.iter().skip(1).take(keep));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (text, bytes) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(decode(text).unwrap(), bytes.as_bytes(), "{text}");
        }
        assert_eq!(decode("+/8=").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn near_misses() {
        for (text, at) in [
            ("Zg", 2),         // no padding
            ("Zg=", 3),        // short padding
            ("Zg===", 5),      // length
            ("Z===", 1),       // three '='
            ("Zg==Zm9v", 2),   // padding in the middle
            ("Zm9v\nYmFy", 9), // line break (length 9)
            ("Zm9 ", 3),       // space
            ("Zm-_", 2),       // URL-safe alphabet
            ("Zh==", 1),       // non-zero leftover bits ("f" is "Zg==")
            ("Zm9=", 2),       // ditto for two bytes ("fo" is "Zm8=")
            ("Z\u{e9}v", 1),   // non-ASCII
        ] {
            let e = decode(text).unwrap_err();
            assert_eq!(e.position, at, "{text:?}: {e}");
        }
    }
}
