//! What verinit found and decided, as one value: made once from the kernel command line,
//! the scan and the planner's outcome, then rendered. The renderings only format; what
//! is worth saying (which areas of a device to show, the PVs a VG found and lacks, each
//! LV's table, which candidate is booted) is decided here, once.
//!
//! Renderings:
//!   `text.rs`    the text `verinit --dry-run` prints, and the boot prints when it fails
//!   `json.rs`    the `--json` object (its shape is documented in README.md)
//!   `record.rs`  the boot record, `/run/verinit/boot.json`, for the booted system
//! The boot adds what happened (`Attempts`: which copies failed and why, which booted,
//! the dm devices made, the phase times) to the same value before rendering it.

mod copy;
mod fec;
mod json;
mod record;
mod text;

pub use copy::CopyIdentity;
use fec::{fec_json, fec_line};

pub use json::failure_json;
pub use record::{BootFacts, MadeDevice, RECORD_VERSION};

use crate::cmdline::BootArgs;
use crate::disk::devices::BlockDevice;
use crate::disk::dps::{self, Arch};
use crate::disk::gpt_table::{GptDisk, GptPartition};
use crate::dm_table::TableLine;
use crate::id::{LvmId, RootHash};
use crate::lvm::metadata::{LogicalVolume, PvEntry, VolumeGroup};
use crate::plan::search::Rejected;
use crate::plan::verity_setup::Candidate;
use crate::plan::{Outcome, Plan, PlanError};
use crate::scan::{LvError, Scan};
use crate::units::{Bytes, Sectors};

/// Everything a report says.
pub struct Report<'a> {
    /// The kernel command line, trimmed.
    pub cmdline: &'a str,
    /// The command line's words that set a boot argument: (argument, word).
    pub sources: &'a [(String, String)],
    pub devices: Vec<DeviceReport<'a>>,
    pub volume_groups: Vec<VolumeGroupReport<'a>>,
    /// What a person should know that did not stop the plan: the scan's warnings, the
    /// volumes the planner could not read, then the damage the planner passed over.
    pub warnings: Vec<&'a str>,
    /// The command line's root hash, or the booted candidate's.
    pub root_hash: Option<&'a RootHash>,
    pub candidates: Vec<CandidateReport<'a>>,
    pub rejected: &'a [Rejected],
    pub plan: &'a Result<Plan, PlanError>,
    /// Volumes the boot waits for before it boots what it has: they may be copies.
    pub pending: &'a [String],
    /// What the boot did, when it ran (None in the dry run).
    pub boot: Option<BootFacts>,
    /// `verinit --dry-run --verify`: the hash tree recomputed in user space, and what
    /// came of it. None when not asked for (the boot never asks).
    pub verify: Option<Result<String, String>>,
}

/// A device, and what the scan saw on it.
pub struct DeviceReport<'a> {
    pub device: &'a BlockDevice,
    pub gpt: Option<&'a GptDisk>,
    /// Its areas that are a GPT partition or hold a PV.
    pub areas: Vec<AreaReport<'a>>,
}

/// An area of a device worth naming.
pub struct AreaReport<'a> {
    pub name: &'a str,
    pub size: Bytes,
    /// The GPT entry it is, and the partition's Discoverable Partitions role for this
    /// machine's architecture, if its type has one.
    pub partition: Option<(&'a GptPartition, Option<&'static str>)>,
    /// The PV on it, and the name of the VG its own metadata describes (None: no
    /// metadata could be read).
    pub pv: Option<(LvmId, Option<&'a str>)>,
}

/// A volume group as assembled from the newest copy of its metadata.
pub struct VolumeGroupReport<'a> {
    pub vg: &'a VolumeGroup,
    /// The extent size.
    pub extent: Bytes,
    /// Each PV the VG lists, and the area it was found on (the first, if on several).
    pub pvs: Vec<(&'a PvEntry, Option<&'a str>)>,
    pub lvs: Vec<LvReport<'a>>,
    pub missing_pvs: Vec<LvmId>,
}

/// A logical volume.
pub struct LvReport<'a> {
    pub lv: &'a LogicalVolume,
    pub size: Bytes,
    /// Its dm table on the devices found, or why it cannot be mapped.
    pub table: Result<Vec<TableLine>, LvError>,
}

/// A candidate for the root, and its place in the boot's order.
pub struct CandidateReport<'a> {
    pub candidate: &'a Candidate,
    pub choice: Choice,
    /// Which installed copy it is (LV, partition, PVs).
    pub identity: CopyIdentity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The one booted first: the first by name whose hash tree matches.
    First,
    /// A copy of the same image, tried when the ones before it fail: its place in the
    /// order (1: right after the first).
    Fallback(usize),
    /// A copy of the same image whose hash tree does not match the root hash: never
    /// booted.
    Unusable,
    /// None was chosen (see the plan's error).
    Undecided,
}

impl<'a> Report<'a> {
    /// The report on `scan` and the planner's `outcome` for the command line `cmdline`
    /// (as read, untrimmed), which parsed into `args`.
    pub fn new(
        cmdline: &'a str,
        args: &'a BootArgs,
        scan: &'a Scan,
        outcome: &'a Outcome,
    ) -> Report<'a> {
        Report {
            devices: devices(scan),
            volume_groups: volume_groups(scan),
            ..Report::of_candidates(cmdline, args, scan, outcome)
        }
    }

    /// The report without the devices and volume groups (every LV's table): what the
    /// boot record renders, so that the boot maps no LV it does not boot.
    pub fn of_candidates(
        cmdline: &'a str,
        args: &'a BootArgs,
        scan: &'a Scan,
        outcome: &'a Outcome,
    ) -> Report<'a> {
        Report {
            cmdline: cmdline.trim(),
            sources: &args.sources,
            devices: Vec::new(),
            volume_groups: Vec::new(),
            warnings: warnings(scan, outcome).collect(),
            root_hash: outcome.root_hash.as_ref(),
            candidates: outcome
                .candidates
                .iter()
                .enumerate()
                .map(|(i, candidate)| CandidateReport {
                    candidate,
                    choice: choice(outcome, i),
                    identity: CopyIdentity::of(scan, candidate),
                })
                .collect(),
            rejected: &outcome.rejected,
            plan: &outcome.plan,
            pending: &outcome.pending,
            boot: None,
            verify: None,
        }
    }

    /// Whether the boot goes ahead: there is a plan, and a `--verify` did not fail.
    pub fn ok(&self) -> bool {
        self.plan.is_ok() && self.verify.as_ref().is_none_or(|v| v.is_ok())
    }

    /// The same report, with what the boot did.
    pub fn with_boot(mut self, facts: BootFacts) -> Self {
        self.boot = Some(facts);
        self
    }

    /// The candidates in the order the boot tries them (the first, then the fallbacks).
    pub fn order(&self) -> Vec<&CandidateReport<'a>> {
        let mut order: Vec<(usize, &CandidateReport<'a>)> = self
            .candidates
            .iter()
            .filter_map(|c| match c.choice {
                Choice::First => Some((0, c)),
                Choice::Fallback(n) => Some((n, c)),
                _ => None,
            })
            .collect();
        order.sort_by_key(|(n, _)| *n);
        order.into_iter().map(|(_, c)| c).collect()
    }
}

/// What a person should know that did not stop the plan: the scan's warnings, the
/// volumes the planner could not read, the planner's warnings, and FEC set aside.
pub fn warnings<'a>(scan: &'a Scan, outcome: &'a Outcome) -> impl Iterator<Item = &'a str> {
    scan.warnings
        .iter()
        .chain(&outcome.problems)
        .chain(&outcome.warnings)
        .chain(outcome.candidates.iter().filter_map(|c| match &c.fec {
            crate::plan::fec_setup::FecSetup::Ignored(w) => Some(w),
            _ => None,
        }))
        .map(String::as_str)
}

fn choice(outcome: &Outcome, i: usize) -> Choice {
    if outcome.selected == Some(i) {
        return Choice::First;
    }
    if let Some(n) = outcome.fallbacks.iter().position(|f| f.candidate == i) {
        return Choice::Fallback(n + 1);
    }
    if outcome.never_tried(i) {
        return Choice::Unusable;
    }
    Choice::Undecided
}

fn devices(scan: &Scan) -> Vec<DeviceReport<'_>> {
    let mut out = Vec::new();
    for (id, device) in scan.devices.iter().enumerate() {
        let gpt = scan
            .disks
            .iter()
            .find(|d| d.source == id)
            .and_then(|disk| disk.gpt.as_ref());
        let mut areas = Vec::new();
        for (a, area) in scan.areas.iter().enumerate() {
            let on_this = match &area.gpt {
                Some((d, _)) => scan.disks.get(*d).is_some_and(|disk| disk.source == id),
                None => area.source == id,
            };
            if !on_this {
                continue;
            }
            let partition = area.gpt.as_ref().map(|(_, p)| {
                let role = dps::role_of(&p.type_guid, Arch::native()).map(|r| r.name());
                (p, role)
            });
            let pv = scan.pvs.iter().find(|p| p.area == a).map(|pv| {
                let vg = pv
                    .copy
                    .and_then(|c| scan.vg_copies.get(c))
                    .map(|v| v.name.as_str());
                (pv.label.pv_uuid, vg)
            });
            if partition.is_some() || pv.is_some() {
                areas.push(AreaReport {
                    name: &area.name,
                    size: scan.area_size(area),
                    partition,
                    pv,
                });
            }
        }
        out.push(DeviceReport { device, gpt, areas });
    }
    out
}

fn volume_groups(scan: &Scan) -> Vec<VolumeGroupReport<'_>> {
    scan.vgs
        .iter()
        .map(|vg| {
            let v = &vg.vg;
            VolumeGroupReport {
                vg: v,
                extent: v.extent_size.to_bytes().unwrap_or_default(),
                pvs: v
                    .pvs
                    .iter()
                    .zip(&vg.pv_found)
                    .map(|(entry, found)| {
                        let area = found
                            .first()
                            .map(|&p| scan.areas[scan.pvs[p].area].name.as_str());
                        (entry, area)
                    })
                    .collect(),
                lvs: v
                    .lvs
                    .iter()
                    .map(|lv| LvReport {
                        lv,
                        size: Sectors(v.extent_size.0.saturating_mul(lv.extent_count()))
                            .to_bytes()
                            .unwrap_or_default(),
                        table: scan
                            .lv_layout(vg, lv)
                            .map(|layout| layout.table(&|id| scan.dev_ref(id))),
                    })
                    .collect(),
                missing_pvs: vg.missing_pvs(),
            }
        })
        .collect()
}
