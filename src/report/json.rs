//! The report as the JSON object of `verinit --dry-run --json`, whose shape README.md
//! documents: `verinit` (the shape's version, 1), `ok`, `error`, `cmdline`, `root_hash`,
//! `devices`, `volume_groups`, `warnings`, `candidates`, `fallback`, `pending`,
//! `rejected`, `plan` and, after `--verify`, `verify`. Keys come out sorted, as serde_json's
//! map sorts them; the top level, devices and volume groups are written as they go, the
//! rest (candidates, plan) through `Value`.

use std::fmt::{self, Write as _};

use serde_json::{json, Value};

use super::{Choice, Report};
use crate::id::encode_hex;
use crate::plan::verity_setup::{Candidate, RootHashFrom};

/// Compact JSON of a value, appended. Serializing into a Vec cannot fail for the values
/// here (strings, numbers, and maps with string keys). A macro, not a function: serde's
/// `Serialize` trait is not ours to name (serde_json is the dependency, not serde).
macro_rules! write_value {
    ($out:expr, $value:expr) => {{
        let _ = serde_json::to_writer(&mut *$out, $value);
    }};
}

/// One member of an `ObjectWriter`'s object: its key and its value's JSON.
macro_rules! member {
    ($o:expr, $key:expr, $value:expr) => {
        write_value!($o.key($key), $value)
    };
}

/// Writes one JSON object member by member, in the order given (callers give the keys
/// sorted, as serde_json's map would), so that a big VG's report streams out without a
/// `Value` tree built and dropped for it.
struct ObjectWriter<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> ObjectWriter<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, first: true }
    }

    /// Starts a member: the comma before it, its key and the colon.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_value!(self.out, key);
        self.out.push(b':');
        self.out
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// Writes a JSON array of the items, each by `item`.
fn write_array<I>(out: &mut Vec<u8>, items: I, mut item: impl FnMut(&mut Vec<u8>, I::Item))
where
    I: IntoIterator,
{
    out.push(b'[');
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

/// Writes a JSON string of a value's `Display`, through `buf` (its capacity reused).
fn write_display(out: &mut Vec<u8>, buf: &mut String, value: &dyn fmt::Display) {
    buf.clear();
    let _ = write!(buf, "{value}");
    write_value!(out, buf.as_str());
}

impl Report<'_> {
    /// The report as one line of compact JSON (no newline), appended to `out`: the same
    /// bytes as serde_json writes for the object, keys sorted.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let (plan, mut error) = match self.plan {
            Ok(p) => (
                json!({ "steps": p.steps.iter().map(|s| s.to_json()).collect::<Vec<_>>() }),
                Value::Null,
            ),
            Err(e) => (Value::Null, json!(e.to_string())),
        };
        let mut ok = self.plan.is_ok();
        let verify = self.verify.as_ref().map(|v| match v {
            Ok(msg) => json!({ "ok": true, "message": msg }),
            Err(msg) => {
                ok = false;
                error = json!(msg);
                json!({ "ok": false, "message": msg })
            }
        });
        let mut buf = String::new();
        let mut o = ObjectWriter::open(out);
        write_array(o.key("candidates"), 0..self.candidates.len(), |out, i| {
            write_value!(out, &self.candidate_json(i))
        });
        member!(o, "cmdline", self.cmdline);
        write_array(o.key("devices"), &self.devices, |out, d| {
            let d = d.device;
            let mut o = ObjectWriter::open(out);
            member!(o, "dev", &d.dev.map(|n| n.to_string()));
            member!(o, "name", &d.display_name());
            member!(o, "sector_size", &d.sector_size);
            member!(o, "size", &d.size.0);
            o.close();
        });
        member!(o, "error", &error);
        let fallback = self.order();
        write_array(o.key("fallback"), fallback.iter().skip(1), |out, c| {
            write_value!(out, c.candidate.data.label.as_str())
        });
        member!(o, "ok", &ok);
        member!(o, "pending", self.pending);
        member!(o, "plan", &plan);
        write_array(o.key("rejected"), self.rejected, |out, r| {
            let mut o = ObjectWriter::open(out);
            member!(o, "name", &r.label);
            member!(o, "reason", &r.reason);
            o.close();
        });
        member!(o, "root_hash", &self.root_hash.map(|h| h.to_hex()));
        if let Some(v) = &verify {
            member!(o, "verify", v);
        }
        member!(o, "verinit", &1);
        write_array(o.key("volume_groups"), &self.volume_groups, |out, g| {
            let v = g.vg;
            let mut o = ObjectWriter::open(out);
            member!(o, "extent_size", &v.extent_size.0);
            write_display(o.key("id"), &mut buf, &v.id);
            write_array(o.key("lvs"), &g.lvs, |out, l| {
                let lv = l.lv;
                let mut o = ObjectWriter::open(out);
                match &l.table {
                    Ok(_) => member!(o, "error", &()),
                    Err(e) => write_display(o.key("error"), &mut buf, e),
                }
                member!(o, "extents", &lv.extent_count());
                write_display(o.key("id"), &mut buf, &lv.id);
                member!(o, "name", &lv.name);
                let table = l.table.as_deref().unwrap_or_default();
                write_array(o.key("table"), table, |out, line| {
                    write_display(out, &mut buf, line)
                });
                member!(o, "visible", &lv.visible);
                o.close();
            });
            write_array(o.key("missing_pvs"), &g.missing_pvs, |out, id| {
                write_display(out, &mut buf, id)
            });
            member!(o, "name", &v.name);
            write_array(o.key("pvs"), &g.pvs, |out, (entry, device)| {
                let mut o = ObjectWriter::open(out);
                member!(o, "device", device);
                write_display(o.key("id"), &mut buf, &entry.id);
                member!(o, "pe_start", &entry.pe_start.0);
                o.close();
            });
            member!(o, "seqno", &v.seqno);
            o.close();
        });
        member!(o, "warnings", &self.warnings);
        o.close();
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
