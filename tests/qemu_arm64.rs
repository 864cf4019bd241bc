//! verinit as PID 1 on arm64: Debian's arm64 kernel (`build/arm64/vmlinux`, an
//! uncompressed `Image`) boots `build/arm64/initramfs.cpio` (the arm64 binary, the arm64
//! modules), both from `make kernel initramfs ARCH=arm64`, in `qemu-system-aarch64 -M virt
//! -cpu cortex-a57` under TCG (`scripts/qemu-boot --arch arm64`), on disk images made by
//! the real tools with `ARCH=arm64` (the root's DPS partitions are of arm64's types:
//! root-arm64, root-arm64-verity, root-arm64-verity-sig), whose root is `rootfs-skel/`
//! with Debian's arm64 busybox. The console is ttyAMA0. The root's init ends QEMU through
//! Arm semihosting SYS_EXIT (`/usr/lib/verinit-test/semihost-exit`, `-semihosting-config
//! enable=on,target=native,userspace=on`) with the statuses of x86's isa-debug-exit: 3 for
//! a pass, 5 for a failure; 0 is a PSCI power-off or reset (verinit's failure policy, a
//! panic), never a pass. Helpers: `tests/qemu/mod.rs`; cases: `tests/qemu_cases/`.
//!
//! A TCG boot of arm64 costs about twice an x86 one (Debian's arm64 kernel starts slower
//! and loads its modules slower), so this suite runs the core cases of the table (every
//! way to name the root, a late disk, a wrong root hash, a flipped byte), the corruption
//! policy, and what of signatures Debian's kernel can do: it does not trust the test key
//! (that needs a kernel built with it, the embedded one), so a signed image boots with
//! `roothash=` from the command line, and without it the kernel refuses the signature
//! (ENOKEY), which shows verinit read the arm64 signature partition and passed it on.
//!
//! Each test is `needs_qemu_root_loop_arm64*`: it needs qemu-system-aarch64, root and loop
//! devices, `make kernel initramfs ARCH=arm64` (the one download: Debian's arm64 kernel
//! through apt's private arm64 state, scripts/apt-arch) and aarch64-linux-gnu-gcc (for the
//! semihosting helper). It fails, saying so, when one is missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;
#[macro_use]
#[allow(dead_code)]
mod qemu_cases;

use qemu::{use_arch, Arch, Booted};
use qemu_cases::Kernel;

fn arm64() {
    use_arch(Arch::Arm64);
}

/// The guest was arm64 on QEMU's virt machine, its console the PL011.
fn assert_arm64_machine(booted: &Booted) {
    let qemu_line = booted.console.lines().next().unwrap_or_default();
    assert!(
        qemu_line.starts_with("qemu-boot: qemu-system-aarch64 ")
            && qemu_line.contains(" -M virt -cpu cortex-a57 ")
            && booted.console.contains("console=ttyAMA0"),
        "the boot should have been qemu-system-aarch64 -M virt with console=ttyAMA0\n{}",
        booted.describe()
    );
}

/// Debian's arm64 kernel with build/arm64/initramfs.cpio.
const ARM64: Kernel = Kernel {
    prefix: "",
    prepare: arm64,
    check: assert_arm64_machine,
};

/// The core cases of tests/qemu_cases/.
mod needs_qemu_root_loop_arm64 {
    qemu_cases!(core: super::ARM64);
}

/// The corruption policy cases of tests/qemu_cases/corruption.rs.
mod needs_qemu_root_loop_arm64_corruption {
    qemu_cases!(corruption: super::ARM64);
}

/// The signed root as Debian's kernel can check it (tests/qemu_cases/signatures.rs): with
/// roothash= it boots, the signature left out of the table; without, the kernel refuses
/// the test key (ENOKEY). `tests/qemu_embedded_arm64.rs` boots signed roots on a kernel
/// that trusts it.
mod needs_qemu_root_loop_arm64_signatures {
    qemu_cases!(untrusted_signatures: super::ARM64);
}
