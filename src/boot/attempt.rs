//! Booting the copies in order: the planner's first copy, then each fallback (another
//! installed copy of the same verified image), for as long as a copy fails in a way
//! another copy may get past (`system::another_copy_may_help`). Before the next copy,
//! what the failed one made is taken back (its keys, its dm devices in reverse order),
//! and one line says which copy failed and why. The copy that gets to the boot record
//! writes it, naming itself as booted and every copy before it as failed.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use super::io_counts::IoCounts;
use super::log::{ms, Log};
use super::system::{self, System};
use crate::cmdline::BootArgs;
use crate::plan::step::Step;
use crate::plan::Outcome;
use crate::report::{BootFacts, Report};
use crate::scan::Scan;

/// What the boot found: the command line, the disks and the planner's answer.
pub struct Boot<'a> {
    pub cmdline: &'a str,
    pub args: &'a BootArgs,
    pub scan: &'a Scan,
    pub outcome: &'a Outcome,
}

/// How the copies ended, when none got to exec init.
pub struct Ended {
    pub facts: BootFacts,
    /// The last failure, for the report.
    pub error: String,
}

/// Tries each copy in order; returns only when none could be booted.
pub fn boot_copies(
    boot: &Boot<'_>,
    sys: &mut dyn System,
    log: &mut Log,
    phases: Vec<(String, Duration)>,
    warnings: Vec<String>,
) -> Ended {
    let attempts = boot.outcome.attempts();
    let mut facts = BootFacts {
        phases,
        warnings,
        ..BootFacts::default()
    };
    let mut error = "no copy to boot".to_string();
    for (n, &(candidate, plan)) in attempts.iter().enumerate() {
        let Some(c) = boot.outcome.candidates.get(candidate) else {
            break;
        };
        let label = c.data.label.as_str();
        if n == 0 {
            log.notice(&format!("root: {label} ({})", c.found_by));
        } else {
            log.notice(&format!(
                "trying copy {} of {}: {label}",
                n + 1,
                attempts.len()
            ));
        }
        let started = Instant::now();
        // The record step's warnings, logged by the next step's progress call.
        let new_warnings: RefCell<Vec<String>> = RefCell::new(Vec::new());
        let mut step_start = Instant::now();
        let mut step_counts = IoCounts::now();
        let mut previous: Option<String> = None;
        let steps_done: RefCell<Vec<(String, Duration)>> = RefCell::new(Vec::new());
        let attempt = system::execute(
            plan,
            sys,
            &mut |i, step| {
                // One snapshot ends the step before and starts this one.
                let counts = IoCounts::now();
                if let Some(p) = previous.take() {
                    log.info(&format!(
                        "  done in {}: {p} ({})",
                        ms(step_start.elapsed()),
                        counts.since(&step_counts)
                    ));
                    steps_done.borrow_mut().push((p, step_start.elapsed()));
                }
                for w in new_warnings.borrow_mut().drain(..) {
                    log.warn(&w);
                }
                step_start = Instant::now();
                step_counts = counts;
                log.info(&format!("step {}: {step}", i + 1));
                previous = Some(step.kind().to_string());
                if matches!(step, Step::Exec { .. }) {
                    log.notice("handing over to init");
                    log.restore();
                }
            },
            &mut |made, warnings| {
                new_warnings.borrow_mut().extend(warnings.iter().cloned());
                let mut facts = facts.clone();
                facts.booted = Some(candidate);
                facts.dm_devices = made.to_vec();
                facts.phases.extend(steps_done.borrow().iter().cloned());
                facts.warnings.extend(warnings.iter().cloned());
                let report =
                    Report::of_candidates(boot.cmdline, boot.args, boot.scan, boot.outcome)
                        .with_boot(facts);
                let mut bytes = report
                    .record()
                    .map(|v| serde_json::to_vec(&v).unwrap_or_default())
                    .unwrap_or_default();
                bytes.push(b'\n');
                bytes
            },
        );
        // Only a failure comes back.
        let why = attempt.error.to_string();
        facts.failed.push((candidate, why.clone()));
        facts
            .phases
            .push((format!("copy {label} (failed)"), started.elapsed()));
        error = why.clone();
        let Some(&(next, _)) = attempts.get(n + 1) else {
            break;
        };
        if !attempt.error.copy_specific {
            log.notice(&format!(
                "copy {label} failed in a way every copy would: not trying the others"
            ));
            break;
        }
        let undone = system::undo(sys, &attempt);
        let removed: Vec<&str> = attempt.made.iter().rev().map(|d| d.name.as_str()).collect();
        let next_label = boot
            .outcome
            .candidates
            .get(next)
            .map_or("?", |c| c.data.label.as_str());
        log.warn(&format!(
            "copy {label} failed: {}; removed {}; trying {next_label}",
            why.replace('\n', " "),
            if removed.is_empty() {
                "nothing (it made no dm devices)".to_string()
            } else {
                format!("its dm devices {}", removed.join(" "))
            }
        ));
        for p in undone {
            log.warn(&p);
        }
    }
    Ended { facts, error }
}
