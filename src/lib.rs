//! verinit: a one-binary initramfs that finds the root volume on LVM or GPT, sets up
//! dm-verity on it and switches into it. Parse, plan, act: everything up to the `Plan`
//! is pure and shared by the boot and `verinit --dry-run`.

pub mod boot;
pub mod cli;
pub mod cmdline;
pub mod disk;
pub mod dm_table;
pub mod dry_run;
pub mod id;
pub mod lvm;
pub mod plan;
pub mod report;
pub mod scan;
pub mod units;
pub mod verity;
