//! Decoding one round of dm-verity FEC: read the round's rsn covered blocks and its parity,
//! correct each of its block_size codewords, and hand back the corrected blocks. Read-only:
//! what is corrected lives in memory.

use super::layout::{Covered, FecLayout};
use super::rs::Codec;
use crate::disk::source::{read_into, ReadAt, ReadError};

/// The sources a round is read from.
pub struct FecSources<'a> {
    pub data: &'a dyn ReadAt,
    pub hash: &'a dyn ReadAt,
    pub fec: &'a dyn ReadAt,
}

/// One decoded round.
pub struct DecodedRound {
    pub round: u64,
    /// The rsn covered blocks of the round, corrected where the decoder could.
    pub rows: Vec<u8>,
    /// Symbols the decoder located in the round's codewords (as `veritysetup verify`
    /// adds them up for "Found N repairable errors").
    pub symbols: usize,
    /// Codewords that could not be corrected.
    pub failed: usize,
    /// For each row, the codewords (byte positions) that failed: empty when whole.
    failed_at: Vec<u32>,
}

impl DecodedRound {
    /// The corrected block of `row`, when all its bytes decoded.
    pub fn row(&self, row: u64, block_size: usize) -> Option<&[u8]> {
        if self.failed > 0 {
            return None;
        }
        let at = usize::try_from(row).ok()?.checked_mul(block_size)?;
        self.rows.get(at..at.checked_add(block_size)?)
    }

    /// Positions of failed codewords (for messages).
    pub fn failed_bytes(&self) -> &[u32] {
        &self.failed_at
    }
}

/// Reads covered block `k` into `buf` (zeros past the covered input).
pub fn read_covered(
    layout: &FecLayout,
    src: &FecSources<'_>,
    k: u64,
    buf: &mut [u8],
) -> Result<(), ReadError> {
    match layout.covered(k) {
        Covered::Data(off) => read_into(src.data, off, buf),
        Covered::Hash(off) => read_into(src.hash, off, buf),
        Covered::Zero => {
            buf.fill(0);
            Ok(())
        }
    }
}

fn parity_error(src: &dyn ReadAt, offset: u64, len: u64) -> ReadError {
    ReadError {
        source: src.name().to_string(),
        offset,
        len,
        cause: "the FEC parity's position overflows".into(),
    }
}

/// Decodes round `round`, every codeword with the rows `erasures` marked as erasures (the
/// kernel's second try; empty for its first).
pub fn decode_round(
    layout: &FecLayout,
    src: &FecSources<'_>,
    round: u64,
    erasures: &[usize],
) -> Result<DecodedRound, ReadError> {
    let bs = layout.block_size as usize;
    let roots = layout.roots as usize;
    let rsn = layout.rsn() as usize;
    let codec = Codec::new(layout.roots).ok_or_else(|| ReadError {
        source: src.fec.name().to_string(),
        offset: 0,
        len: 0,
        cause: format!("FEC roots {} is not from 2 to 24", layout.roots),
    })?;
    let mut rows = vec![0u8; rsn * bs];
    for (row, block) in rows.chunks_exact_mut(bs).enumerate() {
        read_covered(layout, src, layout.block_at(round, row as u64), block)?;
    }
    let mut parity = vec![0u8; bs * roots];
    let offset = layout
        .parity_offset(round)
        .ok_or_else(|| parity_error(src.fec, 0, parity.len() as u64))?;
    read_into(src.fec, offset, &mut parity)?;
    // Syndromes of all the round's codewords at once, row after row (the rows are
    // contiguous blocks; a codeword is strided across them): most codewords are clean,
    // and only those with a non-zero syndrome go through the decoder.
    let tables = codec.syndrome_tables();
    let mut syn = vec![0u8; bs * roots];
    let step = |syn: &mut [u8], b: usize, c: u8| {
        for (s, t) in syn[b * roots..(b + 1) * roots].iter_mut().zip(&tables) {
            *s = t[*s as usize] ^ c;
        }
    };
    for row in rows.chunks_exact(bs) {
        for (b, &c) in row.iter().enumerate() {
            step(&mut syn, b, c);
        }
    }
    for p in 0..roots {
        for b in 0..bs {
            step(&mut syn, b, parity[b * roots + p]);
        }
    }
    let mut word = [0u8; 255];
    let mut symbols = 0;
    let mut failed_at = Vec::new();
    for b in 0..bs {
        if syn[b * roots..(b + 1) * roots].iter().all(|&s| s == 0) {
            continue;
        }
        for (i, w) in word.iter_mut().take(rsn).enumerate() {
            *w = rows[i * bs + b];
        }
        word[rsn..].copy_from_slice(&parity[b * roots..(b + 1) * roots]);
        match codec.decode_with_erasures(&mut word, erasures) {
            Ok(0) => {}
            Ok(n) => {
                symbols += n;
                for (i, &w) in word.iter().take(rsn).enumerate() {
                    rows[i * bs + b] = w;
                }
            }
            Err(_) => failed_at.push(b as u32),
        }
    }
    Ok(DecodedRound {
        round,
        rows,
        symbols,
        failed: failed_at.len(),
        failed_at,
    })
}

/// The parity of round `round`, recomputed from the covered input (for the tests that
/// compare it with veritysetup's).
pub fn encode_round(
    layout: &FecLayout,
    src: &FecSources<'_>,
    round: u64,
) -> Result<Vec<u8>, ReadError> {
    let bs = layout.block_size as usize;
    let roots = layout.roots as usize;
    let rsn = layout.rsn() as usize;
    let codec = Codec::new(layout.roots).ok_or_else(|| parity_error(src.fec, 0, 0))?;
    let mut rows = vec![0u8; rsn * bs];
    for (row, block) in rows.chunks_exact_mut(bs).enumerate() {
        read_covered(layout, src, layout.block_at(round, row as u64), block)?;
    }
    let mut parity = vec![0u8; bs * roots];
    let mut data = vec![0u8; rsn];
    for b in 0..bs {
        for (i, d) in data.iter_mut().enumerate() {
            *d = rows[i * bs + b];
        }
        codec.encode(&data, &mut parity[b * roots..(b + 1) * roots]);
    }
    Ok(parity)
}
