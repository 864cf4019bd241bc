//! The boot record: `/run/verinit/boot.json`, written just before the switch into the
//! verified root, so that the booted system (an updater, say) can read which installed
//! copy it runs from and which copies are spares. It is the report's third rendering and
//! speaks the dry run's JSON vocabulary (README.md documents the shape):
//!
//!   boot_record      1: the shape's version; a change that breaks a reader raises it
//!   verinit          verinit's version
//!   cmdline          the kernel command line
//!   root_hash        the root hash the verity table carries
//!   root_hash_from   {"command_line": word} or {"signature": partition, "signers": [...]}
//!   booted           the copy booted: a candidate object (name, lv, partition, pvs, ...)
//!   copies           every copy of the image, in name order, each with `status`
//!                    booted | spare | failed | unusable and `failure` (why it failed, or
//!                    why its hash tree is unusable)
//!   rejected         volumes looked at that are not copies, and why
//!   dm_devices       the dm devices verinit made: name, uuid, dev (major:minor)
//!   warnings         damage the boot went past, and waits given up
//!   phases_ms        [{phase, ms}] in order

use std::time::Duration;

use serde_json::{json, Value};

use super::json::root_hash_from;
use super::Report;
use crate::dm_table::DevNum;
use crate::plan::verity_setup::RootHashFrom;

/// The version of the record's shape.
pub const RECORD_VERSION: u32 = 1;

/// A dm device the boot made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MadeDevice {
    pub name: String,
    pub uuid: String,
    pub dev: DevNum,
}

/// What the boot did, beside what the planner found.
#[derive(Clone, Debug, Default)]
pub struct BootFacts {
    /// The copies tried that failed, in order: (candidate index, why).
    pub failed: Vec<(usize, String)>,
    /// The candidate booted.
    pub booted: Option<usize>,
    /// The dm devices made for the booted copy, in order.
    pub dm_devices: Vec<MadeDevice>,
    /// How long each phase took, in order.
    pub phases: Vec<(String, Duration)>,
    /// What the boot itself warned of.
    pub warnings: Vec<String>,
}

impl Report<'_> {
    /// The boot record; `None` when the report carries no boot.
    pub fn record(&self) -> Option<Value> {
        let boot = self.boot.as_ref()?;
        let booted = boot.booted.and_then(|i| self.candidates.get(i));
        let from = booted.map(|c| {
            let mut from = root_hash_from(c.candidate);
            if let (RootHashFrom::Signature(_), Some((_, sig))) =
                (&c.candidate.root_hash_from, &c.candidate.signature)
            {
                from["signers"] = json!(sig
                    .pkcs7
                    .signers
                    .iter()
                    .map(|s| json!({ "id": s.id, "digest": s.digest, "algorithm": s.algorithm }))
                    .collect::<Vec<_>>());
            }
            from
        });
        let warnings: Vec<&str> = self
            .warnings
            .iter()
            .copied()
            .chain(boot.warnings.iter().map(String::as_str))
            .collect();
        Some(json!({
            "boot_record": RECORD_VERSION,
            "verinit": env!("CARGO_PKG_VERSION"),
            "cmdline": self.cmdline,
            "root_hash": self.root_hash.map(|h| h.to_hex()),
            "root_hash_from": from,
            "booted": boot.booted.map(|i| self.candidate_json(i)),
            "copies": (0..self.candidates.len()).map(|i| self.candidate_json(i)).collect::<Vec<_>>(),
            "rejected": self.rejected.iter()
                .map(|r| json!({ "name": r.label, "reason": r.reason }))
                .collect::<Vec<_>>(),
            "dm_devices": boot.dm_devices.iter()
                .map(|d| json!({ "name": d.name, "uuid": d.uuid, "dev": d.dev.to_string() }))
                .collect::<Vec<_>>(),
            "warnings": warnings,
            "phases_ms": boot.phases.iter()
                .map(|(name, d)| json!({ "phase": name, "ms": d.as_micros() as f64 / 1000.0 }))
                .collect::<Vec<_>>(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan, PlanOptions};
    use crate::scan::Scan;

    #[test]
    fn the_record_has_its_version_and_every_key() {
        let text = "roothash=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let args = crate::cmdline::parse(text).unwrap();
        let scan = Scan::default();
        let outcome = plan(&args, &scan, &PlanOptions::default());
        let report = Report::new(text, &args, &scan, &outcome);
        assert!(report.record().is_none(), "no boot, no record");
        let facts = BootFacts {
            failed: vec![],
            booted: None,
            dm_devices: vec![MadeDevice {
                name: "root".into(),
                uuid: "CRYPT-VERITY-x-root".into(),
                dev: DevNum {
                    major: 253,
                    minor: 2,
                },
            }],
            phases: vec![("modules".into(), Duration::from_micros(1500))],
            warnings: vec!["a warning of the boot".into()],
        };
        let r = Report::new(text, &args, &scan, &outcome)
            .with_boot(facts)
            .record()
            .unwrap();
        assert_eq!(r["boot_record"], RECORD_VERSION);
        for key in [
            "verinit",
            "cmdline",
            "root_hash",
            "root_hash_from",
            "booted",
            "copies",
            "rejected",
            "dm_devices",
            "warnings",
            "phases_ms",
        ] {
            assert!(r.get(key).is_some(), "no {key}: {r:#}");
        }
        assert_eq!(r["cmdline"], text);
        assert_eq!(r["dm_devices"][0]["dev"], "253:2");
        assert_eq!(r["phases_ms"][0]["phase"], "modules");
        assert_eq!(r["phases_ms"][0]["ms"], 1.5);
        assert_eq!(r["warnings"][0], "a warning of the boot");
        assert!(r["booted"].is_null());
    }
}
