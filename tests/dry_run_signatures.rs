//! Signed root hashes in the dry run, on the `signed` fixture (tests/fixtures/README.md:
//! one VG whose LVs hold the same image signed in different ways, by the test keys of
//! `scripts/make-test-keys`). What the dry run says of a signature (signer, serial,
//! certificate fingerprint) is compared with openssl's own report of the certificate.
//! The kernel's verdict on the signatures is tested in tests/qemu_signatures.rs.
//!
//! Each `needs_root_loop_*` test needs root and loop devices (make-fixture) and fails,
//! saying so, without them.

mod common;

use common::{dry_run, fixture, str_of, test_keys, DryRun, Fixture};
use serde_json::Value;
use std::process::Command;

fn images(fix: &Fixture) -> Vec<String> {
    fix.image_paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

/// `openssl x509 -noout <flags>` of a test certificate: `serial=...`, `sha256 Fingerprint=...`.
fn openssl_x509(cert: &str, flags: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout"])
        .args(flags)
        .arg("-in")
        .arg(test_keys().join(cert))
        .output()
        .expect("run openssl");
    assert!(out.status.success(), "openssl x509 {flags:?} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let value = text
        .trim()
        .split_once('=')
        .expect("openssl prints key=value")
        .1;
    value.replace(':', "").to_lowercase()
}

fn steps(run: &DryRun) -> Vec<Value> {
    run.json["plan"]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no plan\n{}", run.describe()))
        .clone()
}

fn verity_line(run: &DryRun) -> String {
    steps(run)
        .iter()
        .filter(|s| s["kind"] == "dm-create")
        .flat_map(|s| s["table"].as_array().cloned().unwrap_or_default())
        .map(|l| str_of(&l).to_string())
        .find(|l| l.contains(" verity "))
        .unwrap_or_else(|| panic!("no verity table\n{}", run.describe()))
}

/// No roothash=: the root hash comes from the signature partition, the signature goes to
/// the kernel through the keyring, and the report names the signer as openssl does.
#[test]
fn needs_root_loop_signed_image_without_roothash() {
    let fix = fixture("signed");
    let hash = str_of(&fix.expect["verity"]["root_hash"]).to_string();
    let run = dry_run("root=/dev/vg0/signed", &images(&fix), false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert_eq!(run.json["root_hash"], hash.as_str());
    let c = &run.json["candidates"][0];
    assert_eq!(c["root_hash_from"]["signature"], "vg0/signed partition 3");
    assert_eq!(c["signature_to_kernel"], true);
    let signer = str_of(&c["signers"][0]["id"]);
    // openssl prints the serial's bytes in hex; verinit leaves out leading zero bytes
    // (not digits: 0x029c... stays 029c...).
    let mut serial = openssl_x509("trusted.crt", &["-serial"]);
    while serial.len() > 2 && serial.starts_with("00") {
        serial.drain(..2);
    }
    assert_eq!(
        signer,
        format!("CN=verinit trusted test signing key serial {serial}")
    );
    assert_eq!(c["signers"][0]["digest"], "sha256");

    // The signature in the key step is the one in the partition, byte for byte.
    let sig_json: Value = serde_json::from_str(
        std::fs::read_to_string(fix.dir.join("signed.sig.json"))
            .expect("signed.sig.json")
            .trim_end_matches('\0'),
    )
    .expect("the signature partition is JSON");
    let der_len = {
        let b64 = str_of(&sig_json["signature"]);
        b64.len() / 4 * 3 - b64.bytes().rev().take_while(|&c| c == b'=').count()
    };
    let desc = format!("verinit:root:{hash}");
    let steps = steps(&run);
    let kinds: Vec<&str> = steps.iter().map(|s| str_of(&s["kind"])).collect();
    let add = kinds
        .iter()
        .position(|k| *k == "add-key")
        .expect("an add-key step");
    let remove = kinds
        .iter()
        .position(|k| *k == "remove-key")
        .expect("a remove-key step");
    assert!(add < remove && kinds[add + 1] == "dm-create", "{kinds:?}");
    assert_eq!(steps[add]["description"], desc.as_str());
    assert_eq!(steps[add]["size"], der_len);
    assert!(
        verity_line(&run).ends_with(&format!(" 2 root_hash_sig_key_desc {desc}")),
        "{}",
        verity_line(&run)
    );

    // The text report: signer, openssl's certificate fingerprint, who checks it.
    let out = common::verinit()
        .args(["--dry-run", "--cmdline", "root=/dev/vg0/signed"])
        .arg(&fix.image_paths()[0])
        .output()
        .expect("run verinit");
    let text = String::from_utf8_lossy(&out.stdout);
    let fingerprint = openssl_x509("trusted.crt", &["-fingerprint", "-sha256"]);
    for want in [
        "(the rootHash of vg0/signed partition 3; no roothash= given)",
        &format!("certificate SHA-256 {fingerprint}"),
        "passed to the kernel, which checks it against its trusted keys",
        "result: the boot would succeed if the kernel trusts the key",
    ] {
        assert!(text.contains(want), "want {want:?}\n{text}");
    }
}

/// With roothash= the signature is reported but not used, unless
/// dm_verity.require_signatures=1 asks for it.
#[test]
fn needs_root_loop_signature_used_only_when_needed() {
    let fix = fixture("signed");
    let hash = str_of(&fix.expect["verity"]["root_hash"]).to_string();
    let plain = dry_run(
        &format!("root=/dev/vg0/signed roothash={hash}"),
        &images(&fix),
        false,
    );
    assert_eq!(plain.code, Some(0), "{}", plain.describe());
    assert_eq!(plain.json["candidates"][0]["signature_to_kernel"], false);
    assert!(!steps(&plain).iter().any(|s| s["kind"] == "add-key"));
    assert!(!verity_line(&plain).contains("root_hash_sig_key_desc"));

    let required = dry_run(
        &format!("root=/dev/vg0/signed roothash={hash} dm-verity.require-signatures=1"),
        &images(&fix),
        false,
    );
    assert_eq!(required.code, Some(0), "{}", required.describe());
    assert!(verity_line(&required).contains("root_hash_sig_key_desc"));
}

/// root-hash-signature=base64:... gives the signature on the command line, for an image
/// that carries none.
#[test]
fn needs_root_loop_signature_from_the_command_line() {
    let fix = fixture("signed");
    let hash = str_of(&fix.expect["verity"]["root_hash"]).to_string();
    let text = std::fs::read_to_string(fix.dir.join("signed.sig.json")).expect("sig json");
    let sig: Value = serde_json::from_str(text.trim_end_matches('\0')).expect("JSON");
    let cmdline = format!(
        "root=/dev/vg0/unsigned roothash={hash} systemd.verity_root_options=root-hash-signature=base64:{}",
        str_of(&sig["signature"])
    );
    let run = dry_run(&cmdline, &images(&fix), false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let add = steps(&run)
        .into_iter()
        .find(|s| s["kind"] == "add-key")
        .unwrap_or_else(|| panic!("no add-key step\n{}", run.describe()));
    assert_eq!(add["from"], "root-hash-signature=");
}

/// What must be refused, and the words that say why.
#[test]
fn needs_root_loop_signature_refusals() {
    let fix = fixture("signed");
    let hash = str_of(&fix.expect["verity"]["root_hash"]).to_string();
    let cases = [
        ("root=/dev/vg0/unsigned".to_string(), "has no root-verity-sig partition"),
        (
            format!("root=/dev/vg0/unsigned roothash={hash} dm_verity.require_signatures=1"),
            "dm_verity.require_signatures=1 asks for a signed root hash",
        ),
        ("root=/dev/vg0/wrong-hash".to_string(), "does not belong to the image beside it"),
        (String::new(), "no root hash and no volume"),
        (
            format!("root=/dev/vg0/signed roothash={hash} systemd.verity_root_options=root-hash-signature=/etc/root.p7s"),
            "verinit reads no signature files",
        ),
        (
            format!("root=/dev/vg0/unsigned roothash={hash} systemd.verity_root_options=root-hash-signature=base64:MIIB"),
            "not a PKCS#7 signature",
        ),
    ];
    for (cmdline, why) in cases {
        let run = dry_run(&cmdline, &images(&fix), false);
        assert_eq!(run.code, Some(1), "{cmdline}\n{}", run.describe());
        let error = str_of(&run.json["error"]);
        assert!(error.contains(why), "{cmdline}: want {why:?} in {error}");
    }
}
