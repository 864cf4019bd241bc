//! The shape of a root hash signature: DER PKCS#7 (RFC 2315) SignedData, detached, as the
//! kernel's `verify_pkcs7_signature()` takes it for `root_hash_sig_key_desc`. verinit
//! checks the structure and reports who signed with what; it checks no cryptography: the
//! kernel does, against its trusted keys.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType OID signedData, content [0] EXPLICIT SignedData }
//! SignedData  ::= SEQUENCE { version INTEGER, digestAlgorithms SET OF AlgorithmIdentifier,
//!                   contentInfo SEQUENCE { contentType OID data, content [0] absent },
//!                   certificates [0] OPTIONAL, crls [1] OPTIONAL, signerInfos SET OF SignerInfo }
//! SignerInfo  ::= SEQUENCE { version INTEGER,
//!                   sid issuerAndSerialNumber SEQUENCE { issuer Name, serial INTEGER }
//!                       | subjectKeyIdentifier [0],
//!                   digestAlgorithm AlgorithmIdentifier, authenticatedAttributes [0] OPTIONAL,
//!                   digestEncryptionAlgorithm AlgorithmIdentifier, encryptedDigest OCTET STRING,
//!                   unauthenticatedAttributes [1] OPTIONAL }
//! ```
//! Definite lengths only (DER); nothing may follow the ContentInfo.

use std::fmt;

use crate::id::encode_hex;

/// Who signed, with what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// `CN=...` of the issuer and the serial number, or the subject key identifier.
    pub id: String,
    pub digest: String,
    pub algorithm: String,
}

/// What a well-formed signature says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs7Info {
    pub signers: Vec<Signer>,
    /// Certificates carried in the message (the kernel uses its own keys, not these).
    pub certificates: usize,
}

impl fmt::Display for Pkcs7Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PKCS#7")?;
        for (i, s) in self.signers.iter().enumerate() {
            let sep = if i == 0 { " signed by" } else { " and" };
            write!(f, "{sep} {} ({}, {})", s.id, s.digest, s.algorithm)?;
        }
        Ok(())
    }
}

/// Why the bytes are not a usable signature; `offset` is a byte offset in the DER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs7Error {
    pub offset: usize,
    pub why: String,
}

impl fmt::Display for Pkcs7Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a PKCS#7 signature the kernel takes, at byte {} of the DER: {}",
            self.offset, self.why
        )
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const CONTEXT_0: u8 = 0xa0;
const CONTEXT_1: u8 = 0xa1;
const CONTEXT_0_PRIMITIVE: u8 = 0x80;

/// Most signers verinit lists; the kernel needs one that it trusts.
const MAX_SIGNERS: usize = 16;

/// One DER element: its tag, where it starts, and its contents.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    at: usize,
    body: &'a [u8],
    body_at: usize,
}

/// Reads the elements of a constructed element's contents in order.
struct Reader<'a> {
    buf: &'a [u8],
    base: usize,
    pos: usize,
}

fn fail<T>(offset: usize, why: impl Into<String>) -> Result<T, Pkcs7Error> {
    Err(Pkcs7Error {
        offset,
        why: why.into(),
    })
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, base, pos: 0 }
    }

    fn of(t: &Tlv<'a>) -> Self {
        Reader::new(t.body, t.body_at)
    }

    fn at(&self) -> usize {
        self.base + self.pos
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<Tlv<'a>, Pkcs7Error> {
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

    fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, Pkcs7Error> {
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
    fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, Pkcs7Error> {
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
fn oid_name(body: &[u8]) -> String {
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

fn algorithm(r: &mut Reader<'_>, what: &str) -> Result<String, Pkcs7Error> {
    let seq = r.expect(SEQUENCE, what)?;
    let oid = Reader::of(&seq).expect(OID, what)?;
    Ok(oid_name(oid.body))
}

/// The common name (else the organisation) of an X.501 Name, printable.
fn name_text(name: &Tlv<'_>) -> Result<String, Pkcs7Error> {
    let mut found: Option<(bool, String)> = None;
    let mut rdns = Reader::of(name);
    while !rdns.done() {
        let rdn = rdns.expect(SET, "a relative distinguished name")?;
        let mut atvs = Reader::of(&rdn);
        while !atvs.done() {
            let atv = atvs.expect(SEQUENCE, "an attribute of a name")?;
            let mut parts = Reader::of(&atv);
            let kind = oid_name(parts.expect(OID, "an attribute type")?.body);
            let value = parts.next()?;
            let text: String = String::from_utf8_lossy(value.body)
                .chars()
                .take(80)
                .map(|c| if c.is_control() { '?' } else { c })
                .collect();
            match kind.as_str() {
                "CN" => found = Some((true, format!("CN={text}"))),
                "O" if found.is_none() => found = Some((false, format!("O={text}"))),
                _ => {}
            }
        }
    }
    Ok(found.map_or_else(|| "an issuer with no CN".to_string(), |(_, t)| t))
}

fn signer(t: &Tlv<'_>) -> Result<Signer, Pkcs7Error> {
    let mut r = Reader::of(t);
    r.expect(INTEGER, "the SignerInfo version")?;
    let sid = r.next()?;
    let id = match sid.tag {
        SEQUENCE => {
            let mut s = Reader::of(&sid);
            let issuer = s.expect(SEQUENCE, "the issuer's name")?;
            let serial = s.expect(INTEGER, "the serial number")?;
            let digits = serial
                .body
                .iter()
                .skip_while(|&&b| b == 0)
                .copied()
                .collect::<Vec<_>>();
            format!("{} serial {}", name_text(&issuer)?, encode_hex(&digits))
        }
        CONTEXT_0_PRIMITIVE => format!("subject key id {}", encode_hex(sid.body)),
        tag => return fail(sid.at, format!("a signer identifier of tag 0x{tag:02x}")),
    };
    let digest = algorithm(&mut r, "the signer's digest algorithm")?;
    r.optional(CONTEXT_0)?; // authenticated attributes
    let algorithm = algorithm(&mut r, "the signature algorithm")?;
    let sig = r.expect(OCTET_STRING, "the signature value")?;
    if sig.body.is_empty() {
        return fail(sig.at, "the signature value is empty");
    }
    r.optional(CONTEXT_1)?; // unauthenticated attributes
    if !r.done() {
        return fail(r.at(), "more after the SignerInfo's last field");
    }
    Ok(Signer {
        id,
        digest,
        algorithm,
    })
}

/// Checks that `der` is a detached PKCS#7 SignedData with at least one signer.
pub fn parse_pkcs7(der: &[u8]) -> Result<Pkcs7Info, Pkcs7Error> {
    let mut top = Reader::new(der, 0);
    let content_info = top.expect(SEQUENCE, "a ContentInfo SEQUENCE")?;
    if !top.done() {
        return fail(
            top.at(),
            format!("{} bytes after the signature", der.len() - top.at()),
        );
    }
    let mut ci = Reader::of(&content_info);
    let kind = ci.expect(OID, "the content type")?;
    if oid_name(kind.body) != "signedData" {
        return fail(
            kind.at,
            format!("content type {}, not signedData", oid_name(kind.body)),
        );
    }
    let explicit = ci.expect(CONTEXT_0, "the [0] content")?;
    let signed = Reader::of(&explicit).expect(SEQUENCE, "the SignedData SEQUENCE")?;
    let mut sd = Reader::of(&signed);
    sd.expect(INTEGER, "the SignedData version")?;
    sd.expect(SET, "the digest algorithms")?;
    let inner = sd.expect(SEQUENCE, "the signed content's ContentInfo")?;
    let mut inner_r = Reader::of(&inner);
    let inner_kind = inner_r.expect(OID, "the signed content type")?;
    if oid_name(inner_kind.body) != "data" {
        return fail(
            inner_kind.at,
            format!(
                "signed content of type {}, not data",
                oid_name(inner_kind.body)
            ),
        );
    }
    if !inner_r.done() {
        return fail(
            inner_r.at(),
            "the signature carries its content (not detached): sign with openssl smime -sign \
             -binary (without -nodetach); the kernel supplies the root hash itself",
        );
    }
    let certificates = match sd.optional(CONTEXT_0)? {
        Some(certs) => {
            let mut n = 0;
            let mut c = Reader::of(&certs);
            while !c.done() {
                c.next()?;
                n += 1;
            }
            n
        }
        None => 0,
    };
    sd.optional(CONTEXT_1)?; // crls
    let infos = sd.expect(SET, "the signer infos")?;
    if !sd.done() {
        return fail(sd.at(), "more after the signer infos");
    }
    let mut signers = Vec::new();
    let mut r = Reader::of(&infos);
    while !r.done() {
        let t = r.expect(SEQUENCE, "a SignerInfo")?;
        if signers.len() == MAX_SIGNERS {
            return fail(t.at, format!("more than {MAX_SIGNERS} signers"));
        }
        signers.push(signer(&t)?);
    }
    if signers.is_empty() {
        return fail(infos.at, "no signer: the message is not signed");
    }
    Ok(Pkcs7Info {
        signers,
        certificates,
    })
}

#[cfg(test)]
#[path = "pkcs7_tests.rs"]
pub(crate) mod tests;
