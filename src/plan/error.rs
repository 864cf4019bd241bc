//! Why there is no plan: one variant per reason, each saying what to check or change, and
//! the errors made from what the scan holds (a cloned PV, missing PVs, nothing that
//! matches: with what was found instead, and what was read damaged).

use std::fmt;

use crate::cmdline::{BootArgs, DeviceSpec};
use crate::id::RootHash;
use crate::plan::search::Rejected;
use crate::scan::Scan;

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

pub(super) fn cloned_pv(scan: &Scan) -> Option<PlanError> {
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

pub(super) fn missing_pvs(scan: &Scan) -> Option<PlanError> {
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

pub(super) fn no_match(
    args: &BootArgs,
    scan: &Scan,
    rejected: &[Rejected],
    problems: &[String],
) -> PlanError {
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
