//! A candidate's FEC, as the text and JSON reports show it: where it came from, the roots,
//! the blocks covered, the parity's area and the overhead.

use serde_json::{json, Value};

use crate::plan::fec_setup::{FecFrom, FecSetup};

/// The text after "fec: ", or None when the candidate has no FEC and no footer.
pub(super) fn fec_line(setup: &FecSetup) -> Option<String> {
    match setup {
        FecSetup::None => None,
        FecSetup::Ignored(warning) => Some(format!("WARNING: {warning}")),
        FecSetup::Found(f) => {
            let l = &f.layout;
            let (start, end) = l.area().unwrap_or((0, 0));
            Some(format!(
                "{} roots, {} blocks covered (data and hash tree), parity at bytes {start}..{end} \
                 of {} ({} blocks, {:.2}% overhead), from {}",
                l.roots,
                l.blocks,
                f.volume.label,
                l.parity_blocks().unwrap_or(0),
                l.overhead_percent(),
                f.found_by
            ))
        }
    }
}

pub(super) fn fec_json(setup: &FecSetup) -> Value {
    match setup {
        FecSetup::None => Value::Null,
        FecSetup::Ignored(warning) => json!({ "warning": warning }),
        FecSetup::Found(f) => {
            let l = &f.layout;
            let (start, end) = l.area().unwrap_or((0, 0));
            json!({
                "from": match f.from { FecFrom::Options => "options", FecFrom::Footer => "footer" },
                "found_by": f.found_by,
                "device": f.volume.label,
                "roots": l.roots,
                "blocks": l.blocks,
                "start_block": l.start,
                "rounds": l.rounds(),
                "area": { "offset": start, "length": end - start },
                "parity_blocks": l.parity_blocks(),
                "overhead_percent": (l.overhead_percent() * 100.0).round() / 100.0,
            })
        }
    }
}
