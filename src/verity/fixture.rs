//! Test fixtures made by the real tools (veritysetup, sgdisk, mksquashfs, mkfs.erofs, lvm,
//! mkfs.ext4, losetup) in a temporary directory, shared by the GPT, filesystem and verity
//! tests. A missing tool fails the test and names the package to install; nothing is
//! skipped silently.
//! Test code only: its module is declared under #[cfg(test)].

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The Debian package that ships `program`.
fn package_of(program: &str) -> &'static str {
    match program {
        "veritysetup" => "cryptsetup-bin",
        "sgdisk" => "gdisk",
        "mksquashfs" | "unsquashfs" => "squashfs-tools",
        "mkfs.erofs" | "dump.erofs" => "erofs-utils",
        "mkfs.ext4" | "dumpe2fs" => "e2fsprogs",
        "losetup" => "mount",
        "lvm" => "lvm2",
        "blockdev" => "util-linux",
        _ => "the package that provides it",
    }
}

/// Runs `program args...` and returns its stdout; fails the test when the tool is missing
/// (naming its package) or exits non-zero (showing its stderr).
pub fn run(program: &str, args: &[&str]) -> String {
    let try_run = |path: &str| Command::new(path).args(args).output();
    let output = ["", "/usr/sbin/", "/sbin/", "/usr/bin/"]
        .iter()
        .find_map(|dir| try_run(&format!("{dir}{program}")).ok())
        .unwrap_or_else(|| {
            panic!(
                "{program} is not installed: install the {} package to run this test",
                package_of(program)
            )
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The value after `key` on the first line of `report` that starts with it (trimmed).
pub fn field<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(key))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no '{key}' in:\n{report}"))
}

/// A directory that is removed when the test ends.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("verinit-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The path of `name` inside, as a string for command lines.
    pub fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic pseudo-random bytes (xorshift64), so failures reproduce.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Flips one bit of the byte at `offset` of the file at `path`.
pub fn flip_byte(path: &str, offset: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, offset).unwrap();
    b[0] ^= 0x01;
    f.write_all_at(&b, offset).unwrap();
}

/// A loop device over an image file (`losetup --show -f [options] FILE`), detached when
/// dropped, even when the test fails.
pub struct LoopDevice(pub String);

impl LoopDevice {
    pub fn attach(file: &str, options: &[&str]) -> LoopDevice {
        let mut args = options.to_vec();
        args.extend(["--show", "-f", file]);
        LoopDevice(run("losetup", &args).trim().to_string())
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}
