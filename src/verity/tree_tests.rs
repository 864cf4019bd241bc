//! The verity reader and tree checked against `veritysetup format` / `dump` / `verify`
//! on files made at run time.
//! Test code only: its module is declared under #[cfg(test)].

use std::sync::atomic::{AtomicU64, Ordering};

use super::fixture::{field, flip_byte, pseudo_random, run, TempDir};
use super::*;
use crate::disk::source::{FileSource, ReadAt};
use crate::id::RootHash;

/// One `veritysetup format` run.
struct Case {
    alg: &'static str,
    dbs: u32,
    hbs: u32,
    data_len: usize,
    salt: &'static str, // "" = veritysetup's random salt, "-" = none, else hex
    appended: bool,     // tree after the data in the same file, at --hash-offset
    superblock: bool,
}

/// A formatted image: paths, the parameters read back, and veritysetup's root hash.
struct Formatted {
    _dir: TempDir,
    data: String,
    hash: String,
    hash_offset: u64,
    params: VerityParams,
    root: RootHash,
}

fn format(c: &Case, seed: u64) -> Formatted {
    let dir = TempDir::new("verity");
    let data = dir.file("data.img");
    std::fs::write(&data, pseudo_random(c.data_len, seed)).unwrap();
    let hash = if c.appended {
        data.clone()
    } else {
        dir.file("hash.img")
    };
    let hash_offset = if c.appended { c.data_len as u64 } else { 0 };
    let data_blocks = (c.data_len / c.dbs as usize).to_string();
    let mut args = vec![
        "format".to_string(),
        data.clone(),
        hash.clone(),
        format!("--hash={}", c.alg),
        format!("--data-block-size={}", c.dbs),
        format!("--hash-block-size={}", c.hbs),
        format!("--data-blocks={data_blocks}"),
        format!("--hash-offset={hash_offset}"),
    ];
    if !c.salt.is_empty() {
        args.push(format!("--salt={}", c.salt));
    }
    if !c.superblock {
        args.push("--no-superblock".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = run("veritysetup", &args);
    let root = RootHash::parse(field(&report, "Root hash:")).unwrap();
    let salt_hex = field(&report, "Salt:");
    let salt = if salt_hex == "-" {
        vec![]
    } else {
        crate::id::decode_hex(salt_hex).unwrap()
    };

    let params = if c.superblock {
        let src = FileSource::open(hash.as_ref()).unwrap();
        let sb = read_superblock(&src, hash_offset)
            .unwrap()
            .expect("a superblock");
        let dump = run(
            "veritysetup",
            &["dump", &hash, &format!("--hash-offset={hash_offset}")],
        );
        assert_eq!(sb.uuid.to_string(), field(&dump, "UUID:"));
        assert_eq!(sb.data_blocks.to_string(), field(&dump, "Data blocks:"));
        assert_eq!(sb.algorithm, field(&dump, "Hash algorithm:"));
        assert_eq!(sb.salt, salt);
        let start = hash_start_block(hash_offset, sb.hash_block_size, true).unwrap();
        let params = VerityParams::from_superblock(&sb, start).unwrap();
        assert_eq!(
            params.hash_tree_blocks().unwrap().to_string(),
            field(&dump, "Hash blocks:")
        );
        params
    } else {
        VerityParams {
            hash_type: 1,
            algorithm: HashAlgorithm::parse(c.alg).unwrap(),
            data_block_size: c.dbs,
            hash_block_size: c.hbs,
            data_blocks: data_blocks.parse().unwrap(),
            hash_start_block: hash_start_block(hash_offset, c.hbs, false).unwrap(),
            salt,
        }
    };
    Formatted {
        _dir: dir,
        data,
        hash,
        hash_offset,
        params,
        root,
    }
}

fn open(path: &str) -> FileSource {
    FileSource::open(path.as_ref()).unwrap()
}

fn check(f: &Formatted, threads: usize) -> Result<VerifyReport, VerifyError> {
    let data = open(&f.data);
    let hash = open(&f.hash);
    let (d, h): (&dyn ReadAt, &dyn ReadAt) = if f.data == f.hash {
        (&data, &data)
    } else {
        (&data, &hash)
    };
    verify(d, h, &f.params, &f.root, threads, &|_, _| {})
}

/// veritysetup's own verdict on the same files.
fn veritysetup_verify(f: &Formatted) -> bool {
    let mut args = vec![
        "verify".to_string(),
        f.data.clone(),
        f.hash.clone(),
        f.root.to_hex(),
    ];
    args.push(format!("--hash-offset={}", f.hash_offset));
    if f.params.hash_start_block * u64::from(f.params.hash_block_size) == f.hash_offset {
        // No superblock: give veritysetup the parameters.
        args.extend([
            "--no-superblock".to_string(),
            format!("--hash={}", f.params.algorithm),
            format!("--data-block-size={}", f.params.data_block_size),
            format!("--hash-block-size={}", f.params.hash_block_size),
            format!("--data-blocks={}", f.params.data_blocks),
            format!(
                "--salt={}",
                if f.params.salt.is_empty() {
                    "-".into()
                } else {
                    crate::id::encode_hex(&f.params.salt)
                }
            ),
        ]);
    }
    std::process::Command::new("veritysetup")
        .args(&args)
        .output()
        .unwrap()
        .status
        .success()
}

const MIB: usize = 1 << 20;

fn cases() -> Vec<Case> {
    let c = |alg, dbs, hbs, data_len, salt, appended, superblock| Case {
        alg,
        dbs,
        hbs,
        data_len,
        salt,
        appended,
        superblock,
    };
    vec![
        c("sha256", 4096, 4096, 3 * MIB + 5 * 4096, "-", false, true),
        c("sha256", 4096, 4096, 3 * MIB, "", false, true),
        c("sha512", 4096, 4096, 2 * MIB + 4096, "", false, true),
        c("sha512", 1024, 1024, 3 * MIB, "00ff", false, true),
        c("sha256", 1024, 4096, MIB + 1024, "-", true, true),
        c(
            "sha256",
            4096,
            4096,
            2 * MIB,
            "0123456789abcdef",
            true,
            false,
        ),
        c("sha256", 4096, 1024, MIB, "-", false, false),
        c("sha512", 512, 512, 256 * 1024, "aa", false, true), // 8 digests a block: 6 levels
        c("sha256", 4096, 4096, 4096, "-", false, true),      // one block: no tree
        c("sha256", 4096, 4096, 128 * 4096, "-", false, true), // exactly one full hash block
        c("sha256", 4096, 4096, 129 * 4096, "-", false, true), // one more: two levels
    ]
}

#[test]
fn root_hash_and_verify_match_veritysetup() {
    for (i, case) in cases().iter().enumerate() {
        let f = format(case, i as u64 + 1);
        let what = format!(
            "case {i} ({} {}/{} {} bytes)",
            case.alg, case.dbs, case.hbs, case.data_len
        );
        let data = open(&f.data);
        for threads in [1, 2, 3] {
            assert_eq!(
                compute_root_hash(&data, &f.params, threads).unwrap(),
                f.root,
                "{what}"
            );
            let report = check(&f, threads).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(report.root_hash, f.root, "{what}");
            assert_eq!(report.data_blocks, f.params.data_blocks);
        }
        assert!(
            veritysetup_verify(&f),
            "{what}: veritysetup verify disagrees"
        );
    }
}

#[test]
fn a_flipped_data_byte_names_its_block() {
    let case = Case {
        alg: "sha256",
        dbs: 4096,
        hbs: 4096,
        data_len: 4 * MIB,
        salt: "-",
        appended: true,
        superblock: true,
    };
    let f = format(&case, 7);
    let blocks = f.params.data_blocks;
    for (k, byte) in [(0, 0), (5, 4095), (blocks / 2 + 3, 17), (blocks - 1, 100)] {
        let copy = format(&case, 7);
        flip_byte(&copy.data, k * 4096 + byte);
        for threads in [1, 2, 4] {
            match check(&copy, threads) {
                Err(VerifyError::DataBlock {
                    index,
                    offset,
                    ref device,
                }) => {
                    assert_eq!((index, offset), (k, k * 4096), "threads {threads}");
                    assert_eq!(device, &copy.data);
                }
                other => panic!("block {k}, threads {threads}: {other:?}"),
            }
        }
        assert!(!veritysetup_verify(&copy), "veritysetup missed block {k}");
    }
    // Two bad blocks in different threads' ranges: the first is named.
    flip_byte(&f.data, (blocks - 2) * 4096);
    flip_byte(&f.data, 300 * 4096 + 1);
    let e = check(&f, 2).unwrap_err();
    assert!(
        matches!(e, VerifyError::DataBlock { index: 300, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("data block 300"), "{e}");
}

#[test]
fn a_flipped_hash_byte_names_its_hash_block() {
    // sha512 with 1 KiB hash blocks: 16 digests a block, 3 levels over 3 MiB of 1 KiB blocks.
    let case = Case {
        alg: "sha512",
        dbs: 1024,
        hbs: 1024,
        data_len: 3 * MIB,
        salt: "-",
        appended: false,
        superblock: true,
    };
    let layout = format(&case, 3).params.layout().unwrap();
    assert_eq!(layout.levels.len(), 3);
    for (level, index) in [(0usize, 0u64), (0, 150), (1, 5), (2, 0)] {
        let f = format(&case, 3);
        let l = layout.levels[level];
        flip_byte(&f.hash, (l.first_block + index) * 1024 + 9);
        let e = check(&f, 2).unwrap_err();
        if level == 2 {
            assert!(matches!(e, VerifyError::RootMismatch { .. }), "{e}");
            continue;
        }
        match e {
            VerifyError::HashBlock {
                level: got_level,
                index: got,
                offset,
                ..
            } => {
                assert_eq!((got_level, got), (level, index));
                assert_eq!(offset, (l.first_block + index) * 1024);
            }
            other => panic!("level {level} block {index}: {other}"),
        }
    }
}

#[test]
fn wrong_root_spare_bytes_and_short_devices_are_refused() {
    let case = Case {
        alg: "sha256",
        dbs: 4096,
        hbs: 4096,
        data_len: 3 * MIB + 4096,
        salt: "-",
        appended: false,
        superblock: true,
    };
    let mut f = format(&case, 11);
    let good = f.root.clone();
    f.root.0[0] ^= 1;
    match check(&f, 2) {
        Err(VerifyError::RootMismatch {
            expected, computed, ..
        }) => {
            assert_eq!((expected, computed), (f.root.clone(), good.clone()));
        }
        other => panic!("{other:?}"),
    }
    // A non-zero byte in the unused tail of the top block, with a root hash made to match.
    f.root = good;
    let top = f.params.layout().unwrap().levels.last().copied().unwrap();
    flip_byte(&f.hash, top.first_block * 4096 + 4000);
    let mut top_block = vec![0u8; 4096];
    crate::disk::source::read_into(&open(&f.hash), top.first_block * 4096, &mut top_block).unwrap();
    use sha2::Digest;
    f.root = RootHash(sha2::Sha256::digest(&top_block).to_vec());
    match check(&f, 2) {
        Err(VerifyError::HashBlock {
            level: 1,
            index: 0,
            cause,
            ..
        }) => assert!(cause.contains("not zero")),
        other => panic!("{other:?}"),
    }
    // A hash device cut short.
    let len = std::fs::metadata(&f.hash).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f.hash)
        .unwrap()
        .set_len(len - 4096)
        .unwrap();
    let e = check(&f, 2).unwrap_err();
    assert!(
        matches!(e, VerifyError::Params(ParamsError::HashArea { .. })),
        "{e}"
    );
    assert!(e.to_string().contains(&f.hash), "{e}");
}

#[test]
fn progress_is_reported_and_ends_at_the_total() {
    let case = Case {
        alg: "sha256",
        dbs: 4096,
        hbs: 4096,
        data_len: 24 * MIB,
        salt: "-",
        appended: true,
        superblock: false,
    };
    let f = format(&case, 5);
    let calls = AtomicU64::new(0);
    let last = AtomicU64::new(0);
    let data = open(&f.data);
    let report = verify(&data, &data, &f.params, &f.root, 2, &|done, total| {
        assert!(done <= total);
        calls.fetch_add(1, Ordering::Relaxed);
        last.store(done, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(last.load(Ordering::Relaxed), report.bytes_hashed);
    let calls = calls.load(Ordering::Relaxed);
    assert!((2..=5).contains(&calls), "{calls} calls for 24 MiB");
}
