//! From the initramfs into the new root.
//!
//! The initramfs is the kernel's rootfs, which cannot be unmounted, so `pivot_root(".",
//! ".")` from it fails with EINVAL. What works (ENVIRONMENT.md): move /dev, /proc, /sys
//! and /run under the new root (one the root has no directory for stays behind, as
//! systemd's switch-root leaves it: the boot record step has warned of it); delete the initramfs's files to free their memory (never crossing
//! into another mount); bind-mount `/` onto itself recursively and re-enter it (chdir
//! `/..`, chroot `.`), so that `/` is an ordinary mount; chdir into the new root,
//! `pivot_root(".", ".")`, and detach the old root stacked on top. If pivot_root still
//! fails, the classic way: move the new root onto `/` and chroot into it.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, chroot, pivot_root};

use super::system::API_MOUNTS;

pub fn switch_root(new_root: &Path) -> Result<(), String> {
    let initramfs_dev = std::fs::metadata("/").map(|m| m.dev()).ok();
    for dir in API_MOUNTS {
        let target = new_root.join(dir.trim_start_matches('/'));
        // Not a mount point (its mount failed, and was reported): nothing to move.
        let mounted = std::fs::metadata(dir).is_ok_and(|m| Some(m.dev()) != initramfs_dev);
        if !target.is_dir() || !mounted {
            continue;
        }
        mount(
            Some(dir),
            &target,
            None::<&str>,
            MsFlags::MS_MOVE,
            None::<&str>,
        )
        .map_err(|e| format!("cannot move {dir} to {}: {e}", target.display()))?;
    }
    let root_dev = std::fs::metadata("/")
        .map_err(|e| format!("cannot stat /: {e}"))?
        .dev();
    free_initramfs(Path::new("/"), root_dev);
    match pivot_into(new_root) {
        Ok(()) => Ok(()),
        Err(pivot) => move_into(new_root).map_err(|moved| {
            format!("cannot switch root: pivot_root: {pivot}; move and chroot: {moved}")
        }),
    }
}

fn pivot_into(new_root: &Path) -> nix::Result<()> {
    mount(
        Some("/"),
        "/",
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )?;
    // `/..` from the old root's top lands on the bind mount just stacked over it.
    chdir("/..")?;
    chroot(".")?;
    chdir(new_root)?;
    pivot_root(".", ".")?;
    umount2(".", MntFlags::MNT_DETACH)?;
    chdir("/")
}

fn move_into(new_root: &Path) -> nix::Result<()> {
    chdir(new_root)?;
    mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>)?;
    chroot(".")?;
    chdir("/")
}

/// Deletes every file and directory under `dir` that lives on device `dev` (the
/// initramfs), leaving mount points and what is under them alone. Best effort: what
/// cannot be deleted only costs memory.
fn free_initramfs(dir: &Path, dev: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.dev() != dev {
            continue;
        }
        if meta.is_dir() {
            free_initramfs(&path, dev);
            let _ = std::fs::remove_dir(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frees_files_but_not_other_devices() {
        let tmp = std::env::temp_dir().join(format!("verinit-free-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("a/b")).unwrap();
        std::fs::write(tmp.join("a/b/f"), b"x").unwrap();
        std::fs::write(tmp.join("g"), b"y").unwrap();
        let outside = std::env::temp_dir().join(format!("verinit-keep-{}", std::process::id()));
        std::fs::write(&outside, b"keep").unwrap();
        std::os::unix::fs::symlink(&outside, tmp.join("link")).unwrap();
        let dev = std::fs::metadata(&tmp).unwrap().dev();
        // A different device number stands for a mount point: nothing is deleted.
        free_initramfs(&tmp, dev + 1);
        assert!(tmp.join("a/b/f").exists());
        free_initramfs(&tmp, dev);
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
        assert!(outside.exists(), "symlinks are not followed");
        std::fs::remove_dir(&tmp).unwrap();
        std::fs::remove_file(&outside).unwrap();
    }
}
