//! Signed root hashes, checked by the kernel: QEMU boots of the embedded-initramfs kernel
//! (`make kernel-embedded`), which trusts `build/keys/trusted.crt` (made by
//! `scripts/make-test-keys`, built in through CONFIG_SYSTEM_TRUSTED_KEYS), on the
//! `signed` fixture: one VG whose LVs hold the same image signed in different ways
//! (tests/fixtures/README.md). With no `roothash=` verinit takes the root hash from the
//! image's root-verity-sig partition, puts the PKCS#7 signature in the keyring and names
//! it in the verity table (`root_hash_sig_key_desc`); the kernel accepts or refuses it.
//!
//! Each test is `needs_qemu_root_loop_*`: QEMU, root, loop devices and the embedded kernel
//! (about 5 minutes the first time on a machine). It fails, saying so, when one is missing.

mod common;
// Not every helper of tests/qemu is used here.
#[allow(dead_code)]
mod qemu;

use qemu::{embedded, qemu_fixture, root_hash, Boot, Booted};

/// The kernel loaded the test certificate into its trusted keyring.
fn assert_kernel_trusts_test_key(booted: &Booted) {
    assert!(
        booted
            .console
            .contains("Loaded X.509 cert 'verinit trusted test signing key"),
        "the embedded kernel should have loaded build/keys/trusted.crt\n{}",
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

/// No roothash= at all: the root hash and its signature come from the image.
#[test]
fn needs_qemu_root_loop_signed_image_boots_without_roothash() {
    embedded();
    let fix = qemu_fixture("signed");
    assert!(
        !fix.cmdline().contains("roothash"),
        "the fixture's command line should carry no root hash: {}",
        fix.cmdline()
    );
    let booted = Boot::of_fixture("signed-no-roothash", &fix, "").run();
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
#[test]
fn needs_qemu_root_loop_required_signature_with_roothash_boots() {
    embedded();
    let fix = qemu_fixture("signed");
    let extra = format!(
        "roothash={} dm_verity.require_signatures=1",
        root_hash(&fix)
    );
    let booted = Boot::of_fixture("signed-required", &fix, &extra).run();
    booted.assert_passed();
    assert_signature_passed(&booted);
}

/// Signed by a key the kernel does not trust: the kernel refuses the table (ENOKEY).
#[test]
fn needs_qemu_root_loop_refuses_signature_by_untrusted_key() {
    embedded();
    let fix = qemu_fixture("signed");
    let booted = Boot::new(
        "signed-untrusted",
        &fix.image_paths(),
        "root=/dev/vg0/untrusted",
    )
    .run();
    booted.assert_refused(
        "poweroff",
        &["does not trust the key", "ENOKEY", "vg0/untrusted"],
    );
    assert_kernel_trusts_test_key(&booted);
    assert_signature_passed(&booted);
}

/// The trusted key's signature with one byte changed: the kernel rejects it.
#[test]
fn needs_qemu_root_loop_refuses_tampered_signature() {
    embedded();
    let fix = qemu_fixture("signed");
    let booted = Boot::new(
        "signed-tampered",
        &fix.image_paths(),
        "root=/dev/vg0/tampered",
    )
    .run();
    booted.assert_refused(
        "poweroff",
        &["rejected the root hash signature", "EKEYREJECTED"],
    );
    assert_signature_passed(&booted);
}

/// Two copies of one image whose signatures the kernel refuses (tampered, then by an
/// untrusted key): a signature rejected by the kernel is not a copy's damage another copy
/// can get past, so verinit does not try the second copy.
#[test]
fn needs_qemu_root_loop_rejected_signature_does_not_fall_back() {
    embedded();
    let fix = qemu_fixture("signed");
    let booted = Boot::new(
        "signed-no-fallback",
        &fix.image_paths(),
        "rd.lvm.lv=vg0/untrusted rd.lvm.lv=vg0/tampered",
    )
    .run();
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
#[test]
fn needs_qemu_root_loop_refuses_signed_root_hash_of_another_image() {
    embedded();
    let fix = qemu_fixture("signed");
    let booted = Boot::new(
        "signed-wrong-hash",
        &fix.image_paths(),
        "root=/dev/vg0/wrong-hash",
    )
    .run();
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
#[test]
fn needs_qemu_root_loop_required_signature_refuses_unsigned_image() {
    embedded();
    let fix = qemu_fixture("signed");
    let cmdline = format!(
        "root=/dev/vg0/unsigned roothash={} dm_verity.require_signatures=1",
        root_hash(&fix)
    );
    let booted = Boot::new("signed-required-unsigned", &fix.image_paths(), &cmdline).run();
    booted.assert_refused(
        "poweroff",
        &[
            "dm_verity.require_signatures=1",
            "no root-verity-sig partition",
        ],
    );
}
