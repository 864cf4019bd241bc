//! Which block devices there are: from a sysfs tree, or from paths named by the user.
//!
//! sysfs layout read (`<sys>` is a parameter, `/sys/class/block` on a real system):
//!   <sys>/<name>/dev                        "major:minor"
//!   <sys>/<name>/size                       size in 512-byte sectors
//!   <sys>/<name>/partition                  present for partitions: the partition number
//!   <sys>/<name>/start                      partitions: start sector on the parent disk
//!   <sys>/<name>/queue/logical_block_size   whole disks: the sector size
//! A partition's entry is a symlink into its parent disk's directory, which gives the
//! parent. Device nodes are `<dev>/<name>`, `<dev>` being `/dev` on a real system.
//! Skipped: dm devices (verinit makes its own), empty devices (no medium, unbound
//! loop devices) and floppies (reading one with no disk stalls for seconds).

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::dm_table::{DevNum, DevRef};
use crate::units::{Bytes, Sectors};

/// What kind of thing a device is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// A whole block device (disk, loop device, ...).
    Disk,
    /// A partition the kernel exposes, of the disk named.
    Partition {
        parent: String,
        number: u32,
        start: Sectors,
    },
    /// A regular file holding a disk image (dry run only).
    File,
}

/// A block device or image file that verinit may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockDevice {
    /// Kernel name (`loop0`, `vda2`) or, for a file, its path.
    pub name: String,
    /// Where to open it.
    pub path: PathBuf,
    /// Device number; `None` for image files.
    pub dev: Option<DevNum>,
    pub size: Bytes,
    /// Logical block size: the unit of GPT LBAs on this device.
    pub sector_size: u32,
    pub kind: DeviceKind,
}

impl BlockDevice {
    /// How a dm table refers to this device.
    pub fn dev_ref(&self) -> DevRef {
        match self.dev {
            Some(n) => DevRef::Num(n),
            None => DevRef::Path(self.path.display().to_string()),
        }
    }

    /// A name for messages: the device node path.
    pub fn display_name(&self) -> String {
        self.path.display().to_string()
    }
}

/// A device that could not be listed or opened.
#[derive(Debug)]
pub struct DeviceError {
    pub path: PathBuf,
    pub what: &'static str,
    pub cause: String,
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.what,
            self.path.display(),
            self.cause
        )
    }
}

impl std::error::Error for DeviceError {}

fn read_trimmed(path: &Path) -> io::Result<String> {
    Ok(fs::read_to_string(path)?.trim().to_string())
}

fn is_skipped(name: &str) -> bool {
    name.starts_with("dm-") || name.starts_with("fd")
}

/// Lists block devices from a sysfs `class/block` directory, sorted by device number.
/// Entries that cannot be read are skipped (a device can vanish while we look), but a
/// missing sysfs root is an error.
pub fn from_sysfs(
    sys_class_block: &Path,
    dev_root: &Path,
) -> Result<Vec<BlockDevice>, DeviceError> {
    let entries = fs::read_dir(sys_class_block).map_err(|e| DeviceError {
        path: sys_class_block.to_path_buf(),
        what: "list block devices in",
        cause: e.to_string(),
    })?;
    let mut devices = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_skipped(&name) {
            continue;
        }
        if let Some(dev) = sysfs_device(&entry.path(), &name, dev_root) {
            devices.push(dev);
        }
    }
    devices.sort_by(|a, b| a.dev.cmp(&b.dev).then_with(|| a.name.cmp(&b.name)));
    Ok(devices)
}

fn sysfs_device(dir: &Path, name: &str, dev_root: &Path) -> Option<BlockDevice> {
    let dev: DevNum = read_trimmed(&dir.join("dev")).ok()?.parse().ok()?;
    let sectors: u64 = read_trimmed(&dir.join("size")).ok()?.parse().ok()?;
    let size = Sectors(sectors).to_bytes()?;
    if size.0 == 0 {
        return None;
    }
    let real = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let (kind, queue_dir) = match read_trimmed(&dir.join("partition")) {
        Ok(number) => {
            let parent_dir = real.parent()?.to_path_buf();
            let parent = parent_dir.file_name()?.to_string_lossy().into_owned();
            let start = read_trimmed(&dir.join("start")).ok()?.parse().ok()?;
            let kind = DeviceKind::Partition {
                parent,
                number: number.parse().ok()?,
                start: Sectors(start),
            };
            (kind, parent_dir)
        }
        Err(_) => (DeviceKind::Disk, real),
    };
    let sector_size = read_trimmed(&queue_dir.join("queue/logical_block_size"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    Some(BlockDevice {
        name: name.to_string(),
        path: dev_root.join(name),
        dev: Some(dev),
        size,
        sector_size,
        kind,
    })
}

/// Describes the devices and image files named on the command line of a dry run.
/// Paths are made absolute, so that tables name image files unambiguously.
pub fn from_paths(paths: &[PathBuf]) -> Result<Vec<BlockDevice>, DeviceError> {
    paths.iter().map(|p| from_path(p)).collect()
}

fn from_path(given: &Path) -> Result<BlockDevice, DeviceError> {
    use rustix::fs::FileType;
    let fail = |what, cause: String| DeviceError {
        path: given.to_path_buf(),
        what,
        cause,
    };
    let path = &std::path::absolute(given).map_err(|e| fail("find", e.to_string()))?;
    let file = fs::File::open(path).map_err(|e| fail("open", e.to_string()))?;
    let stat = rustix::fs::fstat(&file).map_err(|e| fail("stat", e.to_string()))?;
    let name = path.display().to_string();
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::BlockDevice => {
            let rdev = stat.st_rdev;
            let dev = DevNum {
                major: rustix::fs::major(rdev),
                minor: rustix::fs::minor(rdev),
            };
            let sector_size = rustix::fs::ioctl_blksszget(&file)
                .map_err(|e| fail("get the sector size of", e.to_string()))?;
            let size = device_size(&file).map_err(|e| fail("get the size of", e.to_string()))?;
            Ok(BlockDevice {
                name,
                path: path.to_path_buf(),
                dev: Some(dev),
                size: Bytes(size),
                sector_size,
                kind: DeviceKind::Disk,
            })
        }
        FileType::RegularFile => Ok(BlockDevice {
            name,
            path: path.to_path_buf(),
            dev: None,
            size: Bytes(stat.st_size as u64),
            sector_size: 512,
            kind: DeviceKind::File,
        }),
        _ => Err(fail(
            "read",
            "not a block device or a regular file".to_string(),
        )),
    }
}

fn device_size(file: &fs::File) -> io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::End(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn reads_a_fake_sysfs() {
        let tmp = std::env::temp_dir().join(format!("verinit-sysfs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        let devices = tmp.join("devices");
        let class = tmp.join("class/block");
        fs::create_dir_all(&class).unwrap();
        // A disk with 4096-byte sectors and one partition, a loop device, and skipped ones.
        write(&devices.join("vda/dev"), "254:0\n");
        write(&devices.join("vda/size"), "2097152\n");
        write(&devices.join("vda/queue/logical_block_size"), "4096\n");
        write(&devices.join("vda/vda1/dev"), "254:1\n");
        write(&devices.join("vda/vda1/size"), "2048\n");
        write(&devices.join("vda/vda1/partition"), "1\n");
        write(&devices.join("vda/vda1/start"), "256\n");
        write(&devices.join("loop0/dev"), "7:0\n");
        write(&devices.join("loop0/size"), "16384\n");
        write(&devices.join("loop1/dev"), "7:1\n");
        write(&devices.join("loop1/size"), "0\n");
        write(&devices.join("dm-0/dev"), "253:0\n");
        write(&devices.join("dm-0/size"), "8\n");
        for (name, target) in [
            ("vda", "vda"),
            ("vda1", "vda/vda1"),
            ("loop0", "loop0"),
            ("loop1", "loop1"),
            ("dm-0", "dm-0"),
        ] {
            std::os::unix::fs::symlink(devices.join(target), class.join(name)).unwrap();
        }
        let found = from_sysfs(&class, Path::new("/dev")).unwrap();
        let names: Vec<_> = found.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["loop0", "vda", "vda1"]);
        assert_eq!(found[0].sector_size, 512);
        assert_eq!(found[1].sector_size, 4096);
        assert_eq!(found[1].size, Bytes(1 << 30));
        assert_eq!(found[2].sector_size, 4096);
        assert_eq!(
            found[2].kind,
            DeviceKind::Partition {
                parent: "vda".into(),
                number: 1,
                start: Sectors(256)
            }
        );
        assert_eq!(found[2].path, Path::new("/dev/vda1"));
        assert_eq!(found[2].dev_ref().to_string(), "254:1");
        fs::remove_dir_all(&tmp).unwrap();
        assert!(from_sysfs(&class, Path::new("/dev")).is_err());
    }

    #[test]
    fn image_files_have_512_byte_sectors() {
        let tmp = std::env::temp_dir().join(format!("verinit-img-{}", std::process::id()));
        fs::write(&tmp, vec![0u8; 4096]).unwrap();
        let found = from_paths(std::slice::from_ref(&tmp)).unwrap();
        assert_eq!(found[0].kind, DeviceKind::File);
        assert_eq!(found[0].size, Bytes(4096));
        assert_eq!(found[0].sector_size, 512);
        assert_eq!(found[0].dev_ref().to_string(), tmp.display().to_string());
        fs::remove_file(&tmp).unwrap();
        let err = from_paths(&[PathBuf::from("/nonexistent/disk.img")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/disk.img"), "{err}");
    }
}
