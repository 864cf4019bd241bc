//! Which installed copy a candidate is: its LV (VG/LV name and UUID), its partition
//! (number and UUID) when it sits in a disk image or on a disk, and the PVs (UUID,
//! device number, device path) its data lives on. The dry run's JSON and the boot record
//! both say it this way, so an updater can find the copy that did not boot.

use serde_json::{json, Value};

use crate::disk::layout::Mapping;
use crate::plan::verity_setup::Candidate;
use crate::plan::volume::{Origin, Volume};
use crate::scan::Scan;

/// Where a volume came from, in the terms of LVM and GPT.
pub struct CopyIdentity {
    /// (VG name, LV name, LV UUID).
    pub lv: Option<(String, String, String)>,
    /// (number, UUID) of the GPT partition.
    pub partition: Option<(u32, String)>,
    /// (PV UUID, `major:minor`, device path) under the data, in order of use.
    pub pvs: Vec<(String, Option<String>, String)>,
    /// The devices under the data that are not PVs (a disk partition, an image file).
    pub devices: Vec<(Option<String>, String)>,
}

impl CopyIdentity {
    pub fn of(scan: &Scan, c: &Candidate) -> CopyIdentity {
        identity(scan, &c.data)
    }

    pub fn json(&self) -> Value {
        json!({
            "lv": self.lv.as_ref().map(|(vg, lv, id)| json!({ "vg": vg, "name": lv, "uuid": id })),
            "partition": self.partition.as_ref().map(|(n, u)| json!({ "number": n, "uuid": u })),
            "pvs": self.pvs.iter().map(|(id, dev, path)| json!({ "uuid": id, "dev": dev, "device": path })).collect::<Vec<_>>(),
            "devices": self.devices.iter().map(|(dev, path)| json!({ "dev": dev, "device": path })).collect::<Vec<_>>(),
        })
    }
}

fn identity(scan: &Scan, v: &Volume) -> CopyIdentity {
    let lv_of = |vg: usize, lv: usize| {
        let group = scan.vgs.get(vg)?;
        let l = group.vg.lvs.get(lv)?;
        Some((group.vg.name.clone(), l.name.clone(), l.id.to_string()))
    };
    let (lv, vg_index) = match &v.origin {
        Origin::Lv { vg, lv } | Origin::LvPartition { vg, lv, .. } => (lv_of(*vg, *lv), Some(*vg)),
        Origin::Area(_) => (None, None),
    };
    let partition = v
        .partition(scan)
        .map(|p| (p.number, p.part_guid.to_string()));
    // Each (source, sector) the data starts an extent at: the PVs whose areas hold one.
    let mut starts: Vec<(usize, u64)> = Vec::new();
    for e in &v.layout.extents {
        match &e.mapping {
            Mapping::Linear { source, offset } => starts.push((*source, offset.0)),
            Mapping::Striped { stripes, .. } => {
                starts.extend(stripes.iter().map(|(s, o)| (*s, o.0)));
            }
        }
    }
    let mut pvs = Vec::new();
    let mut devices = Vec::new();
    let dev_of = |source: usize| {
        scan.devices
            .get(source)
            .map(|d| (d.dev.map(|n| n.to_string()), d.path.display().to_string()))
    };
    if let Some(g) = vg_index.and_then(|g| scan.vgs.get(g)) {
        for found in g.pv_found.iter().flatten() {
            let Some(pv) = scan.pvs.get(*found) else {
                continue;
            };
            let Some(area) = scan.areas.get(pv.area) else {
                continue;
            };
            let holds = starts.iter().any(|&(s, at)| {
                s == area.source && at >= area.start.0 && at < area.start.0 + area.len.0
            });
            if holds {
                if let Some((dev, path)) = dev_of(area.source) {
                    let entry = (pv.label.pv_uuid.to_string(), dev, path);
                    if !pvs.contains(&entry) {
                        pvs.push(entry);
                    }
                }
            }
        }
    } else {
        for s in v.layout.sources() {
            if let Some(d) = dev_of(s) {
                devices.push(d);
            }
        }
    }
    CopyIdentity {
        lv,
        partition,
        pvs,
        devices,
    }
}
