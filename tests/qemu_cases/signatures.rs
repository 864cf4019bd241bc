//! The signed-root cases, for every kernel's suite, on the `signed` fixture: one VG whose
//! LVs hold the same image signed in different ways (tests/fixtures/README.md). With no
//! `roothash=` verinit takes the root hash from the image's root-verity-sig partition, puts
//! the PKCS#7 signature in the keyring and names it in the verity table
//! (`root_hash_sig_key_desc`); the kernel accepts or refuses it.
//!   - `qemu_cases!(signatures: KERNEL);`: a kernel that trusts `build/keys/trusted.crt`
//!     (the embedded ones, through CONFIG_SYSTEM_TRUSTED_KEYS): `tests/qemu_signatures.rs`
//!     on x86_64, `tests/qemu_embedded_arm64.rs` on arm64.
//!   - `qemu_cases!(untrusted_signatures: KERNEL);`: Debian's kernels, which do not trust
//!     the test key: a signed image boots with `roothash=` from the command line, and
//!     without it the kernel refuses the signature (ENOKEY), which shows verinit read the
//!     signature partition and passed it on (`tests/qemu_linux612.rs`).

use super::Kernel;
use crate::qemu::{qemu_fixture, root_hash, Booted};

/// The kernel loaded the test certificate into its trusted keyring.
fn assert_kernel_trusts_test_key(booted: &Booted) {
    assert!(
        booted
            .console
            .contains("Loaded X.509 cert 'verinit trusted test signing key"),
        "the kernel should have loaded build/keys/trusted.crt\n{}",
        booted.describe()
    );
}

/// The verity table named the signature, and the kernel then logged its verdict or not.
fn assert_signature_passed(booted: &Booted) {
    let text = booted.verinit_text();
    assert!(
        text.contains("add key user verinit:root:") && text.contains("root_hash_sig_key_desc"),
        "verinit should have put the signature in the keyring and named it in the table\n{}",
        booted.describe()
    );
}

// ---------------------------------------------------------------- a kernel that trusts the key

/// No roothash= at all: the root hash and its signature come from the image.
pub fn signed_image_boots_without_roothash(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    assert!(
        !fix.cmdline().contains("roothash"),
        "the fixture's command line should carry no root hash: {}",
        fix.cmdline()
    );
    let booted = kernel.run(kernel.boot_of_fixture("signed-no-roothash", &fix, ""));
    let pass = booted.assert_passed();
    assert_kernel_trusts_test_key(&booted);
    assert_signature_passed(&booted);
    let uuid = format!("CRYPT-VERITY-{}-root", &root_hash(&fix)[..32]);
    booted.assert_pass_says(&pass, "dm-uuid", &uuid);
    // The key is gone once the table is loaded.
    let text = booted.verinit_text();
    assert!(
        text.contains("remove key verinit:root:"),
        "verinit should take the key out of the keyring again\n{}",
        booted.describe()
    );
}

/// `dm_verity.require_signatures=1` with a root hash from the boot loader: the signature
/// is passed to the kernel too, and the image boots.
pub fn required_signature_with_roothash_boots(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let extra = format!(
        "roothash={} dm_verity.require_signatures=1",
        root_hash(&fix)
    );
    let booted = kernel.run(kernel.boot_of_fixture("signed-required", &fix, &extra));
    booted.assert_passed();
    assert_signature_passed(&booted);
}

/// Signed by a key the kernel does not trust: the kernel refuses the table (ENOKEY).
pub fn refuses_signature_by_untrusted_key(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let booted = kernel.run(kernel.boot(
        "signed-untrusted",
        &fix.image_paths(),
        "root=/dev/vg0/untrusted",
    ));
    booted.assert_refused(
        "poweroff",
        &["does not trust the key", "ENOKEY", "vg0/untrusted"],
    );
    assert_kernel_trusts_test_key(&booted);
    assert_signature_passed(&booted);
}

/// The trusted key's signature with one byte changed: the kernel rejects it.
pub fn refuses_tampered_signature(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let booted = kernel.run(kernel.boot(
        "signed-tampered",
        &fix.image_paths(),
        "root=/dev/vg0/tampered",
    ));
    booted.assert_refused(
        "poweroff",
        &["rejected the root hash signature", "EKEYREJECTED"],
    );
    assert_signature_passed(&booted);
}

/// Two copies of one image whose signatures the kernel refuses (tampered, then by an
/// untrusted key): a signature rejected by the kernel is not a copy's damage another copy
/// can get past, so verinit does not try the second copy.
pub fn rejected_signature_does_not_fall_back(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let booted = kernel.run(kernel.boot(
        "signed-no-fallback",
        &fix.image_paths(),
        "rd.lvm.lv=vg0/untrusted rd.lvm.lv=vg0/tampered",
    ));
    booted.assert_refused(
        "poweroff",
        &[
            "EKEYREJECTED",
            "copy vg0/tampered partition 1 failed in a way every copy would",
            "if vg0/tampered partition 1 fails: vg0/untrusted partition 1",
        ],
    );
    assert!(
        !booted.verinit_text().contains("trying copy 2"),
        "verinit must not try another copy after the kernel rejected a signature\n{}",
        booted.describe()
    );
}

/// A valid signature of another image's root hash: verinit refuses before any verity
/// table, because the hash tree beside it does not hash to that root hash.
pub fn refuses_signed_root_hash_of_another_image(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let booted = kernel.run(kernel.boot(
        "signed-wrong-hash",
        &fix.image_paths(),
        "root=/dev/vg0/wrong-hash",
    ));
    booted.assert_refused(
        "poweroff",
        &[
            "refusing to mount vg0/wrong-hash",
            "does not belong to the image",
        ],
    );
    assert!(
        !booted.console.contains("device-mapper: verity"),
        "no verity table may be loaded for a root hash that is not the image's\n{}",
        booted.describe()
    );
}

/// `dm_verity.require_signatures=1` and an image with no signature partition: refused
/// by verinit, naming the option.
pub fn required_signature_refuses_unsigned_image(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let cmdline = format!(
        "root=/dev/vg0/unsigned roothash={} dm_verity.require_signatures=1",
        root_hash(&fix)
    );
    let booted = kernel.run(kernel.boot("signed-required-unsigned", &fix.image_paths(), &cmdline));
    booted.assert_refused(
        "poweroff",
        &[
            "dm_verity.require_signatures=1",
            "no root-verity-sig partition",
        ],
    );
}

// ---------------------------------------------------------------- Debian's kernels

/// The `signed` fixture's image (in root=/dev/vg0/root's LV) with the root hash on the
/// command line: verinit reads the root-verity-sig partition, finds the signature
/// well-formed for this root hash, and leaves it out of the table (no
/// `dm_verity.require_signatures=1`); the root boots on a kernel that could not check it.
pub fn signed_image_with_roothash_boots(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let extra = format!("roothash={}", root_hash(&fix));
    let booted = kernel.run(kernel.boot_of_fixture("signed-roothash", &fix, &extra));
    let pass = booted.assert_passed();
    let uuid = format!("CRYPT-VERITY-{}-root", &root_hash(&fix)[..32]);
    booted.assert_pass_says(&pass, "dm-uuid", &uuid);
    let text = booted.verinit_text();
    assert!(
        !text.contains("add key") && !text.contains("root_hash_sig_key_desc"),
        "with roothash= and no dm_verity.require_signatures=1 the signature is not the \
         kernel's to check\n{}",
        booted.describe()
    );
}

/// No roothash=: the root hash and its signature come from the image's root-verity-sig
/// partition; verinit puts the signature in the keyring and names it in the table, and
/// the kernel, which does not trust the test key, refuses it (ENOKEY).
pub fn refuses_signature_kernel_does_not_trust(kernel: &Kernel) {
    let fix = qemu_fixture("signed");
    let booted =
        kernel.run(kernel.boot_of_fixture("signed-debian", &fix, "dm_verity.require_signatures=1"));
    booted.assert_refused("poweroff", &["does not trust the key", "ENOKEY"]);
    let text = booted.verinit_text();
    assert!(
        text.contains("module dm_verity: parameters require_signatures=1")
            && text.contains("add key user verinit:root:")
            && text.contains("root_hash_sig_key_desc verinit:root:"),
        "the module should get its parameter and the table the signature\n{}",
        booted.describe()
    );
}
