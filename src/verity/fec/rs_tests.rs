use super::*;

/// A small deterministic generator for test data.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }
}

fn codeword(codec: &Codec, rng: &mut XorShift) -> Vec<u8> {
    let k = codec.data_len();
    let mut word: Vec<u8> = (0..N).map(|_| rng.byte()).collect();
    let (data, parity) = word.split_at_mut(k);
    codec.encode(data, parity);
    word
}

/// Evaluates the codeword polynomial (symbol j is the coefficient of x^(254 - j)).
fn eval(word: &[u8], x: u8) -> u8 {
    word.iter().fold(0, |acc, &c| mul(acc, x) ^ c)
}

#[test]
fn roots_outside_2_to_24_are_refused() {
    for roots in [0, 1, 25, 255, u32::MAX] {
        assert!(Codec::new(roots).is_none(), "{roots}");
    }
    for roots in 2..=24 {
        assert_eq!(Codec::new(roots).unwrap().data_len(), 255 - roots as usize);
    }
}

#[test]
fn codewords_vanish_at_the_generator_roots() {
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for roots in 2..=24u32 {
        let codec = Codec::new(roots).unwrap();
        let word = codeword(&codec, &mut rng);
        for i in 0..roots as usize {
            assert_eq!(eval(&word, pow_alpha(i)), 0, "roots {roots}, a^{i}");
        }
        assert_ne!(eval(&word, pow_alpha(roots as usize)), 0);
    }
}

#[test]
fn up_to_half_the_roots_errors_are_corrected() {
    let mut rng = XorShift(0x0bad_cafe_f00d_0001);
    for roots in 2..=24u32 {
        let codec = Codec::new(roots).unwrap();
        for errors in 0..=(roots as usize / 2) {
            for _ in 0..20 {
                let good = codeword(&codec, &mut rng);
                let mut bad = good.clone();
                let mut at = Vec::new();
                while at.len() < errors {
                    let p = (rng.next() % N as u64) as usize;
                    if !at.contains(&p) {
                        at.push(p);
                    }
                }
                for &p in &at {
                    bad[p] ^= rng.byte() | 1;
                }
                assert_eq!(codec.decode(&mut bad), Ok(errors), "roots {roots}");
                assert_eq!(bad, good, "roots {roots}, errors at {at:?}");
            }
        }
    }
}

#[test]
fn too_many_errors_never_pass_for_the_original() {
    let mut rng = XorShift(0x5eed_5eed_5eed_5eed);
    for roots in [2u32, 8, 24] {
        let codec = Codec::new(roots).unwrap();
        let t = roots as usize / 2;
        let mut refused = 0;
        for _ in 0..200 {
            let good = codeword(&codec, &mut rng);
            let mut bad = good.clone();
            for p in 0..=t {
                bad[p * 7] ^= rng.byte() | 1;
            }
            match codec.decode(&mut bad) {
                Err(Uncorrectable) => refused += 1,
                // A miscorrection lands on another codeword, never on the original.
                Ok(n) => {
                    assert!(n <= t);
                    assert_ne!(bad, good);
                    for i in 0..roots as usize {
                        assert_eq!(eval(&bad, pow_alpha(i)), 0);
                    }
                }
            }
        }
        assert!(refused > 0, "roots {roots}");
    }
}

#[test]
fn short_words_and_garbage_do_not_panic() {
    let codec = Codec::new(24).unwrap();
    assert_eq!(codec.decode(&mut [0u8; 10]), Err(Uncorrectable));
    let mut rng = XorShift(99);
    for _ in 0..500 {
        let mut word: Vec<u8> = (0..N).map(|_| rng.byte()).collect();
        let _ = codec.decode(&mut word);
    }
}

#[test]
fn erasures_double_the_reach() {
    let mut rng = XorShift(0xe4a5_e5e5_0000_0001);
    for roots in [2u32, 3, 8, 24] {
        let codec = Codec::new(roots).unwrap();
        let r = roots as usize;
        // f erasures and e errors with 2e + f <= roots.
        for f in 0..=r {
            let e = (r - f) / 2;
            for _ in 0..20 {
                let good = codeword(&codec, &mut rng);
                let mut bad = good.clone();
                let mut at: Vec<usize> = Vec::new();
                while at.len() < f + e {
                    let p = (rng.next() % N as u64) as usize;
                    if !at.contains(&p) {
                        at.push(p);
                    }
                }
                for &p in &at {
                    bad[p] ^= rng.byte() | 1;
                }
                let erasures = &at[..f];
                assert!(
                    codec.decode_with_erasures(&mut bad, erasures).is_ok(),
                    "roots {roots}, {f} erasures, {e} errors"
                );
                assert_eq!(bad, good, "roots {roots}, {f} erasures, {e} errors");
            }
        }
        // An erased symbol that is right is no harm.
        let good = codeword(&codec, &mut rng);
        let mut same = good.clone();
        assert_eq!(codec.decode_with_erasures(&mut same, &[3]), Ok(0));
        // More erasures than roots: refused.
        let mut w = good.clone();
        let too_many: Vec<usize> = (0..=r).collect();
        assert_eq!(
            codec.decode_with_erasures(&mut w, &too_many),
            Err(Uncorrectable)
        );
        assert_eq!(
            codec.decode_with_erasures(&mut w, &[255]),
            Err(Uncorrectable)
        );
    }
}

#[test]
fn two_errors_with_two_roots_need_their_erasures() {
    let codec = Codec::new(2).unwrap();
    let mut rng = XorShift(77);
    let good = codeword(&codec, &mut rng);
    let mut bad = good.clone();
    bad[10] ^= 0x11;
    bad[200] ^= 0x22;
    let mut plain = bad.clone();
    assert!(codec.decode(&mut plain).is_err() || plain != good);
    assert_eq!(codec.decode_with_erasures(&mut bad, &[10, 200]), Ok(2));
    assert_eq!(bad, good);
}
