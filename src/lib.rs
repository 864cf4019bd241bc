//! verinit: a one-binary initramfs that finds the root volume on LVM or GPT, sets up
//! dm-verity on it and switches into it. Parse, plan, act: everything up to the `Plan`
//! is pure and shared by the boot and `verinit --dry-run`.

pub mod boot;
pub mod cli;
pub mod cmdline;
pub mod crc32;
pub mod devices;
pub mod dm_table;
pub mod dps;
pub mod dry_run;
pub mod fs_probe;
pub mod fuzz_targets;
pub mod gpt_table;
pub mod id;
pub mod layout;
pub mod lvm;
pub mod plan;
pub mod scan;
pub mod source;
pub mod units;
pub mod verity;
