//! verinit: a one-binary initramfs that finds the root volume on LVM or GPT, sets up
//! dm-verity on it and switches into it. Parse, plan, act: everything up to the `Plan`
//! is pure and shared by the boot and `verinit --dry-run`.
//!
//! One module per stage of the flow, each using only those before it (tests aside):
//!   `cmdline`  the kernel command line, as typed boot arguments
//!   `disk`     the disk-format readers: byte sources, devices, GPT, DPS, filesystems,
//!              volume layouts, CRC-32
//!   `lvm`      LVM2 labels, metadata areas and volume groups, read from the disks
//!   `verity`   dm-verity superblocks, parameters, hash trees and signatures
//!   `scan`     what the disks hold: the planner's input
//!   `plan`     the planner: boot arguments and scan to the ordered steps of the boot
//!   `report`   what was found and decided, as text and JSON: the dry run prints it,
//!              and the boot when it fails
//!   `boot`     PID 1: carries the plan out through one trait over the syscalls
//! and the entry points beside them: `cli` (the binary's command line) and `dry_run`.
//! `units`, `id` and `dm_table` are the words every stage uses: sectors and bytes,
//! identifiers, device-mapper table lines; `dm_versions` says which kernel a table's
//! verity options need.

pub mod boot;
pub mod cli;
pub mod cmdline;
pub mod disk;
pub mod dm_table;
pub mod dm_versions;
pub mod dry_run;
pub mod heap;
pub mod id;
pub mod lvm;
pub mod plan;
pub mod report;
pub mod scan;
pub mod units;
pub mod verity;
