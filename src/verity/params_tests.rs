//! Tests of `params.rs`: limits, tree shapes and device checks.
//! Test code only: its module is declared under #[cfg(test)].

use super::*;
use crate::disk::source::MemSource;

fn base() -> VerityParams {
    VerityParams {
        hash_type: 1,
        algorithm: HashAlgorithm::Sha256,
        data_block_size: 4096,
        hash_block_size: 4096,
        data_blocks: 768,
        hash_start_block: 1,
        salt: vec![],
    }
}

fn root(len: usize) -> RootHash {
    RootHash(vec![0xab; len])
}

#[test]
fn algorithms_are_an_allow_list() {
    assert_eq!(HashAlgorithm::parse("sha256").unwrap().digest_len(), 32);
    assert_eq!(HashAlgorithm::parse("sha512").unwrap().digest_len(), 64);
    for bad in [
        "", "sha1", "SHA256", "sha256 ", "sha-256", "sha384", "sha2566",
    ] {
        let e = HashAlgorithm::parse(bad).unwrap_err();
        assert!(e.to_string().contains("sha256, sha512"), "{bad}: {e}");
    }
}

#[test]
fn tree_shapes_match_veritysetup() {
    // (algorithm, data blocks, hash block size, hash blocks veritysetup reports)
    for (alg, data_blocks, hbs, want) in [
        (HashAlgorithm::Sha256, 768, 4096, Some(7)),    // 6 + 1
        (HashAlgorithm::Sha512, 3072, 1024, Some(205)), // 192 + 12 + 1
        (HashAlgorithm::Sha256, 1, 4096, Some(0)),      // the root is the block's digest
        (HashAlgorithm::Sha256, 128, 4096, Some(1)),
        (HashAlgorithm::Sha256, 129, 4096, Some(3)),
        (HashAlgorithm::Sha512, 64, 512, Some(9)), // 8 + 1
        (HashAlgorithm::Sha256, 0, 4096, None),
        (HashAlgorithm::Sha512, 10, 64, None), // one digest per block: no tree
        (HashAlgorithm::Sha256, u64::MAX, 64, None), // 64 levels of 2 digests
    ] {
        let p = VerityParams {
            algorithm: alg,
            data_blocks,
            hash_block_size: hbs,
            ..base()
        };
        assert_eq!(p.hash_tree_blocks(), want, "{alg} {data_blocks} {hbs}");
    }
    let layout = VerityParams {
        data_blocks: 3072,
        hash_block_size: 1024,
        algorithm: HashAlgorithm::Sha512,
        hash_start_block: 5,
        ..base()
    }
    .layout()
    .unwrap();
    assert_eq!((layout.hash_per_block, layout.slot_size), (16, 64));
    // Top level first on disk.
    let at: Vec<_> = layout
        .levels
        .iter()
        .map(|l| (l.first_block, l.blocks))
        .collect();
    assert_eq!(at, vec![(18, 192), (6, 12), (5, 1)]);
}

#[test]
fn hash_start_blocks() {
    for (offset, hbs, sb, want) in [
        (0, 4096, true, Some(1)),
        (0, 4096, false, Some(0)),
        (3 << 20, 4096, true, Some(769)),
        (3 << 20, 4096, false, Some(768)),
        (3 << 20, 1024, true, Some(3073)),
        (1024, 512, true, Some(3)),
        (u64::MAX, 4096, true, None),
        (4096, 0, false, None),
    ] {
        assert_eq!(
            hash_start_block(offset, hbs, sb),
            want,
            "{offset} {hbs} {sb}"
        );
    }
}

#[test]
fn checks_and_their_near_misses() {
    let data_len = 768 * 4096;
    let hash_len = 8 * 4096;
    assert_eq!(base().check(&root(32), data_len, hash_len), Ok(()));
    type Edit = fn(&mut VerityParams);
    let cases: &[(&str, Edit, usize, &str)] = &[
        ("chrome os", |p| p.hash_type = 0, 32, "Chrome OS"),
        ("type 2", |p| p.hash_type = 2, 32, "hash type 2"),
        (
            "dbs 1000",
            |p| p.data_block_size = 1000,
            32,
            "not a power of two",
        ),
        (
            "dbs 256",
            |p| p.data_block_size = 256,
            32,
            "smaller than 512",
        ),
        (
            "dbs 8192",
            |p| p.data_block_size = 8192,
            32,
            "larger than 4096",
        ),
        (
            "hbs 1M",
            |p| p.hash_block_size = 1 << 20,
            32,
            "larger than 524288",
        ),
        ("root 31", |_| {}, 31, "has 31 bytes but sha256"),
        ("root 64", |_| {}, 64, "has 64 bytes but sha256"),
        (
            "sha512 root 32",
            |p| p.algorithm = HashAlgorithm::Sha512,
            32,
            "sha512",
        ),
        ("salt 257", |p| p.salt = vec![1; 257], 32, "257 bytes"),
        ("no data", |p| p.data_blocks = 0, 32, "data_blocks is 0"),
        (
            "data big",
            |p| p.data_blocks = 769,
            32,
            "needs 3149824 bytes but the data device",
        ),
        (
            "hash big",
            |p| p.hash_start_block = 2,
            32,
            "bytes 8192..36864 but the hash device",
        ),
        (
            "overflow",
            |p| p.data_blocks = u64::MAX / 2,
            32,
            "more than any device holds",
        ),
    ];
    for (what, edit, root_len, expect) in cases {
        let mut p = base();
        edit(&mut p);
        let e = p.check(&root(*root_len), data_len, hash_len).unwrap_err();
        assert!(e.to_string().contains(expect), "{what}: {e}");
    }
    // Edges that pass: salt of 256, 512-byte blocks, hash blocks up to 512 KiB.
    let mut p = base();
    p.salt = vec![1; 256];
    assert_eq!(p.check(&root(32), data_len, hash_len), Ok(()));
    p.data_block_size = 512;
    assert_eq!(p.check(&root(32), data_len, hash_len), Ok(()));
}

#[test]
fn same_device_areas_must_not_overlap() {
    let data_end = 768 * 4096;
    // Tree right after the data (superblock in block 768, tree from 769): fine.
    let p = VerityParams {
        hash_start_block: 769,
        ..base()
    };
    assert_eq!(p.check_same_device(&root(32), data_end + 8 * 4096), Ok(()));
    let p = VerityParams {
        hash_start_block: 767,
        ..base()
    };
    let e = p
        .check_same_device(&root(32), data_end + 8 * 4096)
        .unwrap_err();
    assert!(
        matches!(
            e,
            ParamsError::Overlap {
                hash_start: 3141632,
                ..
            }
        ),
        "{e}"
    );
    // The same check through sources: only when data and hash are one source.
    let disk = MemSource::new("/dev/vda3", vec![0; data_end as usize + 8 * 4096]);
    let other = MemSource::new("/dev/vda4", vec![0; 8 * 4096 + 767 * 4096]);
    let e = p.check_sources(&root(32), &disk, &disk).unwrap_err();
    assert!(e.to_string().contains("on /dev/vda3"), "{e}");
    assert_eq!(p.check_sources(&root(32), &disk, &other), Ok(()));
    let e = p.check_sources(&root(32), &other, &other).unwrap_err();
    assert!(e.to_string().contains("on /dev/vda4"), "{e}");
    // One data block has no tree, so nothing can overlap.
    let p = VerityParams {
        data_blocks: 1,
        hash_start_block: 0,
        ..base()
    };
    assert_eq!(p.check_same_device(&root(32), 4096), Ok(()));
}

#[test]
fn from_superblock_takes_its_fields() {
    let sb = VeritySuperblock {
        version: 1,
        hash_type: 1,
        uuid: crate::id::Guid([7; 16]),
        algorithm: "sha512".into(),
        data_block_size: 1024,
        hash_block_size: 4096,
        data_blocks: 99,
        salt: vec![1, 2],
    };
    let p = VerityParams::from_superblock(&sb, 3).unwrap();
    assert_eq!(p.algorithm, HashAlgorithm::Sha512);
    assert_eq!(
        (p.data_blocks, p.hash_start_block, p.salt.len()),
        (99, 3, 2)
    );
    let sb = VeritySuperblock {
        algorithm: "sha1".into(),
        ..sb
    };
    assert!(VerityParams::from_superblock(&sb, 3).is_err());
}

#[test]
fn data_blocks_that_overflow_are_named() {
    let p = VerityParams {
        hash_type: 1,
        algorithm: HashAlgorithm::Sha256,
        data_block_size: 4096,
        hash_block_size: 4096,
        data_blocks: 1 << 63,
        hash_start_block: 1,
        salt: Vec::new(),
    };
    let err = p
        .check(&RootHash(vec![0; 32]), 1 << 20, 1 << 20)
        .unwrap_err();
    assert!(
        matches!(err, ParamsError::DataBlocksOverflow { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("9223372036854775808"), "{err}");
}
