//! What a phase or step cost besides time, for the boot log: the reads verinit asked for
//! (its own counters, `disk::source::counters`), the read requests the disks completed
//! (`/proc/diskstats`, whole disks only, so a dm device's reads are counted once, on the
//! disk below it), and how often verinit waited (voluntary context switches,
//! getrusage). Waits are what a slow card or eMMC makes expensive, and what QEMU's
//! instruction-counting clock charges for: each one idles the CPU until the disk answers.

use std::fmt;

use crate::disk::source::counters;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoCounts {
    /// pread calls and the bytes they asked for.
    pub reads: u64,
    pub read_bytes: u64,
    /// Prefetch hints (readahead(2)).
    pub prefetches: u64,
    /// Read requests the whole disks completed, and the sectors they read.
    pub disk_reads: u64,
    pub disk_sectors: u64,
    /// Voluntary context switches of all of verinit's threads.
    pub waits: u64,
}

impl IoCounts {
    pub fn now() -> IoCounts {
        let (reads, read_bytes, prefetches) = counters::get();
        let (disk_reads, disk_sectors) = disk_stats();
        IoCounts {
            reads,
            read_bytes,
            prefetches,
            disk_reads,
            disk_sectors,
            waits: voluntary_switches(),
        }
    }

    /// The counts since `earlier`.
    pub fn since(&self, earlier: &IoCounts) -> IoCounts {
        IoCounts {
            reads: self.reads.saturating_sub(earlier.reads),
            read_bytes: self.read_bytes.saturating_sub(earlier.read_bytes),
            prefetches: self.prefetches.saturating_sub(earlier.prefetches),
            disk_reads: self.disk_reads.saturating_sub(earlier.disk_reads),
            disk_sectors: self.disk_sectors.saturating_sub(earlier.disk_sectors),
            waits: self.waits.saturating_sub(earlier.waits),
        }
    }
}

/// `12 preads (40 KiB), 3 prefetches, 9 disk reads (212 KiB), 4 waits`
impl fmt::Display for IoCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} preads ({} KiB), {} prefetches, {} disk reads ({} KiB), {} waits",
            self.reads,
            self.read_bytes.div_ceil(1024),
            self.prefetches,
            self.disk_reads,
            (self.disk_sectors * 512).div_ceil(1024),
            self.waits
        )
    }
}

fn voluntary_switches() -> u64 {
    // SAFETY: getrusage writes one rusage into the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0;
    }
    u64::try_from(usage.ru_nvcsw).unwrap_or(0)
}

/// Reads completed and sectors read, summed over whole disks (those in /sys/block) that
/// are not dm devices. (0, 0) without /proc or /sys.
fn disk_stats() -> (u64, u64) {
    let Ok(text) = std::fs::read_to_string("/proc/diskstats") else {
        return (0, 0);
    };
    // Whether a name is a whole disk, looked up in sysfs once per name: this runs twice
    // a step, and each lookup costs more than the read of /proc/diskstats.
    static WHOLE: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut known) = WHOLE.lock() else {
        return (0, 0);
    };
    sum_disk_stats(&text, |name| {
        if let Some((_, whole)) = known.iter().find(|(n, _)| n == name) {
            return *whole;
        }
        let whole =
            !name.starts_with("dm-") && std::path::Path::new("/sys/block").join(name).exists();
        known.push((name.to_string(), whole));
        whole
    })
}

/// `/proc/diskstats` (Documentation/admin-guide/iostats.rst): major minor name, then
/// reads completed, reads merged, sectors read, ...
fn sum_disk_stats(text: &str, mut whole_disk: impl FnMut(&str) -> bool) -> (u64, u64) {
    let mut total = (0u64, 0u64);
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(reads), Some(sectors)) = (f.get(2), f.get(3), f.get(5)) else {
            continue;
        };
        if !whole_disk(name) {
            continue;
        }
        let (Ok(r), Ok(s)) = (reads.parse::<u64>(), sectors.parse::<u64>()) else {
            continue;
        };
        total = (total.0.saturating_add(r), total.1.saturating_add(s));
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diskstats_sums_whole_disks_only() {
        let text = " 254       0 vda 120 3 9000 40 0 0 0 0 0 52 40 0 0 0 0 0 0\n \
                    254       2 vda2 100 0 8000 30 0 0 0 0 0 40 30 0 0 0 0 0 0\n \
                    253       0 dm-0 7 0 56 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n \
                      7       0 loop0 5 0 40 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n\
                    garbage\n";
        let disks = ["vda", "loop0"];
        assert_eq!(sum_disk_stats(text, |n| disks.contains(&n)), (125, 9040));
        assert_eq!(sum_disk_stats("", |_| true), (0, 0));
    }

    #[test]
    fn counts_subtract_and_print() {
        let a = IoCounts {
            reads: 3,
            read_bytes: 2048,
            prefetches: 1,
            disk_reads: 2,
            disk_sectors: 16,
            waits: 1,
        };
        let b = IoCounts {
            reads: 13,
            read_bytes: 43008,
            prefetches: 5,
            disk_reads: 11,
            disk_sectors: 440,
            waits: 5,
        };
        let d = b.since(&a);
        assert_eq!(
            d.to_string(),
            "10 preads (40 KiB), 4 prefetches, 9 disk reads (212 KiB), 4 waits"
        );
        assert_eq!(a.since(&b), IoCounts::default(), "never negative");
    }
}
