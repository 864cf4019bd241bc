//! The planner: a pure function from the boot arguments and what the disks hold to the
//! ordered steps of the boot. The boot carries the plan out; the dry run prints it.
//!
//! Several candidates: those that are the same verified image (same root hash, same
//! verity parameters: an A/B pair updated with one bundle) are sorted by name (VG, then
//! LV, then partition). The first is booted; each other one is a fallback, with a plan of
//! its own, that the boot tries in order when a copy fails in a way another copy can get
//! past (boot/attempt.rs). A copy whose hash tree's top block does not hash to the root
//! hash is never tried. Candidates that differ are an error listing every one: verinit
//! never picks silently.
//!
//! `search` finds the volumes the command line names, `verity_setup` makes each a
//! candidate (its hash tree and parameters; `signing` its root hash and signature),
//! `build` turns the chosen one into steps (`step`, named by `names`), and `error` says
//! why there is no plan. Damage passed over on the way (a GPT read from its backup, a
//! signature partition no one needs) is in `Outcome::warnings`.

mod build;
mod error;
pub mod fec_setup;
pub mod image;
pub mod names;
pub mod search;
mod signing;
pub mod step;
pub mod verity_setup;
pub mod volume;

pub use error::PlanError;

use std::time::Duration;

use crate::cmdline::{BootArgs, DeviceSpec};
use crate::disk::dps::Arch;
use crate::id::{encode_hex, RootHash};
use crate::plan::build::build;
use crate::plan::error::{cloned_pv, missing_pvs, no_match};
use crate::plan::search::{Rejected, Search};
use crate::plan::step::{Step, Wait};
use crate::plan::verity_setup::{Candidate, RootHashFrom};
use crate::scan::Scan;
use crate::verity::base64;
use crate::verity::pkcs7::parse_pkcs7;
use crate::verity::sig::RootSignature;

/// Where the root is mounted before the switch.
pub const NEW_ROOT: &str = "/sysroot";
/// The boot record, on the tmpfs that becomes the booted system's /run.
pub const BOOT_RECORD: &str = "/run/verinit/boot.json";
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

/// A copy to try when the ones before it failed: its candidate and its own plan.
#[derive(Clone, Debug)]
pub struct Fallback {
    pub candidate: usize,
    pub plan: Plan,
}

/// All the planner found: what it looked at, the candidates, and the plan or the error.
pub struct Outcome {
    pub root_hash: Option<RootHash>,
    pub candidates: Vec<Candidate>,
    /// The candidate `plan` boots.
    pub selected: Option<usize>,
    /// The other copies of the same image, in the order the boot tries them.
    pub fallbacks: Vec<Fallback>,
    pub rejected: Vec<Rejected>,
    /// Volumes that could not be read while searching.
    pub problems: Vec<String>,
    /// Damage the planner passed over because it does not weaken the check (a GPT in an
    /// LV read from its backup, a damaged signature partition no one needs).
    pub warnings: Vec<String>,
    /// Volumes that may still turn out to be copies of the root once their missing PVs
    /// appear: the boot waits for them as it would for the root itself, then boots what
    /// it has.
    pub pending: Vec<String>,
    pub plan: Result<Plan, PlanError>,
}

impl Outcome {
    /// The copies the boot tries, in order: (candidate, plan).
    pub fn attempts(&self) -> Vec<(usize, &Plan)> {
        let first = match (&self.plan, self.selected) {
            (Ok(plan), Some(i)) => Some((i, plan)),
            _ => None,
        };
        first
            .into_iter()
            .chain(self.fallbacks.iter().map(|f| (f.candidate, &f.plan)))
            .collect()
    }

    /// Whether candidate `i` is a copy of the booted image that is never tried: its hash
    /// tree does not match the root hash.
    pub fn never_tried(&self, i: usize) -> bool {
        self.selected.is_some()
            && self.selected != Some(i)
            && !self.fallbacks.iter().any(|f| f.candidate == i)
    }
}

/// Plans the boot.
pub fn plan(args: &BootArgs, scan: &Scan, opts: &PlanOptions) -> Outcome {
    let mut outcome = Outcome {
        root_hash: args.root_hash.clone(),
        candidates: Vec::new(),
        selected: None,
        fallbacks: Vec::new(),
        rejected: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
        pending: Vec::new(),
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
    outcome.warnings = std::mem::take(&mut search.warnings);
    outcome.pending = std::mem::take(&mut search.pending);
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
    let order = match choose(&outcome.candidates) {
        Ok(order) => order,
        Err(e) => {
            outcome.plan = Err(e);
            return outcome;
        }
    };
    let Some(&first) = order.first() else {
        let c = &outcome.candidates[0];
        outcome.plan = Err(PlanError::WrongRootHash {
            volume: c.data.label.clone(),
            why: c.root_check.clone().err().unwrap_or_default(),
            signature: match &c.root_hash_from {
                RootHashFrom::Signature(part) => Some(part.clone()),
                RootHashFrom::CommandLine(_) => None,
            },
        });
        return outcome;
    };
    outcome.selected = Some(first);
    outcome.root_hash = Some(outcome.candidates[first].root_hash.clone());
    outcome.plan = build(&outcome.candidates[first], args, scan);
    if outcome.plan.is_ok() {
        outcome.fallbacks = order[1..]
            .iter()
            .filter_map(|&i| {
                let plan = build(&outcome.candidates[i], args, scan).ok()?;
                Some(Fallback { candidate: i, plan })
            })
            .collect();
    }
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

/// The copies to boot, in order, when all candidates are the same image: those whose
/// hash tree's top block hashes to the root hash, by name. Empty when none does.
fn choose(candidates: &[Candidate]) -> Result<Vec<usize>, PlanError> {
    let Some(first) = candidates.first() else {
        return Err(PlanError::Unplannable("no candidates".into()));
    };
    let key = first.image_key();
    if candidates.iter().all(|c| c.image_key() == key) {
        return Ok((0..candidates.len())
            .filter(|&i| candidates[i].root_check.is_ok())
            .collect());
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

/// How long to wait for LVs that may be copies of the root (a PV of theirs is missing)
/// once a copy is there: `rootdelay=` seconds, else `DEFAULT_WAIT`. `rootwait` does not
/// make it endless: it waits for the root, which has appeared.
pub fn copies_wait_limit(args: &BootArgs) -> Duration {
    args.rootdelay.unwrap_or(DEFAULT_WAIT)
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
