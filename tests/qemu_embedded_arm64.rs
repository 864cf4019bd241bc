//! verinit as PID 1 in our own arm64 kernel: `build/arm64/vmlinux-embedded` (`make
//! kernel-embedded ARCH=arm64`, mk/embedded.mk: Debian's linux-source cross-compiled with
//! gcc-aarch64-linux-gnu, tinyconfig + initramfs/kernel.config +
//! initramfs/kernel-arm64.config, everything built in) is an arm64 `Image` carrying the
//! arm64 verinit as its built-in initramfs, so `qemu-system-aarch64 -M virt -cpu
//! cortex-a57` boots it with no -initrd and there are no modules to load. It trusts the
//! same test key as x86_64's embedded kernel (`build/keys/trusted.crt`), so the signed
//! roots are checked by the kernel here: every case of `tests/qemu_cases/signatures.rs`
//! runs, and the core cases of the table (every way to name the root, a late disk on a
//! pcie-root-port, a wrong root hash, a flipped byte). Same disks (made with `ARCH=arm64`),
//! same test root, same checks, and after every boot: the machine was arm64's virt and
//! QEMU had no -initrd. Helpers: `tests/qemu/mod.rs`.
//!
//! Each test is `needs_qemu_root_loop_embedded_arm64*`: it needs qemu-system-aarch64, root
//! and loop devices, and `make kernel-embedded ARCH=arm64` (about 8 minutes the first time
//! on a machine, seconds after that). It fails, saying so, when one is missing.
//! `VERINIT_TEST_ARM64_EMBEDDED_KERNEL` names another kernel with verinit built in (then
//! `make` is not run).

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;
#[macro_use]
#[allow(dead_code)]
mod qemu_cases;

use qemu::{use_arch, Arch, Booted};
use qemu_cases::Kernel;

/// arm64, then the embedded kernel of arm64 (`make kernel-embedded ARCH=arm64`).
fn embedded_arm64() {
    use_arch(Arch::Arm64);
    qemu::embedded();
}

/// The guest was arm64 on QEMU's virt machine with the PL011 console, QEMU had no
/// -initrd and the kernel found no initramfs but its own.
fn assert_embedded_arm64(booted: &Booted) {
    let qemu_line = booted.console.lines().next().unwrap_or_default();
    assert!(
        qemu_line.starts_with("qemu-boot: qemu-system-aarch64 ")
            && qemu_line.contains(" -M virt ")
            && qemu_line.contains("vmlinux-embedded")
            && !qemu_line.contains(" -initrd ")
            && booted.console.contains("console=ttyAMA0")
            && !booted.console.contains("Unpacking initramfs"),
        "the boot should have been build/arm64/vmlinux-embedded on qemu-system-aarch64 -M \
         virt, console=ttyAMA0, with no -initrd\n{}",
        booted.describe()
    );
}

/// `build/arm64/vmlinux-embedded`, checked after every boot.
const EMBEDDED_ARM64: Kernel = Kernel {
    prefix: "embedded-",
    prepare: embedded_arm64,
    check: assert_embedded_arm64,
};

/// The signature cases of tests/qemu_cases/signatures.rs: this kernel trusts the test key.
mod needs_qemu_root_loop_embedded_arm64_signatures {
    qemu_cases!(signatures: super::EMBEDDED_ARM64);
}

/// The core cases of tests/qemu_cases/.
mod needs_qemu_root_loop_embedded_arm64 {
    qemu_cases!(core: super::EMBEDDED_ARM64);
}
