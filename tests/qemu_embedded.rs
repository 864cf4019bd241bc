//! verinit as PID 1 in a kernel of our own: `build/vmlinux-embedded` (`make
//! kernel-embedded`, mk/embedded.mk: Debian's linux-source, tinyconfig +
//! initramfs/kernel.config, everything built in) carries verinit as its built-in
//! initramfs, so QEMU boots it with no -initrd and there are no modules to load. The
//! cases are the table of `tests/qemu_cases/`, which `tests/qemu_boot.rs` runs too: every
//! boot that must pass, and three refusals that need the kernel's own parts (ACPI
//! poweroff, verinit's failure policy; a reboot; dm-verity rejecting a corrupted block).
//! Same disks, same test root, same checks, and after every boot: QEMU had no -initrd.
//! Helpers in `tests/qemu/mod.rs`.
//!
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU, root and loop devices, and `make
//! kernel-embedded` (about 5 minutes the first time on a machine, seconds after that).
//! It fails, saying so, when one is missing. `VERINIT_TEST_EMBEDDED_KERNEL` names another
//! kernel with verinit built in (then `make` is not run).

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;
#[macro_use]
mod qemu_cases;

use qemu_cases::Kernel;

/// `build/vmlinux-embedded` (`qemu::embedded`), checked for no -initrd after every boot.
const EMBEDDED: Kernel = Kernel {
    prefix: "embedded-",
    prepare: qemu::embedded,
    check: assert_no_initrd,
};

/// The cases of tests/qemu_cases/.
mod needs_qemu_root_loop_embedded {
    qemu_cases!(super::EMBEDDED);
}

/// QEMU had no -initrd, and the kernel found no initramfs but its own.
fn assert_no_initrd(booted: &qemu::Booted) {
    let qemu_line = booted.console.lines().next().unwrap_or_default();
    assert!(
        qemu_line.starts_with("qemu-boot: ")
            && !qemu_line.contains(" -initrd ")
            && !booted.console.contains("unpack rootfs image as initramfs")
            && !booted.console.contains("Unpacking initramfs"),
        "the boot should have had no -initrd\n{}",
        booted.describe()
    );
}
