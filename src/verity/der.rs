//! DER (ITU-T X.690), as much as a PKCS#7 signature needs: one element at a time (a
//! one-byte tag, a definite length of at most 4 bytes, then contents that must fit in
//! what is left of the parent), the tags the signature uses, and the names of the OIDs it
//! may carry (algorithms, name attributes), else their dotted form. Errors are
//! `Pkcs7Error`s at a byte offset in the whole DER.

use super::pkcs7::Pkcs7Error;

pub(super) const SEQUENCE: u8 = 0x30;
pub(super) const SET: u8 = 0x31;
pub(super) const INTEGER: u8 = 0x02;
pub(super) const OCTET_STRING: u8 = 0x04;
pub(super) const OID: u8 = 0x06;
pub(super) const CONTEXT_0: u8 = 0xa0;
pub(super) const CONTEXT_1: u8 = 0xa1;
pub(super) const CONTEXT_0_PRIMITIVE: u8 = 0x80;

/// One DER element: its tag, where it starts, and its contents.
#[derive(Clone, Copy)]
pub(super) struct Tlv<'a> {
    pub(super) tag: u8,
    pub(super) at: usize,
    pub(super) body: &'a [u8],
    pub(super) body_at: usize,
}

/// Reads the elements of a constructed element's contents in order.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    base: usize,
    pos: usize,
}

pub(super) fn fail<T>(offset: usize, why: impl Into<String>) -> Result<T, Pkcs7Error> {
    Err(Pkcs7Error {
        offset,
        why: why.into(),
    })
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, base, pos: 0 }
    }

    pub(super) fn of(t: &Tlv<'a>) -> Self {
        Reader::new(t.body, t.body_at)
    }

    pub(super) fn at(&self) -> usize {
        self.base + self.pos
    }

    pub(super) fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(super) fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(super) fn next(&mut self) -> Result<Tlv<'a>, Pkcs7Error> {
        let at = self.at();
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let (&tag, rest) = match rest.split_first() {
            Some(x) => x,
            None => return fail(at, "ends where another element was expected"),
        };
        if tag & 0x1f == 0x1f {
            return fail(
                at,
                format!("tag 0x{tag:02x}: multi-byte tags are not used here"),
            );
        }
        let (&first, rest) = match rest.split_first() {
            Some(x) => x,
            None => return fail(at + 1, "ends inside a length"),
        };
        let (len, len_bytes) =
            match first {
                0x80 => return fail(
                    at + 1,
                    "an indefinite length (BER, not DER): write the signature with -outform der",
                ),
                n if n < 0x80 => (usize::from(n), 0),
                n => {
                    let count = usize::from(n & 0x7f);
                    if count > 4 {
                        return fail(at + 1, format!("a length of {count} bytes"));
                    }
                    let Some(bytes) = rest.get(..count) else {
                        return fail(at + 1, "ends inside a length");
                    };
                    let len = bytes.iter().fold(0usize, |v, &b| (v << 8) | usize::from(b));
                    (len, count)
                }
            };
        let body_at = at + 2 + len_bytes;
        let body = match rest.get(len_bytes..len_bytes.saturating_add(len)) {
            Some(b) => b,
            None => {
                return fail(
                    at,
                    format!(
                        "an element of {len} bytes, but only {} are left",
                        rest.len().saturating_sub(len_bytes)
                    ),
                )
            }
        };
        self.pos += 2 + len_bytes + len;
        Ok(Tlv {
            tag,
            at,
            body,
            body_at,
        })
    }

    pub(super) fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, Pkcs7Error> {
        let t = self.next()?;
        if t.tag != tag {
            return fail(
                t.at,
                format!(
                    "expected {what} (tag 0x{tag:02x}), found tag 0x{:02x}",
                    t.tag
                ),
            );
        }
        Ok(t)
    }

    /// The next element if it has this tag.
    pub(super) fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, Pkcs7Error> {
        if self.peek_tag() == Some(tag) {
            self.next().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Known object identifiers (DER contents) and their names.
const OIDS: &[(&[u8], &str)] = &[
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
        "data",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
        "signedData",
    ),
    (&[0x2b, 0x0e, 0x03, 0x02, 0x1a], "sha1"),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
        "sha256",
    ),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
        "sha384",
    ),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
        "sha512",
    ),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04],
        "sha224",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
        "rsa",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a],
        "rsa-pss",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        "sha256-rsa",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
        "sha384-rsa",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
        "sha512-rsa",
    ),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], "ecdsa"),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        "sha256-ecdsa",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        "sha384-ecdsa",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        "sha512-ecdsa",
    ),
    (&[0x2b, 0x65, 0x70], "ed25519"),
    (&[0x55, 0x04, 0x03], "CN"),
    (&[0x55, 0x04, 0x0a], "O"),
];

/// An OID's name, or its dotted form.
pub(super) fn oid_name(body: &[u8]) -> String {
    if let Some((_, name)) = OIDS.iter().find(|(b, _)| *b == body) {
        return (*name).to_string();
    }
    let mut arcs: Vec<String> = Vec::new();
    let mut v: u64 = 0;
    for (i, &b) in body.iter().enumerate() {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 != 0 {
            if v > u64::MAX >> 7 {
                return "a malformed OID".into();
            }
            continue;
        }
        if arcs.is_empty() {
            let first = (v / 40).min(2);
            arcs.push(first.to_string());
            arcs.push((v - first * 40).to_string());
        } else {
            arcs.push(v.to_string());
        }
        v = 0;
        if i + 1 == body.len() {
            break;
        }
    }
    format!("OID {}", arcs.join("."))
}

pub(super) fn algorithm(r: &mut Reader<'_>, what: &str) -> Result<String, Pkcs7Error> {
    let seq = r.expect(SEQUENCE, what)?;
    let oid = Reader::of(&seq).expect(OID, what)?;
    Ok(oid_name(oid.body))
}
