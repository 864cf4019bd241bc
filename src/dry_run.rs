//! `verinit --dry-run`: the boot's own parsing and planning, on a workstation, stopping
//! before anything is done. Prints the report (`crate::report`: what was looked at, each
//! candidate and the plan) as text or JSON, and with `--verify` recomputes the hash tree
//! in user space.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use crate::cmdline;
use crate::disk::devices;
use crate::plan::{self, Outcome, PlanOptions};
use crate::report::{failure_json, Report};
use crate::scan::Scan;
use crate::units::Bytes;
use crate::verity::fec::check::{verify_with_fec, BadBlock};
use crate::verity::fec::decode::FecSources;
use crate::verity::tree;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRunOptions {
    pub cmdline: Option<String>,
    pub json: bool,
    pub verify: bool,
    pub sysfs: PathBuf,
    pub paths: Vec<PathBuf>,
}

impl Default for DryRunOptions {
    fn default() -> Self {
        DryRunOptions {
            cmdline: None,
            json: false,
            verify: false,
            sysfs: PathBuf::from("/sys/class/block"),
            paths: Vec::new(),
        }
    }
}

/// Runs the dry run; returns the exit status.
pub fn run(opts: &DryRunOptions) -> i32 {
    let text = match &opts.cmdline {
        Some(t) => t.clone(),
        None => match std::fs::read_to_string("/proc/cmdline") {
            Ok(t) => t,
            Err(e) => {
                return fail(
                    opts,
                    &format!("cannot read /proc/cmdline: {e}; give --cmdline"),
                )
            }
        },
    };
    let args = match cmdline::parse(&text) {
        Ok(a) => a,
        Err(errors) => {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return fail(opts, &list.join("\n"));
        }
    };
    let found = if opts.paths.is_empty() {
        devices::from_sysfs(&opts.sysfs, std::path::Path::new("/dev"))
    } else {
        devices::from_paths(&opts.paths)
    };
    let found = match found {
        Ok(d) => d,
        Err(e) => return fail(opts, &e.to_string()),
    };
    let scan = Scan::read(found);
    let outcome = plan::plan(&args, &scan, &PlanOptions::default());
    let verify = if opts.verify && outcome.plan.is_ok() {
        Some(verify(&scan, &outcome, !opts.json))
    } else {
        None
    };
    let mut report = Report::new(&text, &args, &scan, &outcome);
    report.verify = verify;
    let ok = report.ok();
    if opts.json {
        let mut out = Vec::with_capacity(64 * 1024);
        report.write_json(&mut out);
        print_line(out);
    } else {
        print!("{}", report.text());
        let signed = outcome.plan.as_ref().is_ok_and(|p| {
            p.steps
                .iter()
                .any(|s| matches!(s, crate::plan::step::Step::AddKey { .. }))
        });
        if ok && signed {
            println!(
                "result: the boot would succeed if the kernel trusts the key that signed the \
                 root hash (only the kernel can check that)"
            );
        } else if ok {
            println!("result: the boot would succeed");
        } else {
            println!("result: the boot would FAIL");
        }
    }
    // The process ends right after this: freeing what the scan built would only cost
    // time (thousands of small frees for a big VG).
    std::mem::forget(report);
    std::mem::forget(scan);
    std::mem::forget(outcome);
    if ok {
        0
    } else {
        1
    }
}

fn fail(opts: &DryRunOptions, msg: &str) -> i32 {
    if opts.json {
        print_json(&failure_json(msg));
    } else {
        println!("verinit: {msg}\nresult: the boot would FAIL");
    }
    1
}

/// One line of compact JSON: `--json` is for programs (jq makes it pretty).
fn print_json(j: &Value) {
    let mut out = Vec::new();
    let _ = serde_json::to_writer(&mut out, j);
    print_line(out);
}

/// Writes the bytes and a newline to stdout in one write.
fn print_line(mut line: Vec<u8>) {
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&line);
    let _ = out.flush();
}

fn verify(scan: &Scan, outcome: &Outcome, progress: bool) -> Result<String, String> {
    let c = outcome
        .selected
        .and_then(|i| outcome.candidates.get(i))
        .ok_or("no candidate to verify")?;
    let data = c.data.reader(scan);
    let hash = c.hash.reader(scan);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let tty = progress && std::io::stderr().is_terminal();
    let label = c.data.label.clone();
    let show = move |done: u64, total: u64| {
        if tty && total > 0 {
            let pct = done.saturating_mul(100) / total;
            let mut err = std::io::stderr();
            let _ = write!(err, "\rverifying {label}: {pct:3}% of {}", Bytes(total));
            let _ = err.flush();
        }
    };
    let start = Instant::now();
    let result = tree::verify(
        data.as_ref(),
        hash.as_ref(),
        &c.params,
        &c.root_hash,
        threads,
        &show,
    );
    if tty {
        eprintln!();
    }
    let secs = start.elapsed().as_secs_f64();
    match (result, c.fec.fec()) {
        (Ok(_), _) => Ok(format!(
            "{} data blocks of {} recomputed on {threads} threads in {secs:.2} s: the hash tree matches root hash {}",
            c.params.data_blocks, c.data.label, c.root_hash
        )),
        (Err(e @ tree::VerifyError::Params(_)), _) | (Err(e), None) => {
            Err(format!("verify failed: {e}"))
        }
        (Err(e), Some(fec)) => verify_fec(scan, c, fec, &e),
    }
}

/// After a mismatch: every bad block, decoded with FEC as the kernel would.
fn verify_fec(
    scan: &Scan,
    c: &crate::plan::verity_setup::Candidate,
    fec: &crate::plan::fec_setup::Fec,
    first: &tree::VerifyError,
) -> Result<String, String> {
    let (data, hash, parity) = (
        c.data.reader(scan),
        c.hash.reader(scan),
        fec.volume.reader(scan),
    );
    let src = FecSources {
        data: data.as_ref(),
        hash: hash.as_ref(),
        fec: parity.as_ref(),
    };
    let start = Instant::now();
    let report = verify_with_fec(&c.params, &fec.layout, &src, &c.root_hash)
        .map_err(|e| format!("verify failed: {first}; FEC could not be read: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let mut lines = Vec::new();
    for b in &report.bad {
        let what = match b.block {
            BadBlock::Data(i) => format!("data block {i}"),
            BadBlock::Hash { level, index } => format!("hash block {index} of level {level}"),
        };
        lines.push(match (&b.repaired, &b.why) {
            (Some(n), _) => format!(
                "  {what} on {} at offset {}: repaired by FEC ({n} bytes)",
                b.device, b.offset
            ),
            (None, why) => format!(
                "  {what} on {} at offset {}: beyond repair: {}",
                b.device,
                b.offset,
                why.as_deref().unwrap_or("")
            ),
        });
    }
    let mib = report.bytes_decoded as f64 / (1024.0 * 1024.0);
    let dsecs = report.decode_time.as_secs_f64();
    let speed = if dsecs > 0.0 { mib / dsecs } else { 0.0 };
    let summary = format!(
        "FEC decoded {} rounds ({mib:.1} MiB) in {dsecs:.2} s ({speed:.0} MiB/s), {} symbol \
         errors located{}; the walk of the whole tree took {secs:.2} s",
        report.rounds_decoded,
        report.symbols,
        if report.with_erasures > 0 {
            format!(
                ", {} blocks repaired only with the round's bad data blocks as erasures (as \
                 the kernel retries; veritysetup verify does not)",
                report.with_erasures
            )
        } else {
            String::new()
        }
    );
    if report.bad.is_empty() {
        return Err(format!(
            "verify failed: {first}; yet every block matches once walked with FEC: report \
             this as a bug"
        ));
    }
    if report.all_repaired() {
        Ok(format!(
            "{} blocks of {} do not match the hash tree, and all are repairable: the kernel \
             will correct {} blocks with FEC\n{}\n  {summary}",
            report.bad.len(),
            c.data.label,
            report.repaired(),
            lines.join("\n")
        ))
    } else {
        Err(format!(
            "verify failed: {} blocks of {} do not match the hash tree, {} beyond FEC's \
             repair:\n{}\n  {summary}",
            report.bad.len(),
            c.data.label,
            report.bad.len() - report.repaired(),
            lines.join("\n")
        ))
    }
}
