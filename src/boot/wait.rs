//! Waiting for the root's devices: scan, plan, and while the answer may still change
//! (nothing matches yet, a VG lacks a PV, or a copy of the root may sit on an LV whose
//! PV is missing), scan again when the set of block devices changes, until the plan
//! succeeds with every copy there, fails for good, or time runs out; then a plan that
//! has copies boots them. Once a copy is there, the wait for possible others is
//! `rootdelay=` or 30 s, even with `rootwait`: the root itself has appeared. Devices that
//! appear late (a slow controller, a disk hot-added) are found this way. Every few
//! seconds it says what it is still waiting for.

use std::path::Path;
use std::time::{Duration, Instant};

use super::log::{ms, Log};
use crate::cmdline::BootArgs;
use crate::disk::devices::{self, BlockDevice};
use crate::plan::step::Wait;
use crate::plan::{self, copies_wait_limit, wait_limit, Outcome, PlanOptions};
use crate::scan::Scan;

/// How often sysfs is looked at.
const POLL: Duration = Duration::from_millis(50);
/// How often the log says what is still missing.
const REMIND: Duration = Duration::from_secs(3);

/// What the disks held at the last look, and the planner's answer.
pub struct Found {
    pub scan: Scan,
    pub outcome: Outcome,
    /// Waited until the limit and the answer is still "not yet".
    pub timed_out: bool,
}

fn fingerprint(devices: &[BlockDevice]) -> Vec<(String, u64)> {
    devices.iter().map(|d| (d.name.clone(), d.size.0)).collect()
}

pub fn wait_for_root(args: &BootArgs, log: &mut Log) -> Found {
    let limit = wait_limit(args);
    let start = Instant::now();
    let mut last_remind = start;
    let mut last: Option<Vec<(String, u64)>> = None;
    let mut found: Option<Found> = None;
    loop {
        let listed = devices::from_sysfs(Path::new("/sys/class/block"), Path::new("/dev"))
            .unwrap_or_default();
        let print = fingerprint(&listed);
        if last.as_ref() != Some(&print) {
            let t = Instant::now();
            let scan = Scan::read(listed);
            let outcome = plan::plan(args, &scan, &PlanOptions::default());
            let names: Vec<&str> = print.iter().map(|(n, _)| n.as_str()).collect();
            log.info(&format!(
                "scanned {} block devices ({}) and planned in {}",
                names.len(),
                names.join(" "),
                ms(t.elapsed())
            ));
            let waiting = match &outcome.plan {
                Err(e) => e.may_resolve_later(),
                Ok(_) => !outcome.pending.is_empty(),
            };
            found = Some(Found {
                scan,
                outcome,
                timed_out: false,
            });
            if !waiting {
                break;
            }
            last = Some(print);
        }
        let waited = start.elapsed();
        // With the root there, waiting on only for possible copies: never without limit.
        let limit = match found.as_ref().map(|f| f.outcome.plan.is_ok()) {
            Some(true) => Wait::For(copies_wait_limit(args)),
            _ => limit,
        };
        if let Wait::For(max) = limit {
            if waited >= max {
                if let Some(f) = found.as_mut() {
                    f.timed_out = true;
                }
                break;
            }
        }
        if last_remind.elapsed() >= REMIND {
            last_remind = Instant::now();
            let left = match limit {
                Wait::Forever => "rootwait: no time limit".to_string(),
                Wait::For(max) => format!("{} s left", max.saturating_sub(waited).as_secs()),
            };
            match found
                .as_ref()
                .map(|f| (&f.outcome.plan, &f.outcome.pending))
            {
                Some((Err(e), _)) => log.notice(&format!("still waiting ({left}): {e}")),
                Some((Ok(_), pending)) if !pending.is_empty() => log.notice(&format!(
                    "still waiting ({left}) for {}, which may be copies of the root: a PV \
                     of theirs is missing",
                    pending.join(", ")
                )),
                _ => {}
            }
        }
        std::thread::sleep(POLL);
    }
    found.unwrap_or_else(|| Found {
        scan: Scan::default(),
        outcome: plan::plan(args, &Scan::default(), &PlanOptions::default()),
        timed_out: true,
    })
}
