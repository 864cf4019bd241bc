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
//! Definite lengths only (DER); nothing may follow the ContentInfo. The DER elements are
//! read by `der.rs`.

use std::fmt;

use super::der::{
    algorithm, fail, oid_name, Reader, Tlv, CONTEXT_0, CONTEXT_0_PRIMITIVE, CONTEXT_1, INTEGER,
    OCTET_STRING, OID, SEQUENCE, SET,
};
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

/// Most signers verinit lists; the kernel needs one that it trusts.
const MAX_SIGNERS: usize = 16;

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
