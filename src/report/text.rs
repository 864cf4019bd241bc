//! The report as text: what `verinit --dry-run` prints, and what the boot prints (line by
//! line, through its log) when it fails. One line per fact, indented by what it belongs
//! to: the command line and the words that set each argument, each device and its areas,
//! each volume group and its LVs, the warnings, each candidate and its verity
//! parameters, the volumes that are not candidates and why, then the plan's numbered
//! steps or the error.

use super::{Choice, Report};
use crate::id::encode_hex;
use crate::plan::verity_setup::{Candidate, RootHashFrom};

impl Report<'_> {
    /// The report as text, one `\n`-ended line after another.
    pub fn text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!("kernel command line: {}\n", self.cmdline));
        for (field, word) in self.sources {
            s.push_str(&format!("  {field}: {word}\n"));
        }
        s.push_str(&format!("devices ({}):\n", self.devices.len()));
        for d in &self.devices {
            let dev = d.device;
            let number = dev
                .dev
                .map_or_else(|| "file".to_string(), |n| n.to_string());
            s.push_str(&format!(
                "  {}  {}  {}  {}-byte sectors",
                dev.display_name(),
                number,
                dev.size,
                dev.sector_size
            ));
            if let Some(g) = d.gpt {
                s.push_str(&format!(
                    "  GPT {} ({} partitions)",
                    g.disk_guid,
                    g.partitions.len()
                ));
            }
            s.push('\n');
            for area in &d.areas {
                let mut what = Vec::new();
                if let Some((p, role)) = &area.partition {
                    let role = role.map_or_else(|| p.type_guid.to_string(), str::to_string);
                    what.push(format!("{role} {} \"{}\"", p.part_guid, p.name));
                }
                if let Some((pv, vg)) = &area.pv {
                    let vg = vg.map_or("no VG metadata".to_string(), |v| format!("VG {v}"));
                    what.push(format!("LVM PV {pv} ({vg})"));
                }
                s.push_str(&format!(
                    "    {}: {} {}\n",
                    area.name,
                    area.size,
                    what.join(", ")
                ));
            }
        }
        if !self.volume_groups.is_empty() {
            s.push_str("volume groups:\n");
        }
        for g in &self.volume_groups {
            let v = g.vg;
            s.push_str(&format!(
                "  {}  id {}  seqno {}  extent {}  {} PVs, {} LVs\n",
                v.name,
                v.id,
                v.seqno,
                g.extent,
                v.pvs.len(),
                v.lvs.len()
            ));
            for l in &g.lvs {
                let lv = l.lv;
                s.push_str(&format!(
                    "    {}  {}  {} segment{}  {}{}\n",
                    lv.name,
                    l.size,
                    lv.segments.len(),
                    if lv.segments.len() == 1 { "" } else { "s" },
                    lv.id,
                    if lv.visible { "" } else { "  (hidden)" }
                ));
            }
        }
        if !self.warnings.is_empty() {
            s.push_str("warnings:\n");
            for w in &self.warnings {
                s.push_str(&format!("  {w}\n"));
            }
        }
        if let Some(h) = self.root_hash {
            s.push_str(&format!("root hash: {h}\n"));
        }
        s.push_str(&format!("candidates ({}):\n", self.candidates.len()));
        for (i, entry) in self.candidates.iter().enumerate() {
            let c = entry.candidate;
            let mark = match entry.choice {
                Choice::First => "* boot ".to_string(),
                Choice::Fallback(n) => format!("  fallback {n}: "),
                Choice::Unusable => "  same image, never booted: ".to_string(),
                Choice::Undecided => "  ".to_string(),
            };
            s.push_str(&format!(
                "  {mark}{}: matched {}\n",
                c.data.label, c.found_by
            ));
            if let Some(why) = self
                .boot
                .as_ref()
                .and_then(|b| b.failed.iter().find(|(f, _)| *f == i))
                .map(|(_, why)| why)
            {
                s.push_str(&format!("      tried, failed: {why}\n"));
            }
            if entry.choice == Choice::Unusable {
                if let Err(why) = &c.root_check {
                    s.push_str(&format!(
                        "      its hash tree does not match the root hash: {why}\n"
                    ));
                }
            }
            s.push_str(&format!("      hash tree: {}\n", c.hash_found_by));
            if let Some(line) = super::fec_line(&c.fec) {
                s.push_str(&format!("      fec: {line}\n"));
            }
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
                    encode_hex(&p.salt)
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
        let order = self.order();
        if let [first, rest @ ..] = order.as_slice() {
            if !rest.is_empty() {
                s.push_str("  (all are the same verified image; the first by name is booted)\n");
            }
            let mut before = first.candidate.data.label.as_str();
            for next in rest {
                s.push_str(&format!(
                    "  if {before} fails: {}\n",
                    next.candidate.data.label
                ));
                before = &next.candidate.data.label;
            }
        }
        if !self.pending.is_empty() && self.plan.is_ok() {
            s.push_str(&format!(
                "  before booting, waits (rootdelay=, else 30 s) for LVs that lack a PV and may \
                 be copies: {}\n",
                self.pending.join(", ")
            ));
        }
        if !self.rejected.is_empty() {
            s.push_str("not candidates:\n");
            for r in self.rejected {
                s.push_str(&format!("  {}: {}\n", r.label, r.reason));
            }
        }
        match self.plan {
            Ok(p) => {
                s.push_str("plan:\n");
                for (i, step) in p.steps.iter().enumerate() {
                    let text = step.to_string().replace('\n', "\n   ");
                    s.push_str(&format!("  {}. {text}\n", i + 1));
                }
            }
            Err(e) => s.push_str(&format!("error: {e}\n")),
        }
        match &self.verify {
            Some(Ok(msg)) => s.push_str(&format!("verify: {msg}\n")),
            Some(Err(msg)) => s.push_str(&format!("verify: FAILED: {msg}\n")),
            None => {}
        }
        s
    }
}

/// What the report says of a candidate's signature: who signed, and who checks it.
fn signature_line(c: &Candidate) -> Option<String> {
    let (part, sig) = c.signature.as_ref()?;
    let fingerprint = sig
        .certificate_fingerprint
        .as_ref()
        .map_or(String::new(), |f| {
            format!(", certificate SHA-256 {}", encode_hex(f))
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
