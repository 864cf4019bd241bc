//! GF(2^8) with the field polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) and the primitive
//! element x (2): the field of dm-verity's Reed-Solomon code (`init_rs(8, 0x11d, 0, 1, R)`).
//! Addition is XOR; multiplication goes through log/antilog tables built at compile time.

/// The field polynomial, bit 8 included.
const POLY: u16 = 0x11d;

/// `EXP[i]` = alpha^i for i in 0..510 (twice round, so that a sum of two logs needs no
/// reduction); `LOG[v]` = i with alpha^i = v (LOG[0] is unused).
pub(super) struct Tables {
    exp: [u8; 510],
    log: [u8; 256],
}

const fn build() -> Tables {
    let mut exp = [0u8; 510];
    let mut log = [0u8; 256];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        exp[i + 255] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= POLY;
        }
        i += 1;
    }
    Tables { exp, log }
}

static TABLES: Tables = build();

/// a * b.
#[inline]
pub(super) fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    let t = &TABLES;
    t.exp[t.log[a as usize] as usize + t.log[b as usize] as usize]
}

/// alpha^e for any e (taken mod 255).
#[inline]
pub(super) fn pow_alpha(e: usize) -> u8 {
    TABLES.exp[e % 255]
}

/// log_alpha(a); `None` for 0.
#[inline]
pub(super) fn log(a: u8) -> Option<usize> {
    (a != 0).then(|| TABLES.log[a as usize] as usize)
}

/// 1 / a; `None` for 0.
#[inline]
pub(super) fn inv(a: u8) -> Option<u8> {
    log(a).map(|l| TABLES.exp[255 - l])
}

/// a / b; `None` when b is 0.
#[inline]
pub(super) fn div(a: u8, b: u8) -> Option<u8> {
    inv(b).map(|ib| mul(a, ib))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_generates_the_whole_field() {
        let mut seen = [false; 256];
        for e in 0..255 {
            let v = pow_alpha(e);
            assert!(!seen[v as usize], "alpha^{e} repeats");
            seen[v as usize] = true;
        }
        assert!(!seen[0]);
        // The polynomial reduces x^8 to x^4 + x^3 + x^2 + 1.
        assert_eq!(pow_alpha(8), 0x1d);
    }

    #[test]
    fn mul_div_inv_agree() {
        for a in 0..=255u8 {
            assert_eq!(mul(a, 0), 0);
            assert_eq!(mul(a, 1), a);
            for b in 1..=255u8 {
                assert_eq!(div(mul(a, b), b), Some(a));
            }
        }
        assert_eq!(inv(0), None);
        assert_eq!(mul(0x80, 2), 0x1d);
    }
}
