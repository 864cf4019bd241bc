//! Entry points for the fuzzers (`fuzz/fuzz_targets/<target>.rs`) and for replaying the
//! inputs they found (`tests/fuzz_regressions.rs`): each takes untrusted bytes and runs
//! one of verinit's readers on them. They must return, whatever the bytes: no panic, no
//! hang, no huge allocation. This is the fuzz crate's library, not a module of verinit,
//! so the boot binary's module tree holds no fuzzing code; the replay test compiles this
//! same file into itself (`#[path]`), and so runs exactly what the fuzzer ran.
//!
//! Input of each target:
//!   cmdline            kernel command line text (bytes that are not UTF-8 are replaced)
//!   lvm_label          a device; the label is looked for in its first four sectors
//!   lvm_mda            area offset u64, area size u64 (a disk_locn, as a label names a
//!                      metadata area), then the device
//!   lvm_text           metadata text
//!   gpt                a device
//!   verity_superblock  a device with the superblock at offset 0
//!   signature          the bytes of a root-verity-sig partition
//!   pkcs7              a DER signature (the decoded `signature` of that JSON)
//!   fec                data_blocks u16, flags u8, options length u8, that many bytes of
//!                      veritytab options (fec-device=, fec-offset=, fec-roots=), then a
//!                      hash volume whose last 4096 bytes may hold a fec_header footer
//!   planner            flags u8, cmdline length u16, cmdline, then a u32 length for each
//!                      device but the last, then the devices' bytes (at most `PLANNER_BYTES`)
//! Little-endian throughout. Checksums: a mutated structure nearly always fails its
//! checksum, and the readers stop there. So where a checksum covers the bytes, the reader
//! runs on the input as it is, then again on a copy whose checksums were recomputed
//! (`fix_*`, in `checksums.rs`), which lets the fuzzer reach the checks behind them. Both runs are the real
//! reader on plain bytes, so a replay on stable takes exactly the path the fuzzer took.

// A file of its own, named relative to this one, wherever this file is compiled from.
#[path = "checksums.rs"]
mod checksums;

use std::sync::Arc;

use checksums::{fix_all, fix_gpt, fix_labels, fix_mda, le_u32, le_u64};
use verinit::cmdline;
use verinit::disk::devices::{BlockDevice, DeviceKind};
use verinit::disk::gpt_table;
use verinit::disk::source::{MemSource, ReadAt};
use verinit::dm_table::DevNum;
use verinit::id::{LvmId, RootHash};
use verinit::lvm::label::{self, DiskArea};
use verinit::lvm::{mda, metadata, text};
use verinit::plan::{self, PlanOptions};
use verinit::report::Report;
use verinit::scan::Scan;
use verinit::units::Bytes;
use verinit::verity::fec::decode::{decode_round, FecSources};
use verinit::verity::fec::footer::footer_in_block;
use verinit::verity::fec::rs::Codec;
use verinit::verity::fec::{footer_layout, FecLayout, FooterFound};
use verinit::verity::params::{hash_start_block, VerityParams};
use verinit::verity::{pkcs7, sig, superblock, tree};

/// The most device bytes the planner target reads from one input.
pub const PLANNER_BYTES: usize = 4 << 20;
/// The longest command line the planner target takes from its input.
const PLANNER_CMDLINE: usize = 4096;
/// Planner flags: bits 0-1 give the device count (0 and 1: one, 2: two, 3: three).
const FLAG_FIX_CHECKSUMS: u8 = 1 << 2;
/// GPT checksums are fixed as for 4096-byte sectors (else 512).
const FLAG_GPT_4096: u8 = 1 << 3;
/// The devices are block devices with numbers, as in the boot, rather than image files.
const FLAG_BLOCK_DEVICES: u8 = 1 << 4;
/// The devices have 4096-byte logical sectors (block devices only).
const FLAG_SECTOR_4096: u8 = 1 << 5;

/// Runs a fallible reader and formats its error as the boot would print it.
fn shown<T, E: std::fmt::Display>(result: Result<T, E>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            std::hint::black_box(e.to_string());
            None
        }
    }
}

pub fn cmdline(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match cmdline::parse(&text) {
        Ok(args) => {
            std::hint::black_box(format!("{args:?} {}", args.verity_options));
            // What the boot does before any device shows up: plan against nothing.
            let outcome = plan::plan(&args, &Scan::default(), &PlanOptions::default());
            shown(outcome.plan);
        }
        Err(errors) => {
            for e in errors {
                std::hint::black_box(e.to_string());
            }
        }
    }
}

pub fn lvm_label(data: &[u8]) {
    let read = |bytes: &[u8]| {
        let src = MemSource::new("fuzz", bytes.to_vec());
        shown(label::read_label(&src));
    };
    read(data);
    let mut fixed = data.to_vec();
    fix_labels(&mut fixed);
    if fixed != data {
        read(&fixed);
    }
}

pub fn lvm_mda(data: &[u8]) {
    let (Some(offset), Some(size)) = (le_u64(data, 0), le_u64(data, 8)) else {
        return;
    };
    let area = DiskArea {
        offset: Bytes(offset),
        size: Bytes(size),
    };
    let device = data.get(16..).unwrap_or_default();
    let read = |bytes: &[u8]| {
        let src = MemSource::new("fuzz", bytes.to_vec());
        shown(mda::read_metadata_area(&src, &area));
    };
    read(device);
    let mut fixed = device.to_vec();
    if let Ok(start) = usize::try_from(offset) {
        fix_mda(&mut fixed, start);
    }
    if fixed != device {
        read(&fixed);
    }
}

pub fn lvm_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    shown(text::parse(&text));
    shown(metadata::volume_group(data));
}

pub fn gpt(data: &[u8]) {
    let read = |bytes: &[u8]| {
        let src = MemSource::new("fuzz", bytes.to_vec());
        for sector_size in [None, Some(512), Some(4096)] {
            shown(gpt_table::read_gpt(&src, sector_size));
        }
    };
    read(data);
    let mut fixed = data.to_vec();
    for ss in [512, 4096] {
        let last = (fixed.len() / ss).saturating_sub(1) * ss;
        for at in [ss, last] {
            fix_gpt(&mut fixed, at, ss);
        }
    }
    if fixed != data {
        read(&fixed);
    }
}

pub fn verity_superblock(data: &[u8]) {
    let src = MemSource::new("fuzz", data.to_vec());
    let Some(Some(sb)) = shown(superblock::read_superblock(&src, 0)) else {
        return;
    };
    let Some(start) = hash_start_block(0, sb.hash_block_size, true) else {
        return;
    };
    let Some(params) = shown(VerityParams::from_superblock(&sb, start)) else {
        return;
    };
    let root = RootHash(vec![0x5a; params.algorithm.digest_len()]);
    let len = src.len();
    shown(params.check(&root, len, len));
    shown(params.check(&root, u64::MAX, u64::MAX));
    shown(params.check_same_device(&root, len));
    std::hint::black_box((params.layout(), params.hash_area()));
    shown(tree::check_root(&src, &src, &params, &root));
}

pub fn signature(data: &[u8]) {
    shown(sig::parse_signature(data, "fuzz"));
    shown(sig::read_signature(&MemSource::new("fuzz", data.to_vec())));
}

pub fn pkcs7(data: &[u8]) {
    if let Some(info) = shown(pkcs7::parse_pkcs7(data)) {
        let _ = info.to_string();
    }
}

/// FEC: the footer at the end of the input's hash volume and the FEC options, each laid
/// out against a tree of `data_blocks` 4096-byte blocks as the planner would; the layouts
/// that pass decode their first round from the input (so the input stays small: the
/// data is read as zeros past its end), and the input's bytes as RS codewords.
pub fn fec(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let data_blocks = u64::from(u16::from_le_bytes([data[0], data[1]])).max(1);
    let flags = data[2];
    let opt_len = usize::from(data[3]).min(data.len() - 4);
    let options = String::from_utf8_lossy(&data[4..4 + opt_len]);
    let volume = &data[4 + opt_len..];
    let params = VerityParams {
        hash_type: 1,
        algorithm: verinit::verity::HashAlgorithm::Sha256,
        data_block_size: 4096,
        hash_block_size: if flags & 1 != 0 { 512 } else { 4096 },
        data_blocks,
        hash_start_block: 1,
        salt: vec![],
    };
    let src = MemSource::new("fuzz", volume.to_vec());
    let len = src.len();
    let on_hash = flags & 2 != 0;
    let mut layouts = Vec::new();
    let last = &volume[volume.len().saturating_sub(4096)..];
    if let FooterFound::Footer(f) = footer_in_block(last) {
        if let Some(l) = shown(footer_layout(&f, &params, len)) {
            layouts.push(l);
        }
    }
    if let Ok(o) = cmdline::VerityOptions::parse(&options) {
        let roots = o.fec_roots.unwrap_or(2);
        let offset = o.fec_offset.unwrap_or(0);
        if let Some(l) = shown(FecLayout::from_options(
            &params, roots, offset, on_hash, len,
        )) {
            layouts.push(l);
        }
    }
    for l in layouts {
        let checked = l.check(&params, ("fec", len), ("hash", len), on_hash, false);
        std::hint::black_box((l.rounds(), l.area(), l.overhead_percent(), l.position(7)));
        if shown(checked).is_some() && l.rounds() > 0 {
            let sources = FecSources {
                data: &src,
                hash: &src,
                fec: &src,
            };
            shown(decode_round(&l, &sources, 0, &[]));
            shown(decode_round(&l, &sources, 0, &[0, 1, 2]));
        }
    }
    if let Some(codec) = Codec::new(2 + u32::from(flags) % 23) {
        for chunk in data.chunks(255).take(64) {
            let mut word = [0u8; 255];
            word[..chunk.len()].copy_from_slice(chunk);
            let _ = codec.decode(&mut word);
        }
    }
}

/// The planner on up to three synthetic disks, with the input's own command line and a
/// few fixed ones.
pub fn planner(data: &[u8]) {
    let Some(input) = PlannerInput::split(data) else {
        return;
    };
    let mut disks = input.devices;
    if input.flags & FLAG_FIX_CHECKSUMS != 0 {
        let gpt_ss = if input.flags & FLAG_GPT_4096 != 0 {
            4096
        } else {
            512
        };
        for disk in &mut disks {
            fix_all(disk, gpt_ss);
        }
    }
    let block = input.flags & FLAG_BLOCK_DEVICES != 0;
    let sector_size = if block && input.flags & FLAG_SECTOR_4096 != 0 {
        4096
    } else {
        512
    };
    let mut devices = Vec::new();
    let mut sources: Vec<Arc<dyn ReadAt>> = Vec::new();
    for (i, bytes) in (0u32..).zip(disks) {
        let name = if block {
            format!("/dev/vd{}", char::from(b'a' + i as u8))
        } else {
            format!("/fuzz/disk{i}.img")
        };
        devices.push(BlockDevice {
            name: name.clone(),
            path: name.clone().into(),
            dev: block.then_some(DevNum {
                major: 254,
                minor: i * 16,
            }),
            size: Bytes(bytes.len() as u64),
            sector_size,
            kind: if block {
                DeviceKind::Disk
            } else {
                DeviceKind::File
            },
        });
        sources.push(Arc::new(MemSource::new(&name, bytes)));
    }
    let scan = Scan::from_sources(devices, sources);

    let own = cmdline::parse(&input.cmdline).ok();
    let hash = own
        .as_ref()
        .and_then(|a| a.root_hash.clone())
        .unwrap_or_else(|| RootHash(vec![0x5a; 32]))
        .to_hex();
    let lv_id = scan
        .vgs
        .iter()
        .flat_map(|vg| vg.vg.lvs.iter().map(|lv| lv.id))
        .next()
        .or_else(|| LvmId::parse("fuzzfu-zzfu-zzfu-zzfu-zzfu-zzfu-zzfuzz").ok());
    let mut lines = vec![
        format!("roothash={hash}"),
        format!("root=/dev/vg0/root roothash={hash}"),
    ];
    if let Some(id) = lv_id {
        lines.push(format!("root=PARTUUID={id} roothash={hash}"));
    }
    let mut runs: Vec<(String, cmdline::BootArgs)> = lines
        .into_iter()
        .filter_map(|line| Some((line.clone(), cmdline::parse(&line).ok()?)))
        .collect();
    if let Some(args) = own {
        runs.push((input.cmdline.clone(), args));
    }
    for (line, args) in &runs {
        let outcome = plan::plan(args, &scan, &PlanOptions::default());
        if let Ok(p) = &outcome.plan {
            for step in &p.steps {
                std::hint::black_box(step.to_string());
            }
        }
        std::hint::black_box(Report::new(line, args, &scan, &outcome).text());
    }
}

/// The planner's input, taken apart.
struct PlannerInput {
    flags: u8,
    cmdline: String,
    devices: Vec<Vec<u8>>,
}

impl PlannerInput {
    fn split(data: &[u8]) -> Option<PlannerInput> {
        let flags = *data.first()?;
        let count = usize::from(flags & 3).max(1);
        let cmdline_len = usize::from(u16::from_le_bytes(data.get(1..3)?.try_into().ok()?));
        let cmdline_len = cmdline_len.min(PLANNER_CMDLINE);
        let cmdline = data.get(3..)?;
        let cmdline_len = cmdline_len.min(cmdline.len());
        let (cmdline, mut rest) = cmdline.split_at(cmdline_len);
        let mut lens = Vec::new();
        for _ in 1..count {
            let len = le_u32(rest, 0).unwrap_or(0) as usize;
            rest = rest.get(4..).unwrap_or_default();
            lens.push(len);
        }
        let mut budget = rest.get(..PLANNER_BYTES).unwrap_or(rest);
        let mut devices = Vec::new();
        for len in lens {
            let (disk, after) = budget.split_at(len.min(budget.len()));
            devices.push(disk.to_vec());
            budget = after;
        }
        devices.push(budget.to_vec());
        Some(PlannerInput {
            flags,
            cmdline: String::from_utf8_lossy(cmdline).into_owned(),
            devices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planner_input_splits_into_devices() {
        let mut data = vec![2u8 | FLAG_FIX_CHECKSUMS, 3, 0];
        data.extend_from_slice(b"abc");
        data.extend_from_slice(&5u32.to_le_bytes());
        data.extend_from_slice(b"01234567");
        let input = PlannerInput::split(&data).unwrap();
        assert_eq!(input.cmdline, "abc");
        assert_eq!(input.devices, vec![b"01234".to_vec(), b"567".to_vec()]);
        // Lengths past the end are cut short; nothing is lost or invented.
        let input = PlannerInput::split(&[3, 255, 255, b'x']).unwrap();
        assert_eq!(input.cmdline, "x");
        assert_eq!(input.devices, vec![Vec::<u8>::new(); 3]);
        assert!(PlannerInput::split(&[1, 0]).is_none());
    }
}
