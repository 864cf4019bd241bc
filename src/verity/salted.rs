//! The digest of a dm-verity block, format 1: H(salt || block), with the salt absorbed
//! once and the state cloned for each block.

use sha2::{Digest, Sha256, Sha512};

use super::params::HashAlgorithm;

/// A digest: up to 64 bytes.
pub(super) struct DigestBuf {
    bytes: [u8; 64],
    pub(super) len: usize,
}

impl DigestBuf {
    pub(super) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// A hash state that has already absorbed the salt.
#[derive(Clone)]
pub(super) enum Salted {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Salted {
    pub(super) fn new(algorithm: HashAlgorithm, salt: &[u8]) -> Salted {
        match algorithm {
            HashAlgorithm::Sha256 => Salted::Sha256(Sha256::new_with_prefix(salt)),
            HashAlgorithm::Sha512 => Salted::Sha512(Sha512::new_with_prefix(salt)),
        }
    }

    pub(super) fn digest(&self, block: &[u8]) -> DigestBuf {
        let mut out = DigestBuf {
            bytes: [0; 64],
            len: 0,
        };
        let fill = |out: &mut DigestBuf, d: &[u8]| {
            if let Some(dst) = out.bytes.get_mut(..d.len()) {
                dst.copy_from_slice(d);
                out.len = d.len();
            }
        };
        match self {
            Salted::Sha256(base) => fill(&mut out, &base.clone().chain_update(block).finalize()),
            Salted::Sha512(base) => fill(&mut out, &base.clone().chain_update(block).finalize()),
        }
        out
    }
}

/// Digests of `blocks` (each `size` bytes) packed into hash blocks of `out`.
pub(super) fn pack_digests<'b>(
    blocks: impl Iterator<Item = &'b [u8]>,
    out: &mut [u8],
    slot: usize,
    salted: &Salted,
) {
    for (block, dst) in blocks.zip(out.chunks_mut(slot)) {
        let d = salted.digest(block);
        if let Some(dst) = dst.get_mut(..d.len) {
            dst.copy_from_slice(d.as_slice());
        }
    }
}
