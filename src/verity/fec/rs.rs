//! Reed-Solomon RS(255, 255 - R) over GF(2^8), as dm-verity uses it: first consecutive root
//! 0, primitive element 1, R = 2..=24 parity symbols (the kernel's `lib/reed_solomon` with
//! `init_rs(8, 0x11d, 0, 1, R)`, and cryptsetup's copy of it).
//!
//! A codeword is 255 symbols, the 255 - R data symbols first and the R parity symbols
//! after them; symbol j is the coefficient of x^(254 - j). The generator is
//! g(x) = (x - a^0)(x - a^1)...(x - a^(R-1)), the parity is data(x) * x^R mod g(x).
//! Decoding is the one the kernel runs: syndromes, the Berlekamp-Massey recursion in the
//! same steps (started from the erasure locator when erasures are given), a Chien search
//! that stops at deg(lambda) roots, Forney's formula. It fails where the kernel's fails: deg(lambda) zero with a
//! non-zero syndrome, fewer roots than deg(lambda), or a zero derivative at a root.

use super::gf::{div, mul, pow_alpha};

/// Symbols in a codeword.
pub const N: usize = 255;
/// The fewest and most parity symbols dm-verity takes.
pub const MIN_ROOTS: u32 = 2;
pub const MAX_ROOTS: u32 = 24;
const MAX: usize = MAX_ROOTS as usize;

/// An RS(255, 255 - roots) code.
#[derive(Clone, Debug)]
pub struct Codec {
    roots: usize,
    /// g(x) without its leading 1: `gen[k]` is the coefficient of x^k, k < roots.
    gen: [u8; MAX],
}

/// The codeword holds more errors than the code can correct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uncorrectable;

impl Codec {
    /// The code with `roots` parity symbols; `None` outside 2..=24.
    pub fn new(roots: u32) -> Option<Codec> {
        if !(MIN_ROOTS..=MAX_ROOTS).contains(&roots) {
            return None;
        }
        let roots = roots as usize;
        // Multiply out (x + a^i), coefficients low to high.
        let mut g = [0u8; MAX + 1];
        g[0] = 1;
        for i in 0..roots {
            let a = pow_alpha(i);
            for k in (1..=i + 1).rev() {
                g[k] = g[k - 1] ^ mul(g[k], a);
            }
            g[0] = mul(g[0], a);
        }
        let mut gen = [0u8; MAX];
        gen[..roots].copy_from_slice(&g[..roots]);
        Some(Codec { roots, gen })
    }

    pub fn roots(&self) -> usize {
        self.roots
    }

    /// `t[j][x]` = x * a^j for j < roots: one syndrome step is `s[j] = t[j][s[j]] ^ c`.
    pub fn syndrome_tables(&self) -> Vec<[u8; 256]> {
        (0..self.roots)
            .map(|j| {
                let a = pow_alpha(j);
                let mut t = [0u8; 256];
                for (x, v) in t.iter_mut().enumerate() {
                    *v = mul(x as u8, a);
                }
                t
            })
            .collect()
    }

    /// Data symbols in a codeword.
    pub fn data_len(&self) -> usize {
        N - self.roots
    }

    /// The parity of `data` (255 - roots symbols) into `parity` (roots symbols).
    pub fn encode(&self, data: &[u8], parity: &mut [u8]) {
        let r = self.roots;
        let parity = &mut parity[..r];
        parity.fill(0);
        for &d in data.iter().take(self.data_len()) {
            let feedback = d ^ parity[0];
            parity.copy_within(1.., 0);
            parity[r - 1] = 0;
            if feedback != 0 {
                for (j, p) in parity.iter_mut().enumerate() {
                    *p ^= mul(feedback, self.gen[r - 1 - j]);
                }
            }
        }
    }

    /// Whether the codeword (255 symbols) has a zero syndrome, and the syndromes.
    fn syndromes(&self, word: &[u8], s: &mut [u8; MAX]) -> bool {
        let r = self.roots;
        s[..r].fill(0);
        for &c in word.iter().take(N) {
            for (i, si) in s[..r].iter_mut().enumerate() {
                *si = mul(*si, pow_alpha(i)) ^ c;
            }
        }
        s[..r].iter().all(|&v| v == 0)
    }

    /// Corrects `word` (255 symbols: data then parity) in place; returns how many symbols
    /// the decoder located (as the kernel's `decode_rs8` counts them), 0 for a codeword.
    pub fn decode(&self, word: &mut [u8]) -> Result<usize, Uncorrectable> {
        self.decode_with_erasures(word, &[])
    }

    /// As [`decode`](Self::decode), told that the symbols at `erasures` (positions in the
    /// word, at most `roots` of them) are suspect: the kernel's second try, with the
    /// blocks that fail their hash as erasures. e errors and f erasures are corrected
    /// when 2e + f <= roots.
    pub fn decode_with_erasures(
        &self,
        word: &mut [u8],
        erasures: &[usize],
    ) -> Result<usize, Uncorrectable> {
        let r = self.roots;
        if word.len() < N || erasures.len() > r || erasures.iter().any(|&p| p >= N) {
            return Err(Uncorrectable);
        }
        let mut s = [0u8; MAX];
        if self.syndromes(word, &mut s) {
            return Ok(0);
        }
        // lambda(x) starts as the erasure locator: the product of (1 - X x), X = a^(254 - p).
        let mut lambda = [0u8; MAX + 1];
        lambda[0] = 1;
        for (i, &p) in erasures.iter().enumerate() {
            let x = pow_alpha(N - 1 - p);
            for j in (1..=i + 1).rev() {
                lambda[j] ^= mul(x, lambda[j - 1]);
            }
        }
        let no_eras = erasures.len();
        // Berlekamp-Massey: lambda(x), the error locator; b(x), the last lambda scaled.
        let mut b = lambda;
        let mut el = no_eras;
        for step in no_eras + 1..=r {
            let mut discr = 0u8;
            for i in 0..step {
                discr ^= mul(lambda[i], s[step - 1 - i]);
            }
            if discr == 0 {
                b.copy_within(0..r, 1);
                b[0] = 0;
                continue;
            }
            let mut t = lambda;
            for i in 0..r {
                t[i + 1] ^= mul(discr, b[i]);
            }
            if 2 * el < step + no_eras {
                el = step + no_eras - el;
                for (bi, &li) in b.iter_mut().zip(lambda.iter()) {
                    *bi = div(li, discr).unwrap_or(0);
                }
            } else {
                b.copy_within(0..r, 1);
                b[0] = 0;
            }
            lambda = t;
        }
        let deg = (0..=r).rev().find(|&i| lambda[i] != 0).unwrap_or(0);
        if deg == 0 {
            return Err(Uncorrectable);
        }
        // Chien search: alpha^i is a root of lambda for the error at symbol i - 1.
        let mut roots = [0usize; MAX];
        let mut count = 0;
        for i in 1..=N {
            let mut q = 0u8;
            for (j, &l) in lambda[..=deg].iter().enumerate() {
                q ^= mul(l, pow_alpha(i * j));
            }
            if q == 0 {
                roots[count] = i;
                count += 1;
                if count == deg {
                    break;
                }
            }
        }
        if count != deg {
            return Err(Uncorrectable);
        }
        // omega(x) = s(x) lambda(x) mod x^deg.
        let mut omega = [0u8; MAX];
        for (i, o) in omega[..deg].iter_mut().enumerate() {
            for j in 0..=i {
                *o ^= mul(s[i - j], lambda[j]);
            }
        }
        // Forney, with first root 0: e = omega(X^-1) * X^-1 / lambda'(X^-1).
        let mut fixes = [(0usize, 0u8); MAX];
        for (k, &root) in roots[..count].iter().enumerate() {
            let mut num1 = 0u8;
            for (i, &o) in omega[..deg].iter().enumerate() {
                num1 ^= mul(o, pow_alpha(i * root));
            }
            let num2 = pow_alpha(N - root % N);
            let mut den = 0u8;
            let top = deg.min(r - 1) & !1;
            for i in (0..=top).step_by(2) {
                den ^= mul(lambda[i + 1], pow_alpha(i * root));
            }
            if den == 0 {
                return Err(Uncorrectable);
            }
            let value = if num1 == 0 {
                0
            } else {
                div(mul(num1, num2), den).unwrap_or(0)
            };
            fixes[k] = (root - 1, value);
        }
        for &(at, value) in &fixes[..count] {
            word[at] ^= value;
        }
        Ok(count)
    }
}

#[cfg(test)]
#[path = "rs_tests.rs"]
mod tests;
