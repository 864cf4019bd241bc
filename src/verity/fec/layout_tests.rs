use super::*;
use crate::verity::params::HashAlgorithm;

/// 300 data blocks of 4096, tree at block 1 (after the superblock): 3 + 1 tree blocks,
/// blocks 1..5 of the hash device, as `veritysetup format` lays it out.
fn params() -> VerityParams {
    VerityParams {
        hash_type: 1,
        algorithm: HashAlgorithm::Sha256,
        data_block_size: 4096,
        hash_block_size: 4096,
        data_blocks: 300,
        hash_start_block: 1,
        salt: vec![0x00, 0x11, 0x22, 0x33],
    }
}

#[test]
fn fec_after_the_tree_on_the_hash_device() {
    // veritysetup format --fec-device=HASH --fec-offset=20480 --fec-roots=2: its dump
    // says "FEC blocks: 4" (the parity) and the hash device grows to 36864 bytes.
    let l = FecLayout::from_options(&params(), 2, 20480, true, 36864).unwrap();
    assert_eq!((l.blocks, l.start, l.rounds()), (304, 5, 2));
    assert_eq!(l.parity_blocks(), Some(4));
    assert_eq!(l.area(), Some((20480, 36864)));
    l.check(&params(), ("h", 36864), ("h", 36864), true, false)
        .unwrap();
    assert!((l.overhead_percent() - 400.0 / 304.0).abs() < 1e-9);
}

#[test]
fn fec_on_another_device_covers_the_whole_hash_device() {
    let l = FecLayout::from_options(&params(), 8, 0, false, 5 * 4096).unwrap();
    assert_eq!((l.blocks, l.start, l.rounds()), (304, 0, 2));
    assert_eq!(l.parity_blocks(), Some(16));
    l.check(&params(), ("f", 16 * 4096), ("h", 5 * 4096), false, false)
        .unwrap();
    let err = l
        .check(&params(), ("f", 15 * 4096), ("h", 5 * 4096), false, false)
        .unwrap_err();
    assert!(matches!(err, FecError::FecTooSmall { .. }), "{err}");
}

#[test]
fn refusals_name_the_problem() {
    let p = params();
    assert_eq!(
        FecLayout::from_options(&p, 1, 20480, true, 0),
        Err(FecError::Roots(1))
    );
    assert_eq!(
        FecLayout::from_options(&p, 25, 20480, true, 0),
        Err(FecError::Roots(25))
    );
    assert!(matches!(
        FecLayout::from_options(&p, 2, 20480 + 512, true, 0),
        Err(FecError::Offset { .. })
    ));
    assert!(matches!(
        FecLayout::from_options(&p, 2, 0, true, 0),
        Err(FecError::OffsetBeforeTree { .. })
    ));
    let mut odd = p.clone();
    odd.hash_block_size = 1024;
    assert!(matches!(
        FecLayout::from_options(&odd, 2, 20480, true, 0),
        Err(FecError::BlockSizes { .. })
    ));
    // Inside the tree (veritysetup writes it without a word, over the tree's last block).
    let l = FecLayout::from_options(&p, 2, 16384, true, 36864).unwrap();
    let err = l
        .check(&p, ("h", 36864), ("h", 36864), true, false)
        .unwrap_err();
    assert!(matches!(err, FecError::TooFewBlocks { .. }), "{err}");
    // Parity placed over the tree by hand, with fec_blocks that do cover it.
    let mut l = FecLayout::from_options(&p, 2, 20480, true, 36864).unwrap();
    l.start = 2;
    let err = l
        .check(&p, ("h", 36864), ("h", 36864), true, false)
        .unwrap_err();
    assert!(err.to_string().contains("overlaps the hash tree"), "{err}");
    // Hash device shorter than what fec_blocks covers.
    let l = FecLayout::from_options(&p, 2, 0, false, 9 * 4096).unwrap();
    let err = l
        .check(&p, ("f", 1 << 20), ("h", 5 * 4096), false, false)
        .unwrap_err();
    assert!(matches!(err, FecError::HashTooSmall { .. }), "{err}");
}

#[test]
fn interleaving_is_cryptsetups() {
    let l = FecLayout::from_options(&params(), 2, 20480, true, 36864).unwrap();
    // rounds = 2: round 0 holds covered blocks 0, 2, 4, ...; round 1 blocks 1, 3, ...
    assert_eq!(l.position(0), (0, 0));
    assert_eq!(l.position(1), (1, 0));
    assert_eq!(l.position(303), (1, 151));
    assert_eq!(l.block_at(1, 151), 303);
    assert_eq!(l.covered(299), Covered::Data(299 * 4096));
    assert_eq!(l.covered(300), Covered::Hash(4096));
    assert_eq!(l.covered(304), Covered::Zero);
    assert_eq!(l.covered_hash_block(1), Some(300));
    assert_eq!(l.covered_hash_block(0), None);
    assert_eq!(l.parity_offset(1), Some(20480 + 2 * 4096));
    // cryptsetup's FEC_interleave: RS offset (n * bs + b) * rsn + i sits at byte
    // (i * rounds + n) * bs + b of the input.
    let (rsn, rounds, bs) = (l.rsn(), l.rounds(), 4096u64);
    for (n, b, i) in [(0u64, 0u64, 0u64), (1, 17, 5), (1, 4095, 252)] {
        let rs_off = (n * bs + b) * rsn + i;
        let physical = rs_off / rsn + (rs_off % rsn) * rounds * bs;
        assert_eq!(physical, l.block_at(n, i) * bs + b);
    }
}

#[test]
fn footer_describes_the_parity_before_it() {
    use super::super::footer::FecFooter;
    // Hash volume: superblock, tree in blocks 1..5, parity 5..9, footer block 9.
    let footer = FecFooter {
        version: 0,
        size: 60,
        roots: 2,
        fec_size: 4 * 4096,
        inp_size: 304 * 4096,
        hash: [0; 32],
        backup: false,
    };
    let l = footer_layout(&footer, &params(), 10 * 4096).unwrap();
    assert_eq!((l.blocks, l.start, l.roots), (304, 5, 2));
    for (what, f, len) in [
        (
            "fec_size",
            FecFooter {
                fec_size: 3 * 4096,
                ..footer.clone()
            },
            10 * 4096,
        ),
        (
            "inp_size",
            FecFooter {
                inp_size: 305 * 4096,
                ..footer.clone()
            },
            10 * 4096,
        ),
        (
            "inp_size",
            FecFooter {
                inp_size: 304 * 4096 + 1,
                ..footer.clone()
            },
            10 * 4096,
        ),
        ("covers", footer.clone(), 9 * 4096),
        (
            "rounds x roots",
            FecFooter {
                fec_size: u32::MAX - 4095,
                inp_size: u64::MAX - 4095,
                ..footer.clone()
            },
            10 * 4096,
        ),
        ("smaller", footer.clone(), 100),
        (
            "roots",
            FecFooter {
                roots: 0,
                ..footer.clone()
            },
            10 * 4096,
        ),
    ] {
        let err = footer_layout(&f, &params(), len).unwrap_err();
        assert!(err.contains(what), "{what}: {err}");
    }
}
