//! A data block of the verified root is corrupted on disk: what the corruption policy of
//! `systemd.verity_root_options=` does then, on Debian's kernel with
//! `build/initramfs.cpio`. The cases are in `tests/qemu_cases/corruption.rs`, which
//! `tests/qemu_arm64.rs` runs on arm64 too.
//!
//! Each test is `needs_qemu_root_loop::*`: it needs QEMU, root and loop devices and
//! `make kernel initramfs`, and fails, saying so, when one is missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;
#[macro_use]
#[allow(dead_code)]
mod qemu_cases;

use qemu_cases::Kernel;

fn nothing() {}

fn no_more_checks(_: &qemu::Booted) {}

/// Debian's kernel with build/initramfs.cpio (`qemu::boot_files`).
const DEBIAN: Kernel = Kernel {
    prefix: "",
    prepare: nothing,
    check: no_more_checks,
};

/// The corruption policy cases of tests/qemu_cases/corruption.rs.
mod needs_qemu_root_loop {
    qemu_cases!(corruption: super::DEBIAN);
}
