//! The steps of a boot, built from the chosen candidate: load the modules, wait for the
//! devices its tables name, create the dm devices of its data and hash volumes, pass its
//! signature to the kernel as a key (when it goes to the kernel) for as long as the verity
//! table loads, create the verity device, read it all once (`verinit.verify=full`), mount
//! it, write the boot record, switch root and exec init.

use crate::cmdline::{BootArgs, CorruptionMode};
use crate::dm_table::{DevRef, FecArgs, TableLine, Target, VerityTarget};
use crate::id::encode_hex;
use crate::plan::step::Step;
use crate::plan::verity_setup::Candidate;
use crate::plan::volume::Device;
use crate::plan::{names, wait_limit, Plan, PlanError, BOOT_RECORD, DEFAULT_INIT, NEW_ROOT};
use crate::scan::Scan;
use crate::units::Sectors;

fn verity_words(args: &BootArgs) -> Vec<String> {
    let o = &args.verity_options;
    let mut words = Vec::new();
    match o.corruption {
        Some(CorruptionMode::Ignore) => words.push("ignore_corruption"),
        Some(CorruptionMode::Restart) => words.push("restart_on_corruption"),
        Some(CorruptionMode::Panic) => words.push("panic_on_corruption"),
        None => {}
    }
    // Linux 6.12; the options parser allows it only with restart or panic on corruption.
    match (o.error_as_corruption, o.corruption) {
        (true, Some(CorruptionMode::Restart)) => words.push("restart_on_error"),
        (true, Some(CorruptionMode::Panic)) => words.push("panic_on_error"),
        _ => {}
    }
    if o.ignore_zero_blocks {
        words.push("ignore_zero_blocks");
    }
    if o.check_at_most_once {
        words.push("check_at_most_once");
    }
    words.into_iter().map(String::from).collect()
}

pub(super) fn build(c: &Candidate, args: &BootArgs, scan: &Scan) -> Result<Plan, PlanError> {
    let fstype = match (&args.fstype, &c.filesystem) {
        (Some(t), _) => t.clone(),
        (None, Some(fs)) => fs.kind.name().to_string(),
        (None, None) => {
            return Err(PlanError::Unplannable(format!(
            "cannot tell the filesystem type of {} (not squashfs, erofs or ext4): give rootfstype=",
            c.data.label
        )))
        }
    };
    let mut dm = Vec::new();
    let fec = c.fec.fec();
    for vol in [&c.data, &c.hash].into_iter().chain(fec.map(|f| &f.volume)) {
        if let Device::Create { name, uuid } = &vol.device {
            if dm
                .iter()
                .any(|s| matches!(s, Step::DmCreate { name: n, .. } if n == name))
            {
                continue;
            }
            dm.push(Step::DmCreate {
                name: name.clone(),
                uuid: uuid.clone(),
                read_only: true,
                table: vol.layout.table(&|id| scan.dev_ref(id)),
            });
        }
    }
    let p = &c.params;
    let len = p
        .data_blocks
        .checked_mul(u64::from(p.data_block_size) / 512)
        .ok_or_else(|| PlanError::Unplannable("data area size overflows".into()))?;
    let mut id = [0u8; 16];
    id.copy_from_slice(c.root_hash.0.get(..16).unwrap_or(&[0; 16]));
    let mut options = verity_words(args);
    if let Some(f) = fec {
        let args = FecArgs {
            dev: f.volume.dev_ref(),
            start: f.layout.start,
            blocks: f.layout.blocks,
            roots: f.layout.roots,
        };
        options.extend(args.words());
    }
    let key = match (&c.signature, c.signature_to_kernel) {
        (Some((from, sig)), true) => {
            let description = names::signature_key_description(&c.root_hash);
            options.push("root_hash_sig_key_desc".into());
            options.push(description.clone());
            dm.push(Step::AddKey {
                description: description.clone(),
                payload: sig.signature.clone(),
                from: from.clone(),
            });
            Some(description)
        }
        _ => None,
    };
    dm.push(Step::DmCreate {
        name: names::VERITY_NAME.to_string(),
        uuid: names::verity_uuid(&id),
        read_only: true,
        table: vec![TableLine {
            start: Sectors(0),
            len: Sectors(len),
            target: Target::Verity(VerityTarget {
                version: p.hash_type,
                data_dev: c.data.dev_ref(),
                hash_dev: c.hash.dev_ref(),
                data_block_size: p.data_block_size,
                hash_block_size: p.hash_block_size,
                data_blocks: p.data_blocks,
                hash_start_block: p.hash_start_block,
                algorithm: p.algorithm.name().to_string(),
                root_hash: c.root_hash.to_hex(),
                salt: encode_hex(&p.salt),
                options,
            }),
        }],
    });
    if let Some(description) = key {
        dm.push(Step::RemoveKey { description });
    }
    let mut devices: Vec<DevRef> = Vec::new();
    for s in &dm {
        if let Step::DmCreate { table, .. } = s {
            for d in table.iter().flat_map(TableLine::devices) {
                if matches!(d, DevRef::Num(_)) && !devices.contains(&d) {
                    devices.push(d);
                }
            }
        }
    }
    let wait = wait_limit(args);
    let mut steps = vec![
        Step::LoadModules {
            modules: vec![
                "dm-mod".into(),
                "dm-verity".into(),
                format!("crypto-{}", p.algorithm.name()),
                fstype.clone(),
            ],
        },
        Step::WaitForDevices { devices, wait },
    ];
    steps.extend(dm);
    if args.verify_full {
        steps.push(Step::ReadAll {
            source: DevRef::Name(names::VERITY_NAME.to_string()),
        });
    }
    steps.push(Step::Mount {
        source: DevRef::Name(names::VERITY_NAME.to_string()),
        target: NEW_ROOT.to_string(),
        fstype,
        read_only: true,
        data: args.flags.clone(),
    });
    steps.push(Step::WriteBootRecord {
        path: BOOT_RECORD.to_string(),
    });
    steps.push(Step::SwitchRoot {
        new_root: NEW_ROOT.to_string(),
    });
    steps.push(Step::Exec {
        init: args
            .init
            .clone()
            .unwrap_or_else(|| DEFAULT_INIT.to_string()),
        args: args.init_args.clone(),
    });
    Ok(Plan { steps })
}
