//! The root-verity-sig partition of the Discoverable Partitions Specification: one JSON
//! object, NUL-padded (to 4096 bytes or more):
//!
//! ```text
//! {"rootHash":"<lowercase hex>","signature":"<base64 DER PKCS#7 over the hex text>",
//!  "certificateFingerprint":"<64 lowercase hex: SHA-256 of the signing certificate>"}
//! ```
//! `certificateFingerprint` is optional; other keys are ignored. At most 64 KiB is read.

use std::fmt;

use serde_json::Value;

use super::base64;
use super::pkcs7::{parse_pkcs7, Pkcs7Info};
use crate::disk::source::{read_vec, ReadAt};
use crate::id::{decode_hex, RootHash};

/// The most verinit reads from a signature partition.
pub const MAX_SIGNATURE_SIZE: usize = 64 * 1024;

/// The contents of a signature partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootSignature {
    pub root_hash: RootHash,
    /// DER PKCS#7; checking it is the kernel's job (`root_hash_sig_key_desc`).
    pub signature: Vec<u8>,
    /// What its structure says (who signed, with what).
    pub pkcs7: Pkcs7Info,
    pub certificate_fingerprint: Option<Vec<u8>>,
}

/// Why a signature partition cannot be used; `offset` is a byte offset in the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigError {
    pub partition: String,
    pub offset: u64,
    pub cause: String,
}

impl fmt::Display for SigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad root hash signature in {} at offset {}: {}",
            self.partition, self.offset, self.cause
        )
    }
}

impl std::error::Error for SigError {}

/// Reads and parses a signature partition, reading at most [`MAX_SIGNATURE_SIZE`] bytes.
pub fn read_signature(src: &dyn ReadAt) -> Result<RootSignature, SigError> {
    let len = src.len().min(MAX_SIGNATURE_SIZE as u64);
    let bytes = read_vec(src, 0, len).map_err(|e| SigError {
        partition: src.name().to_string(),
        offset: 0,
        cause: e.to_string(),
    })?;
    parse_signature(&bytes, src.name())
}

fn is_lower_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses the bytes of a signature partition named `partition_name` (for errors).
pub fn parse_signature(bytes: &[u8], partition_name: &str) -> Result<RootSignature, SigError> {
    let fail = |offset: usize, cause: String| SigError {
        partition: partition_name.to_string(),
        offset: offset as u64,
        cause,
    };
    if bytes.len() > MAX_SIGNATURE_SIZE {
        return Err(fail(
            MAX_SIGNATURE_SIZE,
            format!(
                "{} bytes given, more than the {MAX_SIGNATURE_SIZE} a signature may take",
                bytes.len()
            ),
        ));
    }
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let (text, padding) = bytes.split_at(end);
    if let Some(at) = padding.iter().position(|&b| b != 0) {
        return Err(fail(
            end + at,
            "non-zero byte after the NUL padding: this is not a signature partition".into(),
        ));
    }
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(fail(
            0,
            "the partition is empty: the image was not signed, or the wrong partition was \
             chosen"
                .into(),
        ));
    }
    let text = std::str::from_utf8(text)
        .map_err(|e| fail(e.valid_up_to(), "the JSON is not UTF-8".into()))?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let line_start: usize = text
            .split('\n')
            .take(e.line().saturating_sub(1))
            .map(|l| l.len() + 1)
            .sum();
        fail(
            line_start + e.column().saturating_sub(1),
            format!("invalid JSON: {e}"),
        )
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| fail(0, "the JSON is not an object".into()))?;
    let string = |key: &str| -> Result<Option<&str>, SigError> {
        match object.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(fail(0, format!("\"{key}\" is not a string"))),
        }
    };
    let missing = |key: &str| fail(0, format!("\"{key}\" is missing"));

    let hex = string("rootHash")?.ok_or_else(|| missing("rootHash"))?;
    if !is_lower_hex(hex) {
        return Err(fail(0, format!("rootHash '{hex}' is not lowercase hex")));
    }
    let root_hash = RootHash::parse(hex).map_err(|e| fail(0, e.to_string()))?;

    let sig_text = string("signature")?.ok_or_else(|| missing("signature"))?;
    let signature = base64::decode(sig_text).map_err(|e| fail(0, format!("signature: {e}")))?;
    if signature.is_empty() {
        return Err(fail(0, "signature is empty".into()));
    }
    let pkcs7 = parse_pkcs7(&signature).map_err(|e| fail(0, format!("signature: {e}")))?;

    let certificate_fingerprint = match string("certificateFingerprint")? {
        None => None,
        Some(fp) if fp.len() == 64 && is_lower_hex(fp) => decode_hex(fp),
        Some(fp) => {
            return Err(fail(
                0,
                format!("certificateFingerprint '{fp}' is not 64 lowercase hex digits (SHA-256)"),
            ))
        }
    };
    Ok(RootSignature {
        root_hash,
        signature,
        pkcs7,
        certificate_fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::source::MemSource;
    use crate::verity::pkcs7::tests::PLAIN;

    const HASH: &str = "4f68bce3e8cd4db196e7fbcaf984b7092c7357edebd246d9aec123d437ec2bf5";
    const FP: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn padded(json: &str) -> Vec<u8> {
        let mut b = json.as_bytes().to_vec();
        b.resize(4096, 0);
        b
    }

    #[test]
    fn parses_a_padded_object() {
        let json = format!(
            "{{\"rootHash\":\"{HASH}\",\"signature\":\"{PLAIN}\",\"certificateFingerprint\":\"{FP}\",\"x\":1}}\n"
        );
        let s = parse_signature(&padded(&json), "vda3").unwrap();
        assert_eq!(s.root_hash.to_hex(), HASH);
        assert_eq!(s.signature.len(), 418);
        assert_eq!(s.pkcs7.signers[0].digest, "sha256");
        assert_eq!(s.certificate_fingerprint.unwrap().len(), 32);
        let json = format!("{{\"rootHash\":\"{HASH}\",\"signature\":\"{PLAIN}\"}}");
        let s = parse_signature(json.as_bytes(), "vda3").unwrap();
        assert_eq!(s.certificate_fingerprint, None);
        let s = read_signature(&MemSource::new("vda3", padded(&json))).unwrap();
        assert_eq!(s.signature.len(), 418);
    }

    #[test]
    fn near_misses() {
        let upper = HASH.to_uppercase();
        let ok_sig = format!("\"signature\":\"{PLAIN}\"");
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            ("  \n".into(), "empty"),
            ("[]".into(), "not an object"),
            ("{\"rootHash\":".into(), "invalid JSON"),
            (format!("{{{ok_sig}}}"), "\"rootHash\" is missing"),
            (
                format!("{{\"rootHash\":\"{HASH}\"}}"),
                "\"signature\" is missing",
            ),
            (
                format!("{{\"rootHash\":\"{upper}\",{ok_sig}}}"),
                "not lowercase hex",
            ),
            (
                format!("{{\"rootHash\":\"{}\",{ok_sig}}}", &HASH[..31]),
                "even number",
            ),
            (
                format!("{{\"rootHash\":\"{}\",{ok_sig}}}", &HASH[..30]),
                "16 to 64",
            ),
            (
                format!("{{\"rootHash\":5,{ok_sig}}}"),
                "\"rootHash\" is not a string",
            ),
            (
                format!("{{\"rootHash\":\"{HASH}\",\"signature\":\"MIIB=\"}}"),
                "multiple of 4",
            ),
            (
                format!("{{\"rootHash\":\"{HASH}\",\"signature\":\"MI B\"}}"),
                "alphabet",
            ),
            (
                format!("{{\"rootHash\":\"{HASH}\",\"signature\":\"\"}}"),
                "signature is empty",
            ),
            (
                format!("{{\"rootHash\":\"{HASH}\",\"signature\":\"MIIB\"}}"),
                "signature: not a PKCS#7 signature the kernel takes, at byte 1 of the DER: ends inside a length",
            ),
            (
                format!(
                    "{{\"rootHash\":\"{HASH}\",{ok_sig},\"certificateFingerprint\":\"{}\"}}",
                    &FP[..62]
                ),
                "64 lowercase hex",
            ),
            (
                format!("{{\"rootHash\":\"{HASH}\",{ok_sig},\"certificateFingerprint\":null}}"),
                "not a string",
            ),
        ];
        for (json, expect) in &cases {
            let e = parse_signature(&padded(json), "sig").unwrap_err();
            assert!(e.to_string().contains(expect), "{json}: {e}");
            assert!(e.to_string().contains("in sig at offset"), "{e}");
        }
        // Bytes after the padding, invalid UTF-8, too large.
        let mut b = padded(&format!("{{\"rootHash\":\"{HASH}\",{ok_sig}}}"));
        b[4000] = b'x';
        assert_eq!(parse_signature(&b, "sig").unwrap_err().offset, 4000);
        let e = parse_signature(b"{\"a\":\"\xff\"}", "sig").unwrap_err();
        assert_eq!((e.offset, e.cause.contains("UTF-8")), (6, true));
        let e = parse_signature(&vec![b' '; MAX_SIGNATURE_SIZE + 1], "sig").unwrap_err();
        assert!(e.cause.contains("more than"), "{e}");
        let e = parse_signature(b"{\n  \"rootHash\": x}", "sig").unwrap_err();
        assert_eq!(e.offset, 16, "{e}");
    }
}
