//! Signed root hashes, checked by the kernel: QEMU boots of the embedded-initramfs kernel
//! (`make kernel-embedded`), which trusts `build/keys/trusted.crt` (made by
//! `scripts/make-test-keys`, built in through CONFIG_SYSTEM_TRUSTED_KEYS), on the
//! `signed` fixture. The cases are in `tests/qemu_cases/signatures.rs`, which
//! `tests/qemu_embedded_arm64.rs` runs on the embedded arm64 kernel too.
//!
//! Each test is `needs_qemu_root_loop::*`: QEMU, root, loop devices and the embedded
//! kernel (about 5 minutes the first time on a machine). It fails, saying so, when one is
//! missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;
#[macro_use]
#[allow(dead_code)]
mod qemu_cases;

use qemu_cases::Kernel;

fn no_more_checks(_: &qemu::Booted) {}

/// `build/vmlinux-embedded` (`qemu::embedded`).
const EMBEDDED: Kernel = Kernel {
    prefix: "",
    prepare: qemu::embedded,
    check: no_more_checks,
};

/// The signature cases of tests/qemu_cases/signatures.rs.
mod needs_qemu_root_loop {
    qemu_cases!(signatures: super::EMBEDDED);
}
