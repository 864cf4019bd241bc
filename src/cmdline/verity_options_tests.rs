//! Tests of veritytab option parsing (`verity_options.rs`).
//! Test code only: its module is declared under #[cfg(test)].

use super::*;
use crate::cmdline::lvm_name::VgLv;

const GUID: &str = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";

fn opts(f: impl FnOnce(&mut VerityOptions)) -> VerityOptions {
    let mut o = VerityOptions::default();
    f(&mut o);
    o
}

#[test]
fn good_options() {
    let cases: Vec<(&str, VerityOptions)> = vec![
        ("", VerityOptions::default()),
        (",,", VerityOptions::default()),
        ("superblock=no", opts(|o| o.superblock = Some(false))),
        ("superblock=1", opts(|o| o.superblock = Some(true))),
        ("format=0", opts(|o| o.format = Some(0))),
        ("format=1", opts(|o| o.format = Some(1))),
        (
            "data-block-size=4096",
            opts(|o| o.data_block_size = Some(4096)),
        ),
        (
            "hash-block-size=512",
            opts(|o| o.hash_block_size = Some(512)),
        ),
        (
            "hash-block-size=65536",
            opts(|o| o.hash_block_size = Some(65536)),
        ),
        ("data-blocks=262144", opts(|o| o.data_blocks = Some(262144))),
        (
            "hash-offset=1073741824",
            opts(|o| o.hash_offset = Some(1 << 30)),
        ),
        ("hash-offset=0", opts(|o| o.hash_offset = Some(0))),
        ("salt=-", opts(|o| o.salt = Some(vec![]))),
        ("salt=", opts(|o| o.salt = Some(vec![]))),
        ("salt=00FFab", opts(|o| o.salt = Some(vec![0, 0xff, 0xab]))),
        (
            "uuid=4F68BCE3-e8cd-4db1-96e7-fbcaf984b709",
            opts(|o| o.uuid = Guid::parse(GUID).ok()),
        ),
        ("hash=SHA256", opts(|o| o.hash = Some("sha256".into()))),
        ("hash=sha3-256", opts(|o| o.hash = Some("sha3-256".into()))),
        (
            "ignore-corruption",
            opts(|o| o.corruption = Some(CorruptionMode::Ignore)),
        ),
        (
            "restart-on-corruption",
            opts(|o| o.corruption = Some(CorruptionMode::Restart)),
        ),
        (
            "panic-on-corruption",
            opts(|o| o.corruption = Some(CorruptionMode::Panic)),
        ),
        (
            "panic-on-corruption,panic-on-corruption",
            opts(|o| o.corruption = Some(CorruptionMode::Panic)),
        ),
        (
            "restart-on-corruption,error-as-corruption",
            opts(|o| {
                o.corruption = Some(CorruptionMode::Restart);
                o.error_as_corruption = true;
            }),
        ),
        (
            "error-as-corruption,panic-on-corruption",
            opts(|o| {
                o.corruption = Some(CorruptionMode::Panic);
                o.error_as_corruption = true;
            }),
        ),
        ("ignore-zero-blocks", opts(|o| o.ignore_zero_blocks = true)),
        ("check-at-most-once", opts(|o| o.check_at_most_once = true)),
        (
            "fec-device=/dev/vg0/fec",
            opts(|o| o.fec_device = VgLv::new("vg0", "fec").ok().map(DeviceSpec::Lv)),
        ),
        (
            "fec-device=PARTLABEL=a\\,b",
            opts(|o| o.fec_device = Some(DeviceSpec::PartLabel("a,b".into()))),
        ),
        ("fec-offset=4096", opts(|o| o.fec_offset = Some(4096))),
        ("fec-roots=2", opts(|o| o.fec_roots = Some(2))),
        ("fec-roots=24", opts(|o| o.fec_roots = Some(24))),
        (
            "root-hash-signature=/run/root.p7s",
            opts(|o| o.root_hash_signature = Some("/run/root.p7s".into())),
        ),
        (
            "root-hash-signature=base64:MIIB",
            opts(|o| o.root_hash_signature = Some("base64:MIIB".into())),
        ),
        // The last of a repeated key counts.
        ("format=0,format=1", opts(|o| o.format = Some(1))),
        (
            "superblock=false,hash-offset=4096,data-blocks=8,salt=ab,panic-on-corruption",
            opts(|o| {
                o.superblock = Some(false);
                o.hash_offset = Some(4096);
                o.data_blocks = Some(8);
                o.salt = Some(vec![0xab]);
                o.corruption = Some(CorruptionMode::Panic);
            }),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(VerityOptions::parse(text), Ok(expected), "{text:?}");
    }
}

#[test]
fn bad_options_and_near_misses() {
    let long_salt = format!("salt={}", "00".repeat(257));
    let cases = [
        "superblock",
        "superblock=maybe",
        "format=2",
        "format=",
        "data-block-size=4095",
        "data-block-size=256",
        "data-block-size=131072",
        "data-block-size=4k",
        "hash-block-size=0",
        "data-blocks=-1",
        "data-blocks",
        "hash-offset=1000",
        "hash-offset=0x1000",
        "salt=abc",
        "salt=xy",
        &long_salt,
        "uuid=nope",
        "uuid=4f68bce3e8cd4db196e7fbcaf984b709",
        "hash=",
        "hash=sha_256",
        "hash=sha256!",
        "ignore-corruption,panic-on-corruption",
        "restart-on-corruption,ignore-corruption",
        "ignore-corruption=1",
        "ignore-zero-blocks=yes",
        "fec-device=",
        "fec-device=/dev/disk/by-id/x",
        "fec-device=ddi:lvm:vg0/fec",
        "fec-offset=100",
        "fec-roots=1",
        "fec-roots=25",
        "root-hash-signature=root.p7s",
        "root-hash-signature=",
        // Near misses and typos: the writer meant something.
        "data_block_size=4096",
        "data-block-sizes=4096",
        "superblocks=no",
        "hashoffset=4096",
        "ignore-corruptions",
        "panic-on-error",
        "restart-on-error",
        "restart_on_error",
        // error-as-corruption restarts or panics: it needs a mode that does.
        "error-as-corruption",
        "ignore-corruption,error-as-corruption",
        "error-as-corruption=1",
        "noauto",
        "nofail",
    ];
    for text in cases {
        assert!(VerityOptions::parse(text).is_err(), "{text:?} parsed");
    }
}

#[test]
fn every_bad_item_is_reported() {
    let errors = VerityOptions::parse("format=7,hash=sha256,salt=q,bogus").unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with("veritytab option 'format=7': "),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("veritytab option 'salt=q': "),
        "{errors:?}"
    );
    assert!(errors[2].contains("unknown key 'bogus'"), "{errors:?}");
    let hint = VerityOptions::parse("hash_offset=4096").unwrap_err();
    assert!(hint[0].contains("did you mean hash-offset?"), "{hint:?}");
    let hint = VerityOptions::parse("panic_on_error").unwrap_err();
    assert!(
        hint[0].contains(
            "the kernel's panic_on_error is veritytab's panic-on-corruption,error-as-corruption"
        ),
        "{hint:?}"
    );
    let alone = VerityOptions::parse("error-as-corruption").unwrap_err();
    assert_eq!(alone.len(), 1, "{alone:?}");
    assert!(
        alone[0].contains("needs restart-on-corruption or panic-on-corruption")
            && alone[0].contains("neither was given"),
        "{alone:?}"
    );
}

#[test]
fn display_round_trips() {
    let full = VerityOptions {
        superblock: Some(false),
        format: Some(1),
        data_block_size: Some(4096),
        hash_block_size: Some(4096),
        data_blocks: Some(1000),
        hash_offset: Some(4096000),
        salt: Some(vec![]),
        uuid: Guid::parse(GUID).ok(),
        hash: Some("sha256".into()),
        corruption: Some(CorruptionMode::Restart),
        error_as_corruption: true,
        ignore_zero_blocks: true,
        check_at_most_once: true,
        fec_device: Some(DeviceSpec::PartLabel("fec,a\\b".into())),
        fec_offset: Some(512),
        fec_roots: Some(2),
        root_hash_signature: Some("/run/a,b.p7s".into()),
    };
    let salted = opts(|o| o.salt = Some(vec![1, 2, 0xfe]));
    for options in [VerityOptions::default(), full, salted] {
        let text = options.to_string();
        assert_eq!(VerityOptions::parse(&text), Ok(options), "{text}");
    }
    assert_eq!(
        opts(|o| {
            o.hash_offset = Some(4096);
            o.corruption = Some(CorruptionMode::Panic);
        })
        .to_string(),
        "hash-offset=4096,panic-on-corruption"
    );
}
