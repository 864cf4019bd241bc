//! A verity option the kernel's dm-verity predates is refused before the table is
//! loaded, naming the kernel it needs: on Debian's Linux 6.1, veritytab's
//! `error-as-corruption` (the kernel's `restart_on_error`, Linux 6.12) stops the boot
//! with the version the kernel reported (DM_LIST_VERSIONS) and "Linux 6.12 or later";
//! nothing of the root runs, and no second copy is tried (every copy meets the same
//! kernel). `tests/qemu_linux612.rs` boots the same option on 6.12.
//!
//! Each test is `needs_qemu_root_loop_*`: it needs QEMU, root and loop devices and
//! `make kernel initramfs`, and fails, saying so, when one is missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;

use qemu::{qemu_fixture, Boot};

#[test]
fn needs_qemu_root_loop_linux_6_1_refuses_error_as_corruption_before_loading_the_table() {
    let fix = qemu_fixture("one-pv");
    let booted = Boot::of_fixture(
        "error-as-corruption-on-6.1",
        &fix,
        "systemd.verity_root_options=restart-on-corruption,error-as-corruption",
    )
    .run();
    booted.assert_refused(
        "poweroff",
        &[
            "the kernel's dm-verity target is version 1.",
            "older than 1.10.0 which restart_on_error needs (linux 6.12 or later)",
            "error-as-corruption",
        ],
    );
    assert!(
        !booted.console.contains("device-mapper: table:")
            && !booted.console.contains("Unrecognized verity feature"),
        "the table must not reach the kernel\n{}",
        booted.describe()
    );
    let text = booted.verinit_text();
    let version = text
        .split("dm-verity target is version ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or("?");
    eprintln!("Linux 6.1's dm-verity reports version {version}");
}
