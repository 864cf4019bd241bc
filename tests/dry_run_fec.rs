//! dm-verity FEC against cryptsetup, on fixtures made by `veritysetup format --fec-device`
//! (`scripts/add-fec` for the footer layout): `fec-footer` (roots 2) and `fec-footer-r24`
//! (roots 24) keep the parity in the DDI's root-verity partition with a footer, `fec-lv`
//! (roots 8) in an LV of its own named by `fec-device=`.
//!
//! - the FEC words of the verity table are those `veritysetup open` with the same options
//!   loads: roots and offset as given, and the parity size veritysetup's dump reports;
//! - the parity verinit recomputes equals the bytes veritysetup wrote;
//! - on copies with bytes flipped in 1, 2, ... blocks, the symbols verinit's decoder
//!   corrects equal veritysetup verify's "Found N repairable errors", and the repaired
//!   blocks equal the original;
//! - `--verify` on a damaged disk says the kernel will correct the block, and fails when
//!   the damage is beyond FEC's reach.
//!
//! Each needs root and loop devices (the fixtures): without them they fail, saying so.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{array_of, copy_images, corrupt_root_data, dry_run, fixture, str_of, Fixture};
use serde_json::Value;
use verinit::disk::source::{FileSource, ReadAt};
use verinit::id::RootHash;
use verinit::verity::fec::check::verify_with_fec;
use verinit::verity::fec::decode::{decode_round, encode_round, FecSources};
use verinit::verity::fec::FecLayout;
use verinit::verity::{HashAlgorithm, VerityParams};

const SCENARIOS: [&str; 3] = ["fec-footer", "fec-footer-r24", "fec-lv"];

/// The FEC words of the plan's verity table: (device, fec_start, fec_blocks, fec_roots).
fn table_fec(run: &Value) -> (String, u64, u64, u32) {
    let line = array_of(&run["plan"]["steps"])
        .iter()
        .flat_map(|s| s["table"].as_array().cloned().unwrap_or_default())
        .map(|l| str_of(&l).to_string())
        .find(|l| l.contains(" verity "))
        .unwrap_or_else(|| panic!("no verity table in {run}"));
    let w: Vec<&str> = line.split_whitespace().collect();
    let after = |key: &str| -> &str {
        let at = w
            .iter()
            .position(|x| *x == key)
            .unwrap_or_else(|| panic!("no {key} in {line}"));
        w[at + 1]
    };
    (
        after("use_fec_from_device").to_string(),
        after("fec_start").parse().unwrap(),
        after("fec_blocks").parse().unwrap(),
        after("fec_roots").parse().unwrap(),
    )
}

/// What one scenario needs for the library-level checks: veritysetup's own files.
struct Files {
    fix: Fixture,
    params: VerityParams,
    layout: FecLayout,
    root: RootHash,
    data: PathBuf,
    hash: PathBuf,
    fec: PathBuf,
}

fn files(scenario: &str) -> Files {
    let fix = fixture(scenario);
    let run = dry_run(&fix.cmdline(), &paths(&fix), false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let (_, start, blocks, roots) = table_fec(&run.json);
    let v = &fix.expect["verity"];
    let params = VerityParams {
        hash_type: 1,
        algorithm: HashAlgorithm::parse(str_of(&v["algorithm"])).unwrap(),
        data_block_size: v["data_block_size"].as_u64().unwrap() as u32,
        hash_block_size: v["hash_block_size"].as_u64().unwrap() as u32,
        data_blocks: v["data_blocks"].as_u64().unwrap(),
        hash_start_block: v["hash_start_block"].as_u64().unwrap(),
        salt: hex(str_of(&v["salt"])),
    };
    let layout = FecLayout {
        roots,
        block_size: params.data_block_size,
        blocks,
        start,
        data_blocks: params.data_blocks,
        hash_start_block: params.hash_start_block,
    };
    let reports = fix.dir.join("reports");
    let fec = reports.join(str_of(&fix.expect["fec"]["file"]));
    Files {
        root: RootHash(hex(str_of(&v["root_hash"]))),
        data: reports.join("a.root.img"),
        hash: reports.join("a.verity.img"),
        fec,
        params,
        layout,
        fix,
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn paths(fix: &Fixture) -> Vec<String> {
    fix.image_paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

fn open(p: &Path) -> FileSource {
    FileSource::open(p).unwrap_or_else(|e| panic!("cannot open {}: {e}", p.display()))
}

#[test]
fn needs_root_loop_fec_tables_match_veritysetup() {
    for scenario in SCENARIOS {
        let f = files(scenario);
        let fec = &f.fix.expect["fec"];
        let run = dry_run(&f.fix.cmdline(), &paths(&f.fix), false);
        let (dev, start, blocks, roots) = table_fec(&run.json);
        let bs = f.params.data_block_size as u64;
        assert_eq!(roots as u64, fec["roots"].as_u64().unwrap(), "{scenario}");
        assert_eq!(start * bs, fec["offset"].as_u64().unwrap(), "{scenario}");
        // veritysetup dump's "FEC blocks" is the parity: ceil(fec_blocks / rsn) * roots.
        let parity = blocks.div_ceil(255 - roots as u64) * roots as u64;
        assert_eq!(parity, fec["parity_blocks"].as_u64().unwrap(), "{scenario}");
        let candidate = array_of(&run.json["candidates"])
            .iter()
            .find(|c| c["selected"] == true)
            .cloned()
            .unwrap();
        assert_eq!(candidate["fec"]["from"], fec["from"], "{scenario}");
        assert_eq!(candidate["fec"]["blocks"].as_u64(), Some(blocks));
        let expect_dev = if fec["from"] == "footer" {
            "vg0-root2"
        } else {
            "vg0-root--fec"
        };
        assert_eq!(dev, expect_dev, "{scenario}");
    }
}

#[test]
fn needs_root_loop_fec_parity_equals_veritysetups() {
    for scenario in SCENARIOS {
        let f = files(scenario);
        let (data, hash, fec) = (open(&f.data), open(&f.hash), open(&f.fec));
        let src = FecSources {
            data: &data,
            hash: &hash,
            fec: &fec,
        };
        let per_round = (f.layout.block_size * f.layout.roots) as usize;
        for round in 0..f.layout.rounds() {
            let ours = encode_round(&f.layout, &src, round).unwrap();
            let mut theirs = vec![0u8; per_round];
            fec.read_exact_at(f.layout.parity_offset(round).unwrap(), &mut theirs)
                .unwrap();
            assert!(ours == theirs, "{scenario}: round {round} differs");
        }
        eprintln!(
            "{scenario}: {} rounds of parity ({} bytes) equal veritysetup's",
            f.layout.rounds(),
            f.layout.parity_bytes().unwrap()
        );
    }
}

/// veritysetup verify with FEC on (data, hash): its "Found N repairable errors", or None
/// when it says nothing of the kind.
fn veritysetup_repairable(
    f: &Files,
    data: &Path,
    hash: &Path,
    fec: &Path,
) -> (bool, Option<usize>, String) {
    let fec_off = f.fix.expect["fec"]["offset"].as_u64().unwrap();
    let out = Command::new("veritysetup")
        .arg("verify")
        .arg(data)
        .arg(hash)
        .arg(verinit::id::encode_hex(&f.root.0))
        .arg(format!("--fec-device={}", fec.display()))
        .arg(format!("--fec-offset={fec_off}"))
        .arg(format!("--fec-roots={}", f.layout.roots))
        .output()
        .expect("run veritysetup");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let n = text
        .split("Found ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    (out.status.success(), n, text)
}

/// Flips bytes: (file: 0 data, 1 hash; byte offset).
fn damaged_copy(f: &Files, label: &str, flips: &[(usize, u64)]) -> (PathBuf, PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fec-damage")
        .join(format!("{}-{label}", f.fix.scenario));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let data = dir.join("root.img");
    let hash = dir.join("verity.img");
    fs::copy(&f.data, &data).unwrap();
    fs::copy(&f.hash, &hash).unwrap();
    let fec = if f.fec == f.hash {
        hash.clone()
    } else {
        let p = dir.join("fec.img");
        fs::copy(&f.fec, &p).unwrap();
        p
    };
    for &(which, at) in flips {
        let path = if which == 0 { &data } else { &hash };
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        let mut b = [0u8; 1];
        file.read_exact_at(&mut b, at).unwrap();
        b[0] ^= 0x5a;
        file.write_all_at(&b, at).unwrap();
    }
    (data, hash, fec)
}

#[test]
fn needs_root_loop_fec_repairable_counts_equal_veritysetups() {
    let mut agreed = 0;
    for scenario in SCENARIOS {
        let f = files(scenario);
        let bs = f.params.data_block_size as u64;
        let tree_block = f.params.hash_start_block * bs;
        // 1, 2, 3 data blocks with a byte each (different codewords), then one with three
        // bytes and a hash tree block; with roots 24 also a whole block of garbage.
        let mut cases: Vec<(&str, Vec<(usize, u64)>)> = vec![
            ("one", vec![(0, 10 * bs + 100)]),
            ("two", vec![(0, 3 * bs + 1), (0, 77 * bs + 2000)]),
            ("three", vec![(0, 5), (0, 2 * bs + 6), (0, 200 * bs + 7)]),
            (
                "tree",
                vec![
                    (0, 9 * bs + 1),
                    (0, 9 * bs + 2),
                    (0, 9 * bs + 3),
                    (1, tree_block + 40),
                ],
            ),
        ];
        // As many errors in one codeword as the roots correct: blocks `rounds` apart share
        // a round, and the same byte of each is one codeword.
        let t = f.layout.roots as u64 / 2;
        let rounds = f.layout.rounds();
        cases.push((
            "one-codeword",
            (0..t).map(|i| (0, (1 + i * rounds) * bs + 77)).collect(),
        ));
        if f.layout.roots >= 24 {
            cases.push(("garbage", (0..bs).map(|b| (0, 40 * bs + b)).collect()));
        }
        for (label, flips) in cases {
            let (data_p, hash_p, fec_p) = damaged_copy(&f, label, &flips);
            let (ok, n, text) = veritysetup_repairable(&f, &data_p, &hash_p, &fec_p);
            // veritysetup verify succeeds when FEC can repair everything, saying so.
            assert!(ok, "{scenario}/{label}: veritysetup verify failed\n{text}");
            let n = n.unwrap_or_else(|| panic!("{scenario}/{label}: no 'Found N' in\n{text}"));
            let (data, hash, fec) = (open(&data_p), open(&hash_p), open(&fec_p));
            let src = FecSources {
                data: &data,
                hash: &hash,
                fec: &fec,
            };
            let report = verify_with_fec(&f.params, &f.layout, &src, &f.root).unwrap();
            assert_eq!(report.symbols, n, "{scenario}/{label}: {report:?}");
            assert!(report.all_repaired(), "{scenario}/{label}: {report:?}");
            // The repaired bytes are the original ones.
            let (orig_data, orig_hash) = (open(&f.data), open(&f.hash));
            let mut blocks: Vec<(usize, u64)> =
                flips.iter().map(|&(w, at)| (w, at / bs * bs)).collect();
            blocks.dedup();
            for &(which, at) in &blocks {
                let k = if which == 0 {
                    at / bs
                } else {
                    f.layout.covered_hash_block(at / bs).unwrap()
                };
                let (round, row) = f.layout.position(k);
                let decoded = decode_round(&f.layout, &src, round, &[]).unwrap();
                let block = decoded.row(row, bs as usize).unwrap();
                let mut original = vec![0u8; bs as usize];
                let src_orig: &dyn ReadAt = if which == 0 { &orig_data } else { &orig_hash };
                src_orig.read_exact_at(at / bs * bs, &mut original).unwrap();
                assert!(
                    block == original.as_slice(),
                    "{scenario}/{label}: block {k} repaired wrong"
                );
            }
            agreed += 1;
            eprintln!(
                "{scenario}/{label}: {} bad blocks, {n} symbols: verinit and veritysetup agree",
                report.bad.len()
            );
        }
    }
    eprintln!("{agreed} damaged images: repairable counts agree with veritysetup");
}

#[test]
fn needs_root_loop_fec_two_errors_in_a_codeword_take_erasures() {
    let f = files("fec-footer");
    let bs = f.params.data_block_size as u64;
    let rounds = f.layout.rounds();
    // Blocks 4 and 4 + rounds share round 4 % rounds: the same byte of both is two errors
    // in one codeword, one more than 2 roots correct without erasures. veritysetup
    // (errors only) gives up; the kernel, and verinit, retry with the two data blocks
    // that fail their hash as erasures, and repair both.
    let flips = [(0, 4 * bs + 33), (0, (4 + rounds) * bs + 33)];
    let (data_p, hash_p, fec_p) = damaged_copy(&f, "two-in-a-codeword", &flips);
    let (ok, _, text) = veritysetup_repairable(&f, &data_p, &hash_p, &fec_p);
    assert!(!ok && !text.contains("repairable"), "veritysetup:\n{text}");
    let (data, hash, fec) = (open(&data_p), open(&hash_p), open(&fec_p));
    let src = FecSources {
        data: &data,
        hash: &hash,
        fec: &fec,
    };
    let report = verify_with_fec(&f.params, &f.layout, &src, &f.root).unwrap();
    assert_eq!(report.bad.len(), 2, "{report:?}");
    assert_eq!(report.repaired(), 2, "{report:?}");
    assert_eq!(report.with_erasures, 2, "{report:?}");
    // Three in one codeword: more erasures than roots, beyond repair for all.
    let three = [
        (0, 4 * bs + 33),
        (0, (4 + rounds) * bs + 33),
        (0, (4 + 2 * rounds) * bs + 33),
    ];
    let (data_p, hash_p, fec_p) = damaged_copy(&f, "three-in-a-codeword", &three);
    // veritysetup may "find repairable errors" here: errors-only decoding can land on
    // another codeword (a miscorrection), and it does not hash the result. The same
    // decoder in verinit lands on the same codeword, counts the same, and then sees the
    // block still fail its hash.
    let (_, n, text) = veritysetup_repairable(&f, &data_p, &hash_p, &fec_p);
    let (data, hash, fec) = (open(&data_p), open(&hash_p), open(&fec_p));
    let src = FecSources {
        data: &data,
        hash: &hash,
        fec: &fec,
    };
    let report = verify_with_fec(&f.params, &f.layout, &src, &f.root).unwrap();
    assert_eq!(report.bad.len(), 3, "{report:?}");
    assert_eq!(report.repaired(), 0, "{report:?}");
    if let Some(n) = n {
        assert_eq!(report.symbols, n, "veritysetup:\n{text}\n{report:?}");
    }
}

#[test]
fn needs_root_loop_fec_verify_says_the_kernel_will_correct() {
    for scenario in SCENARIOS {
        let fix = fixture(scenario);
        let dir = copy_images(&fix, "fec-verify");
        corrupt_root_data(&fix, &dir);
        let images: Vec<String> = fix
            .images()
            .iter()
            .map(|i| dir.join(i).display().to_string())
            .collect();
        let run = dry_run(&fix.cmdline(), &images, true);
        assert_eq!(run.code, Some(0), "{scenario}: {}", run.describe());
        let msg = str_of(&run.json["verify"]["message"]);
        assert!(
            msg.contains("the kernel will correct 1 blocks with FEC"),
            "{scenario}: {msg}"
        );
        assert!(
            msg.contains("repaired by FEC (1 bytes)"),
            "{scenario}: {msg}"
        );
    }
}

#[test]
fn needs_root_loop_fec_verify_fails_beyond_reach() {
    let fix = fixture("fec-footer");
    let dir = copy_images(&fix, "fec-beyond");
    // Three bytes of one codeword: the same byte of three data blocks `rounds` apart (one
    // round), more than 2 roots correct even with the blocks as erasures; written through
    // the LV's mapping in the disk image (the DDI's root partition).
    let at = &fix.expect["corrupt_at"];
    let image = dir.join(str_of(&at["image"]));
    let middle = at["offset"].as_u64().unwrap();
    let v = &fix.expect["verity"];
    let bs = v["data_block_size"].as_u64().unwrap();
    let plain = dry_run(&fix.cmdline(), &paths(&fix), false);
    let (_, _, blocks, roots) = table_fec(&plain.json);
    let rounds = blocks.div_ceil(255 - roots as u64);
    // corrupt_at is 123 bytes into the middle data block; the LV is contiguous here (one
    // segment), so the blocks `rounds` apart are `rounds * bs` bytes apart in the image.
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&image)
        .unwrap();
    for at in [middle, middle + rounds * bs, middle + 2 * rounds * bs] {
        let mut b = [0u8; 1];
        file.read_exact_at(&mut b, at).unwrap();
        b[0] ^= 0xff;
        file.write_all_at(&b, at).unwrap();
    }
    let images: Vec<String> = fix
        .images()
        .iter()
        .map(|i| dir.join(i).display().to_string())
        .collect();
    let run = dry_run(&fix.cmdline(), &images, true);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let msg = str_of(&run.json["verify"]["message"]);
    assert!(msg.contains("beyond repair"), "{msg}");
}
