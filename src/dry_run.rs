//! `verinit --dry-run`: the boot's own parsing and planning, on a workstation, stopping
//! before anything is done. Prints what was looked at, each candidate and the plan, as
//! text or JSON, and with `--verify` recomputes the hash tree in user space.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};

use crate::cmdline::{self, BootArgs};
use crate::disk::devices;
use crate::disk::dps;
use crate::plan::verity_setup::{Candidate, RootHashFrom};
use crate::plan::{self, Outcome, PlanOptions};
use crate::scan::Scan;
use crate::units::Bytes;
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
    let ok = outcome.plan.is_ok() && verify.as_ref().is_none_or(|v| v.is_ok());
    if opts.json {
        let mut j = to_json(&text, &scan, &outcome);
        if let Some(v) = &verify {
            j["verify"] = match v {
                Ok(msg) => json!({ "ok": true, "message": msg }),
                Err(msg) => json!({ "ok": false, "message": msg }),
            };
            if let Err(msg) = v {
                j["ok"] = json!(false);
                j["error"] = json!(msg);
            }
        }
        print_json(&j);
    } else {
        print!("{}", report(&text, &args, &scan, &outcome));
        if let Some(v) = &verify {
            match v {
                Ok(msg) => println!("verify: {msg}"),
                Err(msg) => println!("verify: FAILED: {msg}"),
            }
        }
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
        print_json(&json!({ "verinit": 1, "ok": false, "error": msg }));
    } else {
        println!("verinit: {msg}\nresult: the boot would FAIL");
    }
    1
}

/// One line of compact JSON: `--json` is for programs (jq makes it pretty).
fn print_json(j: &Value) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = serde_json::to_writer(&mut out, j);
    let _ = writeln!(out);
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
    match result {
        Ok(_) => Ok(format!(
            "{} data blocks of {} recomputed on {threads} threads in {secs:.2} s: the hash tree matches root hash {}",
            c.params.data_blocks, c.data.label, c.root_hash
        )),
        Err(e) => Err(format!("verify failed: {e}")),
    }
}

fn device_lines(scan: &Scan) -> Vec<String> {
    let mut out = Vec::new();
    for (id, dev) in scan.devices.iter().enumerate() {
        let number = dev
            .dev
            .map_or_else(|| "file".to_string(), |d| d.to_string());
        let mut line = format!(
            "  {}  {}  {}  {}-byte sectors",
            dev.display_name(),
            number,
            dev.size,
            dev.sector_size
        );
        if let Some(disk) = scan.disks.iter().find(|d| d.source == id) {
            if let Some(g) = &disk.gpt {
                line.push_str(&format!(
                    "  GPT {} ({} partitions)",
                    g.disk_guid,
                    g.partitions.len()
                ));
            }
        }
        out.push(line);
        for (a, area) in scan.areas.iter().enumerate() {
            let on_this = match &area.gpt {
                Some((d, _)) => scan.disks.get(*d).is_some_and(|disk| disk.source == id),
                None => area.source == id,
            };
            if !on_this {
                continue;
            }
            let mut what = Vec::new();
            if let Some((_, p)) = &area.gpt {
                let role = dps::role_of(&p.type_guid, dps::Arch::native())
                    .map_or_else(|| p.type_guid.to_string(), |r| r.name().to_string());
                what.push(format!("{role} {} \"{}\"", p.part_guid, p.name));
            }
            if let Some(pv) = scan.pvs.iter().find(|p| p.area == a) {
                let vg = pv
                    .copy
                    .and_then(|c| scan.vg_copies.get(c))
                    .map_or("no VG metadata".to_string(), |v| format!("VG {}", v.name));
                what.push(format!("LVM PV {} ({vg})", pv.label.pv_uuid));
            }
            if area.gpt.is_some() || !what.is_empty() {
                out.push(format!(
                    "    {}: {} {}",
                    area.name,
                    scan.area_size(area),
                    what.join(", ")
                ));
            }
        }
    }
    out
}

/// The human report.
pub fn report(text: &str, args: &BootArgs, scan: &Scan, outcome: &Outcome) -> String {
    let mut s = String::new();
    s.push_str(&format!("kernel command line: {}\n", text.trim()));
    for (field, word) in &args.sources {
        s.push_str(&format!("  {field}: {word}\n"));
    }
    s.push_str(&format!("devices ({}):\n", scan.devices.len()));
    for line in device_lines(scan) {
        s.push_str(&line);
        s.push('\n');
    }
    if !scan.vgs.is_empty() {
        s.push_str("volume groups:\n");
    }
    for vg in &scan.vgs {
        let v = &vg.vg;
        s.push_str(&format!(
            "  {}  id {}  seqno {}  extent {}  {} PVs, {} LVs\n",
            v.name,
            v.id,
            v.seqno,
            v.extent_size.to_bytes().unwrap_or_default(),
            v.pvs.len(),
            v.lvs.len()
        ));
        for lv in &v.lvs {
            let size = v.extent_size.0.saturating_mul(lv.extent_count());
            s.push_str(&format!(
                "    {}  {}  {} segment{}  {}{}\n",
                lv.name,
                crate::units::Sectors(size).to_bytes().unwrap_or_default(),
                lv.segments.len(),
                if lv.segments.len() == 1 { "" } else { "s" },
                lv.id,
                if lv.visible { "" } else { "  (hidden)" }
            ));
        }
    }
    if !scan.warnings.is_empty() || !outcome.problems.is_empty() {
        s.push_str("warnings:\n");
        for w in scan.warnings.iter().chain(&outcome.problems) {
            s.push_str(&format!("  {w}\n"));
        }
    }
    if let Some(h) = &outcome.root_hash {
        s.push_str(&format!("root hash: {h}\n"));
    }
    s.push_str(&format!("candidates ({}):\n", outcome.candidates.len()));
    for (i, c) in outcome.candidates.iter().enumerate() {
        let mark = match outcome.selected {
            Some(sel) if sel == i => "* boot ",
            Some(_) => "  same image, not booted: ",
            None => "  ",
        };
        s.push_str(&format!(
            "  {mark}{}: matched {}\n",
            c.data.label, c.found_by
        ));
        s.push_str(&format!("      hash tree: {}\n", c.hash_found_by));
        let p = &c.params;
        s.push_str(&format!(
            "      verity: {} data blocks of {} bytes, hash blocks of {} bytes, {}, salt {}{}\n",
            p.data_blocks,
            p.data_block_size,
            p.hash_block_size,
            p.algorithm,
            if p.salt.is_empty() {
                "-".to_string()
            } else {
                crate::id::encode_hex(&p.salt)
            },
            if c.superblock {
                ", from the superblock"
            } else {
                ", from the command line"
            }
        ));
        if let Some(fs) = &c.filesystem {
            s.push_str(&format!(
                "      filesystem: {} of {}\n",
                fs.kind.name(),
                fs.size
            ));
        }
        if let RootHashFrom::Signature(part) = &c.root_hash_from {
            s.push_str(&format!(
                "      root hash: {} (the rootHash of {part}; no roothash= given)\n",
                c.root_hash
            ));
        }
        if let Some(line) = signature_line(c) {
            s.push_str(&format!("      signature: {line}\n"));
        }
    }
    if outcome.candidates.len() > 1 && outcome.selected.is_some() {
        s.push_str("  (all are the same verified image; the first by name is booted)\n");
    }
    if !outcome.rejected.is_empty() {
        s.push_str("not candidates:\n");
        for r in &outcome.rejected {
            s.push_str(&format!("  {}: {}\n", r.label, r.reason));
        }
    }
    match &outcome.plan {
        Ok(p) => {
            s.push_str("plan:\n");
            for (i, step) in p.steps.iter().enumerate() {
                let text = step.to_string().replace('\n', "\n   ");
                s.push_str(&format!("  {}. {text}\n", i + 1));
            }
        }
        Err(e) => s.push_str(&format!("error: {e}\n")),
    }
    s
}

/// The JSON report (its shape is documented in README.md).
pub fn to_json(text: &str, scan: &Scan, outcome: &Outcome) -> Value {
    let vgs: Vec<Value> = scan
        .vgs
        .iter()
        .map(|vg| {
            let v = &vg.vg;
            let pvs: Vec<Value> = v
                .pvs
                .iter()
                .zip(&vg.pv_found)
                .map(|(entry, found)| {
                    let device = found.first().map(|&p| scan.areas[scan.pvs[p].area].name.clone());
                    json!({ "id": entry.id.to_string(), "device": device, "pe_start": entry.pe_start.0 })
                })
                .collect();
            let lvs: Vec<Value> = v
                .lvs
                .iter()
                .map(|lv| {
                    let (table, error) = match scan.lv_layout(vg, lv) {
                        Ok(layout) => (
                            layout
                                .table(&|id| scan.dev_ref(id))
                                .iter()
                                .map(ToString::to_string)
                                .collect(),
                            Value::Null,
                        ),
                        Err(e) => (Vec::new(), json!(e.to_string())),
                    };
                    json!({
                        "name": lv.name, "id": lv.id.to_string(), "visible": lv.visible,
                        "extents": lv.extent_count(), "table": table, "error": error,
                    })
                })
                .collect();
            json!({
                "name": v.name, "id": v.id.to_string(), "seqno": v.seqno,
                "extent_size": v.extent_size.0, "pvs": pvs, "lvs": lvs,
                "missing_pvs": vg.missing_pvs().iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    let devices: Vec<Value> = scan
        .devices
        .iter()
        .map(|d| {
            json!({
                "name": d.display_name(), "dev": d.dev.map(|n| n.to_string()),
                "size": d.size.0, "sector_size": d.sector_size,
            })
        })
        .collect();
    let candidates: Vec<Value> = outcome
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c.data.label, "selected": outcome.selected == Some(i),
                "reason": c.found_by, "hash": c.hash.label, "hash_reason": c.hash_found_by,
                "filesystem": c.filesystem.as_ref().map(|f| f.kind.name()),
                "signature": c.signature.as_ref().map(|(p, _)| p.clone()),
                "signers": c.signature.as_ref().map(|(_, sig)| sig.pkcs7.signers.iter()
                    .map(|s| json!({ "id": s.id, "digest": s.digest, "algorithm": s.algorithm }))
                    .collect::<Vec<_>>()),
                "signature_to_kernel": c.signature_to_kernel,
                "root_hash": c.root_hash.to_hex(),
                "root_hash_from": match &c.root_hash_from {
                    RootHashFrom::CommandLine(w) => json!({ "command_line": w }),
                    RootHashFrom::Signature(p) => json!({ "signature": p }),
                },
                "root_hash_matches": c.root_check.is_ok(),
                "root_check_error": c.root_check.as_ref().err(),
                "verity": {
                    "algorithm": c.params.algorithm.name(),
                    "data_block_size": c.params.data_block_size,
                    "hash_block_size": c.params.hash_block_size,
                    "data_blocks": c.params.data_blocks,
                    "hash_start_block": c.params.hash_start_block,
                    "salt": crate::id::encode_hex(&c.params.salt),
                    "superblock": c.superblock,
                    "hash_offset": c.hash_offset,
                },
            })
        })
        .collect();
    let rejected: Vec<Value> = outcome
        .rejected
        .iter()
        .map(|r| json!({ "name": r.label, "reason": r.reason }))
        .collect();
    let (plan, error) = match &outcome.plan {
        Ok(p) => (
            json!({ "steps": p.steps.iter().map(|s| s.to_json()).collect::<Vec<_>>() }),
            Value::Null,
        ),
        Err(e) => (Value::Null, json!(e.to_string())),
    };
    json!({
        "verinit": 1,
        "ok": outcome.plan.is_ok(),
        "error": error,
        "cmdline": text.trim(),
        "root_hash": outcome.root_hash.as_ref().map(|h| h.to_hex()),
        "devices": devices,
        "volume_groups": vgs,
        "warnings": scan.warnings.iter().chain(&outcome.problems).collect::<Vec<_>>(),
        "candidates": candidates,
        "rejected": rejected,
        "plan": plan,
    })
}

/// What the report says of a candidate's signature: who signed, and who checks it.
fn signature_line(c: &Candidate) -> Option<String> {
    let (part, sig) = c.signature.as_ref()?;
    let fingerprint = sig
        .certificate_fingerprint
        .as_ref()
        .map_or(String::new(), |f| {
            format!(", certificate SHA-256 {}", crate::id::encode_hex(f))
        });
    let verdict = if c.signature_to_kernel {
        "passed to the kernel, which checks it against its trusted keys when it loads the \
         table (the dry run checks only its form)"
    } else {
        "not used: the root hash comes from the command line (dm_verity.require_signatures=1 \
         would have the kernel check it too)"
    };
    Some(format!(
        "{part}: well-formed {}{fingerprint}, for this root hash; {verdict}",
        sig.pkcs7
    ))
}
