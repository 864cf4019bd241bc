//! The QEMU cases every kernel's suite runs, in one table: `tests/qemu_boot.rs` (Debian's
//! kernel with `build/initramfs.cpio`), `tests/qemu_embedded.rs` (our kernel, verinit
//! built in, no `-initrd`) and `tests/qemu_arm64.rs` (Debian's arm64 kernel). A suite
//! says `qemu_cases!(KERNEL);` inside a module named for it, which defines one `#[test]`
//! per case there; its `Kernel` says what the suite adds to every boot (its `prepare`
//! chooses the machine: `qemu::use_arch`, `qemu::embedded`). `qemu_cases!(core: KERNEL);`
//! defines only the core cases, for a suite whose boots cost more (arm64 under TCG): every
//! way to name the root, a late disk, a wrong root hash and a flipped byte.
//! `qemu_cases!(corruption: KERNEL);` defines the corruption policy cases
//! (`corruption.rs`); `qemu_cases!(signatures: KERNEL);` the signed roots on a kernel that
//! trusts the test key, `qemu_cases!(untrusted_signatures: KERNEL);` those on Debian's
//! kernels, which do not (`signatures.rs`). Cases that need one kernel's own parts (a module left out of the
//! initramfs, Debian's keyring) stay in that kernel's suite. Helpers: `tests/qemu/mod.rs`.

// Each suite uses a part of the cases.
#[allow(dead_code)]
pub mod corruption;
#[allow(dead_code)]
pub mod signatures;

use crate::common::{corrupt_root_data, Fixture};
use crate::qemu::{make_disk, qemu_fixture, root_hash, Boot, Booted};

/// What a suite's kernel adds to each case.
pub struct Kernel {
    /// Put before each boot's name (the name of its run directory).
    pub prefix: &'static str,
    /// Run first in each case (the embedded kernel is made there, so that a case fails
    /// on it before building its disks).
    pub prepare: fn(),
    /// Checked after every boot.
    pub check: fn(&Booted),
}

/// Defines, where it is invoked, one `#[test]` per case, booting the `Kernel` given: all
/// of them, or (`core:`) the core ones.
macro_rules! qemu_cases {
    ($kernel:expr) => {
        qemu_cases!(@core $kernel);
        qemu_cases!(@more $kernel);
    };
    (core: $kernel:expr) => {
        qemu_cases!(@core $kernel);
    };
    (corruption: $kernel:expr) => {
        qemu_cases!(@corruption $kernel;
            corruption_restarts_with_restart_on_corruption,
            corruption_panics_with_panic_on_corruption,
            corruption_is_logged_and_passed_on_with_ignore_corruption,
            corruption_fails_reads_by_default,
        );
    };
    (signatures: $kernel:expr) => {
        qemu_cases!(@module signatures $kernel;
            signed_image_boots_without_roothash,
            required_signature_with_roothash_boots,
            refuses_signature_by_untrusted_key,
            refuses_tampered_signature,
            rejected_signature_does_not_fall_back,
            refuses_signed_root_hash_of_another_image,
            required_signature_refuses_unsigned_image,
        );
    };
    (untrusted_signatures: $kernel:expr) => {
        qemu_cases!(@module signatures $kernel;
            signed_image_with_roothash_boots,
            refuses_signature_kernel_does_not_trust,
        );
    };
    (@core $kernel:expr) => {
        qemu_cases!(@boots $kernel;
            // (test: scenario, root file system type): boots that must pass, each on the
            // image its scenario names (`image=<scenario>/a`).
            // root=PARTUUID=<the root partition inside the LV's disk image>.
            boots_by_partition_uuid: "one-pv", "squashfs";
            // root=PARTUUID=<LV UUID>, the PV in a GPT partition of type Linux LVM.
            boots_by_lv_uuid_on_gpt_partition: "gpt-disk-pv", "squashfs";
            // root=/dev/mapper/vg0-root, the metadata text wrapped around its ring's end.
            boots_by_dm_name_with_wrapped_metadata: "wrapped", "squashfs";
            // roothash= alone: the partition whose UUID is the root hash's first half,
            // inside one of two LVs holding disk images (the other LV holds image b).
            boots_by_root_hash_alone: "dps-in-lv", "squashfs";
        );
        qemu_cases!(@cases $kernel;
            boots_by_vg_lv_name_with_init_and_args,
            boots_disk_that_appears_late,
            refuses_wrong_root_hash,
            refuses_corrupted_data_block,
        );
    };
    (@more $kernel:expr) => {
        qemu_cases!(@boots $kernel;
            // root=PARTUUID=<LV UUID>, the first metadata area's header damaged.
            boots_by_lv_uuid_with_damaged_first_mda: "damaged-mda1", "squashfs";
            // The hash tree in its own LV (root-verity), root=/dev/vg0/root.
            boots_separate_hash_lv: "separate-hash-lv", "squashfs";
            // The hash tree appended to the squashfs in the same LV, found by its
            // superblock.
            boots_appended_hash_tree: "appended-hash", "squashfs";
            // The appended tree without a superblock: every parameter from the command
            // line.
            boots_appended_hash_tree_without_superblock: "no-superblock", "squashfs";
            // An LV of four segments over three disks (vda, vdb, vdc).
            boots_lv_spread_over_disks: "three-pv-segments", "squashfs";
            // An LV striped over three disks.
            boots_striped_lv: "striped", "squashfs";
            // Two disks, one with older metadata: the newer copy's layout is booted.
            boots_newest_metadata_over_stale_pv: "stale-pv", "squashfs";
            // No LVM: root, root-verity and root-verity-sig partitions on the disk.
            boots_plain_gpt_partition: "plain-gpt", "squashfs";
            boots_erofs_root: "erofs", "erofs";
            boots_sha512_tree: "sha512", "squashfs";
            boots_empty_salt: "empty-salt", "squashfs";
            // A disk with 4096-byte logical sectors (the DDI inside uses them too).
            boots_4k_sector_disk: "sector4k", "squashfs";
            // FEC on an LV of its own, named by fec-device= (a dm device of its own in
            // the verity table's use_fec_from_device).
            boots_with_fec_lv: "fec-lv", "squashfs";
        );
        qemu_cases!(@cases $kernel;
            boots_same_image_in_two_lvs,
            refuses_rw,
            boots_with_fec_correcting_damaged_blocks,
            refuses_damaged_block_without_fec,
            refuses_damage_beyond_fec,
        );
    };
    (@boots $kernel:expr; $($test:ident: $scenario:literal, $fstype:literal;)*) => {$(
        #[test]
        fn $test() {
            let kernel = &$kernel;
            (kernel.prepare)();
            crate::qemu_cases::boots(kernel, stringify!($test), $scenario, $fstype);
        }
    )*};
    (@cases $kernel:expr; $($case:ident,)*) => {$(
        #[test]
        fn $case() {
            let kernel = &$kernel;
            (kernel.prepare)();
            crate::qemu_cases::$case(kernel);
        }
    )*};
    (@corruption $kernel:expr; $($case:ident,)*) => {$(
        #[test]
        fn $case() {
            let kernel = &$kernel;
            (kernel.prepare)();
            crate::qemu_cases::corruption::$case(kernel);
        }
    )*};
    (@module $module:ident $kernel:expr; $($case:ident,)*) => {$(
        #[test]
        fn $case() {
            let kernel = &$kernel;
            (kernel.prepare)();
            crate::qemu_cases::$module::$case(kernel);
        }
    )*};
}

/// A suite's boots: named with its prefix, checked by its `check`.
impl Kernel {
    pub fn boot_of_fixture(&self, name: &str, fix: &Fixture, extra: &str) -> Boot {
        Boot::of_fixture(&format!("{}{name}", self.prefix), fix, extra)
    }

    pub fn boot(&self, name: &str, disks: &[std::path::PathBuf], cmdline: &str) -> Boot {
        Boot::new(&format!("{}{name}", self.prefix), disks, cmdline)
    }

    pub fn run(&self, boot: Boot) -> Booted {
        let booted = boot.run();
        (self.check)(&booted);
        booted
    }
}

// ---------------------------------------------------------------- boots

/// Boots `scenario` with its own command line and expects a pass on the image the
/// scenario names (`image=<scenario>/a`) with `fstype`. Returns the PASS line.
pub fn boots(kernel: &Kernel, name: &str, scenario: &str, fstype: &str) -> String {
    let fix = qemu_fixture(scenario);
    let booted = kernel.run(kernel.boot_of_fixture(name, &fix, ""));
    let pass = booted.assert_passed();
    booted.assert_pass_says(&pass, "image", &format!("{scenario}/a"));
    booted.assert_pass_says(&pass, "fstype", fstype);
    booted.assert_pass_says(&pass, "dm-name", "root");
    let uuid = format!("CRYPT-VERITY-{}-root", &root_hash(&fix)[..32]);
    booted.assert_pass_says(&pass, "dm-uuid", &uuid);
    pass
}

/// The same image in root_a and root_b: one of them boots.
pub fn boots_same_image_in_two_lvs(kernel: &Kernel) {
    let pass = boots(kernel, "ab-pair", "ab-pair", "squashfs");
    assert!(
        pass.contains("vg0-root_a") || pass.contains("vg0-root_b"),
        "the root should sit on root_a or root_b: {pass}"
    );
}

/// `make disk`'s image (scripts/make-disk): root=ddi:lvm:vg0/root_a, with init= naming
/// another path to the init and arguments after `--` for it.
pub fn boots_by_vg_lv_name_with_init_and_args(kernel: &Kernel) {
    let dir = make_disk();
    let cmdline = std::fs::read_to_string(dir.join("disk.cmdline")).expect("disk.cmdline");
    assert!(
        cmdline.contains("root=ddi:lvm:vg0/root_a"),
        "make-disk's command line: {cmdline}"
    );
    let booted = kernel.run(kernel.boot(
        "by-vg-lv-name",
        &[dir.join("disk.img")],
        &format!(
            "{} init=/usr/lib/verinit-test/init -- verinit-arg-one verinit-arg-two",
            cmdline.trim()
        ),
    ));
    let pass = booted.assert_passed();
    booted.assert_pass_says(&pass, "image", "demo/a");
    let markers = booted.markers();
    for want in [
        "init /usr/lib/verinit-test/init pid 1, 2 argument(s)",
        "arg 1: verinit-arg-one",
        "arg 2: verinit-arg-two",
    ] {
        assert!(
            markers.contains(&want),
            "the root's init should say {want:?}\n{}",
            booted.describe()
        );
    }
}

/// The only disk appears 3 s after verinit's first line (QMP device_add), while verinit
/// waits for it (rootdelay=30).
pub fn boots_disk_that_appears_late(kernel: &Kernel) {
    let fix = qemu_fixture("one-pv");
    let booted = kernel.run(
        kernel
            .boot_of_fixture("late-disk", &fix, "rootdelay=30")
            .hot_add("disk0.img", 3.0)
            .hot_add_after("verinit: verinit"),
    );
    booted.assert_passed();
    let started = booted.position("verinit: ");
    let added = booted.position("qemu-boot: hot-added");
    let seen = booted.position("virtio_blk virtio");
    assert!(
        matches!((started, added, seen), (Some(s), Some(a), Some(v)) if s < a && a < v),
        "expected verinit to start, then the disk to be added, then the kernel to see it\n{}",
        booted.describe()
    );
}

// ---------------------------------------------------------------- refusals

/// The fixture's command line with its root hash replaced by one that differs in one
/// hex digit in the middle.
pub fn with_wrong_root_hash(fix: &Fixture) -> String {
    let hash = root_hash(fix);
    let mut wrong = hash.clone().into_bytes();
    let mid = wrong.len() / 2;
    wrong[mid] = if wrong[mid] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).expect("hex");
    let cmdline = fix.cmdline().replace(&hash, &wrong);
    assert_ne!(cmdline, fix.cmdline(), "no root hash on the command line");
    cmdline
}

/// A root hash that is not the image's: refused before anything is mounted (the top hash
/// block does not hash to it), powered off.
pub fn refuses_wrong_root_hash(kernel: &Kernel) {
    let fix = qemu_fixture("separate-hash-lv");
    let cmdline = with_wrong_root_hash(&fix);
    let booted = kernel.run(kernel.boot("wrong-root-hash", &fix.image_paths(), &cmdline));
    booted.assert_refused("poweroff", &["root hash"]);
    // The kernel reports each verity table it builds: none may have been.
    assert!(
        !booted.console.contains("device-mapper: verity"),
        "a dm-verity table was loaded for a root hash that is not the image's\n{}",
        booted.describe()
    );
}

/// One flipped byte in the root file system's data: dm-verity answers EIO for that
/// block, so the boot must fail, whichever file the block belongs to (the init, which
/// then cannot run, or another one, which the init reads).
pub fn refuses_corrupted_data_block(kernel: &Kernel) {
    let fix = qemu_fixture("one-pv");
    let boot = kernel.boot_of_fixture("corrupt-block", &fix, "");
    corrupt_root_data(&fix, &boot.dir);
    let booted = kernel.run(boot);
    assert!(
        matches!(booted.code, Some(0) | Some(5))
            && !booted.markers().iter().any(|m| m.starts_with("PASS")),
        "expected the boot to fail (QEMU exit 0 or 5, no PASS)\n{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("is corrupted"),
        "expected dm-verity's `data block N is corrupted`\n{}",
        booted.describe()
    );
}

/// `rw` cannot be honoured on a dm-verity root. The failure policy is reboot here (the
/// default), which QEMU's -no-reboot turns into exit 0.
pub fn refuses_rw(kernel: &Kernel) {
    let fix = qemu_fixture("one-pv");
    let booted = kernel.run(
        kernel
            .boot_of_fixture("rw", &fix, "rw")
            .default_failure_policy(),
    );
    booted.assert_refused("reboot", &["rw", "read-only"]);
}

// ---------------------------------------------------------------- FEC

/// FEC rounds of the fec-footer fixture, from the dry run's report of it.
fn fec_rounds(fix: &Fixture) -> u64 {
    let paths: Vec<String> = fix
        .image_paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let run = crate::common::dry_run(&fix.cmdline(), &paths, false);
    run.json["candidates"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["selected"] == true))
        .and_then(|c| c["fec"]["rounds"].as_u64())
        .unwrap_or_else(|| {
            panic!(
                "no FEC rounds in the dry run of fec-footer\n{}",
                run.describe()
            )
        })
}

/// Flips the byte `blocks` data blocks after the fixture's `corrupt_at` byte (the LV
/// holding the DDI is one segment: its blocks are contiguous in the image).
fn flip_after_corrupt_at(fix: &Fixture, dir: &std::path::Path, blocks: u64) {
    use std::os::unix::fs::FileExt;
    let at = &fix.expect["corrupt_at"];
    let image = dir.join(at["image"].as_str().unwrap_or_default());
    let bs = fix.expect["verity"]["data_block_size"]
        .as_u64()
        .unwrap_or(4096);
    let offset = at["offset"].as_u64().unwrap_or_default() + blocks * bs;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&image)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", image.display()));
    let mut b = [0u8; 1];
    file.read_exact_at(&mut b, offset).expect("read");
    b[0] ^= 0xff;
    file.write_all_at(&b, offset).expect("write");
}

/// A root whose FEC (parity and footer in its root-verity partition, found with no
/// options) reaches the damage: two data blocks of different rounds with a flipped byte
/// each. The kernel corrects both as the root's init reads every file, and logs it.
pub fn boots_with_fec_correcting_damaged_blocks(kernel: &Kernel) {
    let fix = qemu_fixture("fec-footer");
    let boot = kernel.boot_of_fixture("fec-corrects", &fix, "");
    corrupt_root_data(&fix, &boot.dir);
    flip_after_corrupt_at(&fix, &boot.dir, 1);
    let booted = kernel.run(boot);
    booted.assert_passed();
    let table = booted
        .console
        .lines()
        .find(|l| l.contains(" verity 1 "))
        .unwrap_or_default()
        .to_string();
    assert!(
        table.contains(" use_fec_from_device ") && table.contains(" fec_roots 2"),
        "the verity table should carry the footer's FEC\n{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("verity-fec") && booted.console.contains("corrected"),
        "expected the kernel's `FEC ...: corrected N errors`\n{}",
        booted.describe()
    );
}

/// The same damage on the same disk with its FEC footer wiped (both copies): no FEC, and
/// dm-verity fails the read.
pub fn refuses_damaged_block_without_fec(kernel: &Kernel) {
    use std::os::unix::fs::FileExt;
    let fix = qemu_fixture("fec-footer");
    let boot = kernel.boot_of_fixture("fec-wiped", &fix, "");
    corrupt_root_data(&fix, &boot.dir);
    let disk = boot.disk("disk0.img");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&disk)
        .expect("open the disk copy");
    let len = file.metadata().expect("stat").len();
    let mut wiped = 0;
    let mut block = vec![0u8; 4096];
    for at in (0..len).step_by(4096) {
        file.read_exact_at(&mut block, at).expect("read");
        if block[..4] == 0xFECF_ECFEu32.to_le_bytes() {
            file.write_all_at(&[0u8; 4096], at)
                .expect("wipe the footer");
            wiped += 1;
        }
    }
    assert_eq!(wiped, 1, "expected one FEC footer in {}", disk.display());
    let booted = kernel.run(boot);
    assert!(
        !booted.console.contains(" use_fec_from_device "),
        "no footer, no FEC\n{}",
        booted.describe()
    );
    assert!(
        matches!(booted.code, Some(0) | Some(5))
            && !booted.markers().iter().any(|m| m.starts_with("PASS")),
        "expected the boot to fail (QEMU exit 0 or 5, no PASS)\n{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("is corrupted"),
        "expected dm-verity's `data block N is corrupted`\n{}",
        booted.describe()
    );
}

/// Damage beyond FEC's reach: the same byte of three data blocks of one round is three
/// errors in one codeword; 2 roots correct one error, or two with the blocks that fail
/// their hash as erasures (the kernel's second try), not three. The kernel fails the read
/// (the default policy: EIO), the boot fails, the root's init never passes.
pub fn refuses_damage_beyond_fec(kernel: &Kernel) {
    let fix = qemu_fixture("fec-footer");
    let rounds = fec_rounds(&fix);
    let boot = kernel.boot_of_fixture("fec-beyond", &fix, "");
    corrupt_root_data(&fix, &boot.dir);
    flip_after_corrupt_at(&fix, &boot.dir, rounds);
    flip_after_corrupt_at(&fix, &boot.dir, 2 * rounds);
    let booted = kernel.run(boot);
    assert!(
        matches!(booted.code, Some(0) | Some(5))
            && !booted.markers().iter().any(|m| m.starts_with("PASS")),
        "expected the boot to fail (QEMU exit 0 or 5, no PASS)\n{}",
        booted.describe()
    );
    assert!(
        booted.console.contains("is corrupted"),
        "expected dm-verity's `data block N is corrupted` once FEC fails\n{}",
        booted.describe()
    );
}
