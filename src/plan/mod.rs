//! The planner: a pure function from the boot arguments and what the disks hold to the
//! ordered steps of the boot. The boot carries the plan out; the dry run prints it.
//!
//! Several candidates: those that are the same verified image (same root hash, same
//! verity parameters: an A/B pair updated with one bundle) are sorted by name (VG, then
//! LV, then partition) and the first is booted; the others are listed. Candidates that
//! differ are an error listing every one: verinit never picks silently.

pub mod names;
pub mod search;
pub mod step;
pub mod verity_setup;
pub mod volume;

use std::fmt;
use std::time::Duration;

use crate::cmdline::{BootArgs, CorruptionMode, DeviceSpec};
use crate::disk::dps::Arch;
use crate::dm_table::{DevRef, TableLine, Target, VerityTarget};
use crate::id::{encode_hex, RootHash};
use crate::plan::search::{Rejected, Search};
use crate::plan::step::{Step, Wait};
use crate::plan::verity_setup::{Candidate, RootHashFrom};
use crate::plan::volume::Device;
use crate::scan::Scan;
use crate::units::Sectors;
use crate::verity::base64;
use crate::verity::pkcs7::parse_pkcs7;
use crate::verity::sig::RootSignature;

/// Where the root is mounted before the switch.
pub const NEW_ROOT: &str = "/sysroot";
/// The init run when the command line gives no `init=`.
pub const DEFAULT_INIT: &str = "/sbin/init";
/// How long to wait for devices with neither `rootdelay=` nor `rootwait`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub arch: Arch,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            arch: Arch::native(),
        }
    }
}

/// The ordered steps of a boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// Why there is no plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// The command line asks for something verinit will not do.
    Arguments(Vec<String>),
    /// Nothing matched; devices may still appear.
    NoMatch { wanted: String, hint: String },
    /// Volumes matched, and none of them can be booted.
    NoneBootable {
        wanted: String,
        reasons: Vec<String>,
    },
    /// A volume group lacks PVs; they may still appear.
    MissingPvs { vg: String, pvs: Vec<String> },
    /// Two devices carry one PV UUID.
    ClonedPv { pv: String, devices: Vec<String> },
    /// Several candidates that are not the same image.
    Ambiguous { candidates: Vec<String> },
    /// The hash tree found does not hash to the root hash (from the command line, or
    /// from the signature partition `signature`).
    WrongRootHash {
        volume: String,
        why: String,
        signature: Option<String>,
    },
    /// The chosen candidate cannot be turned into steps.
    Unplannable(String),
}

impl PlanError {
    /// Whether waiting for more devices could change the answer.
    pub fn may_resolve_later(&self) -> bool {
        matches!(
            self,
            PlanError::NoMatch { .. } | PlanError::MissingPvs { .. }
        )
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Arguments(list) => {
                write!(f, "the kernel command line cannot be booted:")?;
                for p in list {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
            PlanError::NoMatch { wanted, hint } => {
                write!(f, "no volume matches {wanted}; {hint}")
            }
            PlanError::NoneBootable { wanted, reasons } => {
                write!(f, "found no bootable root for {wanted}:")?;
                for r in reasons {
                    write!(f, "\n  - {r}")?;
                }
                Ok(())
            }
            PlanError::MissingPvs { vg, pvs } => write!(
                f,
                "volume group {vg} is missing PV {}; check that every disk of the VG is attached",
                pvs.join(", ")
            ),
            PlanError::ClonedPv { pv, devices } => write!(
                f,
                "PV {pv} is on several devices: {}; a cloned disk? give the copy new UUIDs \
                 (vgimportclone) or detach it",
                devices.join(", ")
            ),
            PlanError::Ambiguous { candidates } => {
                write!(
                    f,
                    "several volumes match and they are not the same image; refusing to pick one:"
                )?;
                for c in candidates {
                    write!(f, "\n  - {c}")?;
                }
                write!(
                    f,
                    "\nname the one to boot on the kernel command line (root=)"
                )
            }
            PlanError::WrongRootHash {
                volume,
                why,
                signature: None,
            } => write!(
                f,
                "refusing to mount {volume}: {why}; check that roothash= belongs to the image \
                 installed there (was the volume updated without the boot entry?)"
            ),
            PlanError::WrongRootHash {
                volume,
                why,
                signature: Some(part),
            } => write!(
                f,
                "refusing to mount {volume}: {why}; the rootHash in {part} does not belong to \
                 the image beside it (a signature from another build?): reinstall the image \
                 with its own signature"
            ),
            PlanError::Unplannable(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for PlanError {}

/// All the planner found: what it looked at, the candidates, and the plan or the error.
pub struct Outcome {
    pub root_hash: Option<RootHash>,
    pub candidates: Vec<Candidate>,
    pub selected: Option<usize>,
    pub rejected: Vec<Rejected>,
    /// Volumes that could not be read while searching.
    pub problems: Vec<String>,
    pub plan: Result<Plan, PlanError>,
}

/// Plans the boot.
pub fn plan(args: &BootArgs, scan: &Scan, opts: &PlanOptions) -> Outcome {
    let mut outcome = Outcome {
        root_hash: args.root_hash.clone(),
        candidates: Vec::new(),
        selected: None,
        rejected: Vec::new(),
        problems: Vec::new(),
        plan: Err(PlanError::Unplannable(String::new())),
    };
    let mut problems = argument_problems(args);
    let cmdline_sig = cmdline_signature(args).unwrap_or_else(|p| {
        problems.push(p);
        None
    });
    let mut search = Search::new(scan, args, opts.arch);
    let matches = search.find_data();
    for m in &matches {
        match verity_setup::candidate(&mut search, m, cmdline_sig.as_ref()) {
            Ok(c) => outcome.candidates.push(c),
            Err(reason) => search.rejected.push(Rejected {
                label: m.data.label.clone(),
                reason,
            }),
        }
    }
    outcome.rejected = std::mem::take(&mut search.rejected);
    outcome.problems = std::mem::take(&mut search.problems);
    outcome
        .candidates
        .sort_by(|a, b| a.data.label.cmp(&b.data.label));
    if !problems.is_empty() {
        outcome.plan = Err(PlanError::Arguments(problems));
        return outcome;
    }
    if let Some(err) = cloned_pv(scan) {
        outcome.plan = Err(err);
        return outcome;
    }
    if outcome.candidates.is_empty() {
        outcome.plan = Err(missing_pvs(scan)
            .unwrap_or_else(|| no_match(args, scan, &outcome.rejected, &outcome.problems)));
        return outcome;
    }
    let chosen = choose(&outcome.candidates).and_then(|i| {
        let c = &outcome.candidates[i];
        if let Err(why) = &c.root_check {
            return Err(PlanError::WrongRootHash {
                volume: c.data.label.clone(),
                why: why.clone(),
                signature: match &c.root_hash_from {
                    RootHashFrom::Signature(part) => Some(part.clone()),
                    RootHashFrom::CommandLine(_) => None,
                },
            });
        }
        Ok(i)
    });
    outcome.plan = chosen.and_then(|i| {
        outcome.selected = Some(i);
        outcome.root_hash = Some(outcome.candidates[i].root_hash.clone());
        build(&outcome.candidates[i], args, scan)
    });
    outcome
}

fn argument_problems(args: &BootArgs) -> Vec<String> {
    let mut p = Vec::new();
    if args.read_write {
        p.push("'rw': a dm-verity root is read-only; remove rw (or say ro)".to_string());
    }
    if args.verity == Some(false) {
        p.push("'systemd.verity=0': verinit boots only verified roots".to_string());
    }
    let names_volume = args.verity_data.is_some()
        || !args.lvm_lv.is_empty()
        || args
            .root
            .as_ref()
            .is_some_and(|r| r.spec != DeviceSpec::VerityRoot);
    if args.root_hash.is_none() && !names_volume {
        p.push(
            "no root hash and no volume: give roothash=<hex> or rd.ddi.roothash=<hex> (the \
             boot loader's signed entry should carry it), or name a signed disk image with \
             root= (its root-verity-sig partition then gives the root hash)"
                .to_string(),
        );
    }
    let o = &args.verity_options;
    if o.fec_device.is_some() || o.fec_offset.is_some() || o.fec_roots.is_some() {
        p.push("fec-device=/fec-offset=/fec-roots=: forward error correction is not supported yet; remove them".into());
    }
    p
}

/// `root-hash-signature=base64:<DER PKCS#7>` of `systemd.verity_root_options=`: a
/// signature of the command line's root hash.
fn cmdline_signature(args: &BootArgs) -> Result<Option<RootSignature>, String> {
    let Some(text) = &args.verity_options.root_hash_signature else {
        return Ok(None);
    };
    let Some(b64) = text.strip_prefix("base64:") else {
        return Err(format!(
            "root-hash-signature={text}: verinit reads no signature files; give \
             root-hash-signature=base64:<DER PKCS#7>, or keep the signature in the image's \
             root-verity-sig partition"
        ));
    };
    let Some(root_hash) = args.root_hash.clone() else {
        return Err(
            "root-hash-signature= signs a root hash, and there is no roothash= to go with it"
                .into(),
        );
    };
    let signature = base64::decode(b64).map_err(|e| format!("root-hash-signature=: {e}"))?;
    let pkcs7 = parse_pkcs7(&signature).map_err(|e| format!("root-hash-signature=: {e}"))?;
    Ok(Some(RootSignature {
        root_hash,
        signature,
        pkcs7,
        certificate_fingerprint: None,
    }))
}

fn cloned_pv(scan: &Scan) -> Option<PlanError> {
    for vg in &scan.vgs {
        for (entry, found) in vg.vg.pvs.iter().zip(&vg.pv_found) {
            if found.len() > 1 {
                return Some(PlanError::ClonedPv {
                    pv: entry.id.to_string(),
                    devices: found
                        .iter()
                        .map(|&p| scan.areas[scan.pvs[p].area].name.clone())
                        .collect(),
                });
            }
        }
    }
    None
}

fn missing_pvs(scan: &Scan) -> Option<PlanError> {
    scan.vgs.iter().find_map(|vg| {
        let missing = vg.missing_pvs();
        (!missing.is_empty()).then(|| PlanError::MissingPvs {
            vg: vg.vg.name.clone(),
            pvs: missing.iter().map(ToString::to_string).collect(),
        })
    })
}

/// Problems shown with an error at most, the rest counted.
const MAX_PROBLEMS_SHOWN: usize = 5;

fn no_match(args: &BootArgs, scan: &Scan, rejected: &[Rejected], problems: &[String]) -> PlanError {
    let check = if args.root.is_some() || !args.lvm_lv.is_empty() || args.verity_data.is_some() {
        "check root= on the kernel command line"
    } else {
        "check roothash= on the kernel command line (a DDI's partition UUIDs come from it)"
    };
    let wanted = if let Some(d) = &args.verity_data {
        format!("systemd.verity_root_data={d}")
    } else if let Some(r) = args
        .root
        .as_ref()
        .filter(|r| r.spec != DeviceSpec::VerityRoot)
    {
        format!("root={}", r.text)
    } else if !args.lvm_lv.is_empty() {
        let names: Vec<_> = args
            .lvm_lv
            .iter()
            .map(|v| format!("rd.lvm.lv={v}"))
            .collect();
        names.join(" ")
    } else {
        match args
            .root_hash
            .as_ref()
            .and_then(RootHash::data_partition_uuid)
        {
            Some(u) => format!("the root hash (a partition with UUID {u})"),
            None => "the root hash".to_string(),
        }
    };
    let mut lvs: Vec<String> = Vec::new();
    for vg in &scan.vgs {
        for lv in vg.vg.lvs.iter().filter(|l| l.visible) {
            lvs.push(format!("{}/{} ({})", vg.vg.name, lv.name, lv.id));
        }
    }
    if !rejected.is_empty() {
        return PlanError::NoneBootable {
            wanted,
            reasons: rejected
                .iter()
                .map(|r| format!("{}: {}", r.label, r.reason))
                .collect(),
        };
    }
    let mut hint = if lvs.is_empty() {
        format!(
            "looked at {} devices and found no logical volumes; {check}, and that the disk is attached",
            scan.devices.len()
        )
    } else {
        let shown = lvs.len().min(20);
        format!(
            "found {}{}: {check}",
            lvs[..shown].join(", "),
            if lvs.len() > shown { ", ..." } else { "" }
        )
    };
    let unread: Vec<&String> = scan.warnings.iter().chain(problems).collect();
    if !unread.is_empty() {
        let shown: Vec<&str> = unread
            .iter()
            .take(MAX_PROBLEMS_SHOWN)
            .map(|s| s.as_str())
            .collect();
        hint.push_str(&format!(
            "; and some of what was read is damaged: {}",
            shown.join("; ")
        ));
        if unread.len() > shown.len() {
            hint.push_str(&format!(" (and {} more)", unread.len() - shown.len()));
        }
    }
    PlanError::NoMatch { wanted, hint }
}

/// The candidate to boot: the first by name when all are the same image.
fn choose(candidates: &[Candidate]) -> Result<usize, PlanError> {
    let Some(first) = candidates.first() else {
        return Err(PlanError::Unplannable("no candidates".into()));
    };
    let key = first.image_key();
    if candidates.iter().all(|c| c.image_key() == key) {
        return Ok(0);
    }
    Err(PlanError::Ambiguous {
        candidates: candidates
            .iter()
            .map(|c| {
                let salt = encode_hex(&c.params.salt);
                format!(
                    "{} ({}; {} data blocks of {}, {}, salt {}, {}{})",
                    c.data.label,
                    c.found_by,
                    c.params.data_blocks,
                    c.params.data_block_size,
                    c.params.algorithm,
                    if salt.is_empty() { "-" } else { &salt },
                    match &c.root_check {
                        Ok(()) => "the tree's top block matches the root hash".to_string(),
                        Err(e) => format!("does NOT match the root hash: {e}"),
                    },
                    c.signature.as_ref().map_or(String::new(), |(_, s)| format!(
                        ", signed root hash {}",
                        s.root_hash
                    ))
                )
            })
            .collect(),
    })
}

fn verity_words(args: &BootArgs) -> Vec<String> {
    let o = &args.verity_options;
    let mut words = Vec::new();
    match o.corruption {
        Some(CorruptionMode::Ignore) => words.push("ignore_corruption"),
        Some(CorruptionMode::Restart) => words.push("restart_on_corruption"),
        Some(CorruptionMode::Panic) => words.push("panic_on_corruption"),
        None => {}
    }
    if o.ignore_zero_blocks {
        words.push("ignore_zero_blocks");
    }
    if o.check_at_most_once {
        words.push("check_at_most_once");
    }
    words.into_iter().map(String::from).collect()
}

/// How long the command line says to wait for the root's devices: `rootdelay=` seconds,
/// no limit with `rootwait`, `DEFAULT_WAIT` otherwise.
pub fn wait_limit(args: &BootArgs) -> Wait {
    match (args.rootdelay, args.rootwait) {
        (Some(d), _) => Wait::For(d),
        (None, true) => Wait::Forever,
        (None, false) => Wait::For(DEFAULT_WAIT),
    }
}

fn build(c: &Candidate, args: &BootArgs, scan: &Scan) -> Result<Plan, PlanError> {
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
    for vol in [&c.data, &c.hash] {
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
                if matches!(d, DevRef::Num(_)) && !devices.contains(d) {
                    devices.push(d.clone());
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
    steps.push(Step::Mount {
        source: DevRef::Name(names::VERITY_NAME.to_string()),
        target: NEW_ROOT.to_string(),
        fstype,
        read_only: true,
        data: args.flags.clone(),
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
