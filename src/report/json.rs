//! The report as the JSON object of `verinit --dry-run --json`, whose shape README.md
//! documents: `verinit` (the shape's version, 1), `ok`, `error`, `cmdline`, `root_hash`,
//! `devices`, `volume_groups`, `warnings`, `candidates`, `fallback`, `pending`,
//! `rejected`, `plan` and, after `--verify`, `verify`. Keys come out sorted (serde_json's map).

use serde_json::{json, Value};

use super::{Choice, Report};
use crate::id::encode_hex;
use crate::plan::verity_setup::{Candidate, RootHashFrom};

impl Report<'_> {
    /// The report as one JSON object.
    pub fn json(&self) -> Value {
        let vgs: Vec<Value> = self
            .volume_groups
            .iter()
            .map(|g| {
                let v = g.vg;
                let pvs: Vec<Value> = g
                    .pvs
                    .iter()
                    .map(|(entry, device)| {
                        json!({ "id": entry.id.to_string(), "device": device, "pe_start": entry.pe_start.0 })
                    })
                    .collect();
                let lvs: Vec<Value> = g
                    .lvs
                    .iter()
                    .map(|l| {
                        let lv = l.lv;
                        let (table, error) = match &l.table {
                            Ok(table) => (
                                table.iter().map(ToString::to_string).collect(),
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
                    "missing_pvs": g.missing_pvs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        let devices: Vec<Value> = self
            .devices
            .iter()
            .map(|d| {
                let d = d.device;
                json!({
                    "name": d.display_name(), "dev": d.dev.map(|n| n.to_string()),
                    "size": d.size.0, "sector_size": d.sector_size,
                })
            })
            .collect();
        let candidates: Vec<Value> = (0..self.candidates.len())
            .map(|i| self.candidate_json(i))
            .collect();
        let rejected: Vec<Value> = self
            .rejected
            .iter()
            .map(|r| json!({ "name": r.label, "reason": r.reason }))
            .collect();
        let (plan, error) = match self.plan {
            Ok(p) => (
                json!({ "steps": p.steps.iter().map(|s| s.to_json()).collect::<Vec<_>>() }),
                Value::Null,
            ),
            Err(e) => (Value::Null, json!(e.to_string())),
        };
        let mut j = json!({
            "verinit": 1,
            "ok": self.plan.is_ok(),
            "error": error,
            "cmdline": self.cmdline,
            "root_hash": self.root_hash.map(|h| h.to_hex()),
            "devices": devices,
            "volume_groups": vgs,
            "warnings": self.warnings,
            "candidates": candidates,
            "fallback": self.order().iter().skip(1).map(|c| c.candidate.data.label.as_str()).collect::<Vec<_>>(),
            "pending": self.pending,
            "rejected": rejected,
            "plan": plan,
        });
        if let Some(v) = &self.verify {
            j["verify"] = match v {
                Ok(msg) => json!({ "ok": true, "message": msg }),
                Err(msg) => json!({ "ok": false, "message": msg }),
            };
            if let Err(msg) = v {
                j["ok"] = json!(false);
                j["error"] = json!(msg);
            }
        }
        j
    }
}

impl<'a> Report<'a> {
    /// A candidate as the dry run's JSON and the boot record say it: the copy (its LV,
    /// partition and PVs), its place in the boot's order and what became of it, its hash
    /// tree, signature and verity parameters.
    pub(super) fn candidate_json(&self, index: usize) -> Value {
        let Some(entry) = self.candidates.get(index) else {
            return Value::Null;
        };
        let c = entry.candidate;
        let failure = self.boot.as_ref().and_then(|b| {
            b.failed
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, why)| why.clone())
        });
        let booted = self.boot.as_ref().is_some_and(|b| b.booted == Some(index));
        let status = match (entry.choice, &self.boot) {
            (Choice::Unusable, _) => "unusable",
            (Choice::Undecided, _) => "undecided",
            (_, Some(_)) if booted => "booted",
            (_, Some(_)) if failure.is_some() => "failed",
            (_, Some(_)) => "spare",
            (Choice::First, None) => "first",
            (Choice::Fallback(_), None) => "fallback",
        };
        let mut v = json!({
            "name": c.data.label, "selected": entry.choice == Choice::First,
            "order": match entry.choice {
                Choice::First => json!(0),
                Choice::Fallback(n) => json!(n),
                _ => Value::Null,
            },
            "status": status,
            "failure": failure.or_else(|| match entry.choice {
                Choice::Unusable => c.root_check.clone().err(),
                _ => None,
            }),
            "reason": c.found_by, "hash": c.hash.label, "hash_reason": c.hash_found_by,
            "filesystem": c.filesystem.as_ref().map(|f| f.kind.name()),
            "signature": c.signature.as_ref().map(|(p, _)| p.clone()),
            "signers": c.signature.as_ref().map(|(_, sig)| sig.pkcs7.signers.iter()
                .map(|s| json!({ "id": s.id, "digest": s.digest, "algorithm": s.algorithm }))
                .collect::<Vec<_>>()),
            "signature_to_kernel": c.signature_to_kernel,
            "root_hash": c.root_hash.to_hex(),
            "root_hash_from": root_hash_from(c),
            "root_hash_matches": c.root_check.is_ok(),
            "root_check_error": c.root_check.as_ref().err(),
            "fec": super::fec_json(&c.fec),
            "verity": {
                "algorithm": c.params.algorithm.name(),
                "data_block_size": c.params.data_block_size,
                "hash_block_size": c.params.hash_block_size,
                "data_blocks": c.params.data_blocks,
                "hash_start_block": c.params.hash_start_block,
                "salt": encode_hex(&c.params.salt),
                "superblock": c.superblock,
                "hash_offset": c.hash_offset,
            },
        });
        if let (Some(obj), Value::Object(id)) = (v.as_object_mut(), entry.identity.json()) {
            obj.extend(id);
        }
        v
    }
}

/// Where a candidate's root hash came from: `{"command_line": word}` or
/// `{"signature": partition}`.
pub(super) fn root_hash_from(c: &Candidate) -> Value {
    match &c.root_hash_from {
        RootHashFrom::CommandLine(w) => json!({ "command_line": w }),
        RootHashFrom::Signature(p) => json!({ "signature": p }),
    }
}

/// The JSON when there is nothing to report but why: the command line could not be read
/// or parsed, or the devices could not be listed.
pub fn failure_json(error: &str) -> Value {
    json!({ "verinit": 1, "ok": false, "error": error })
}
