//! The real `System`: device-mapper through the devicemapper crate, mount(2),
//! pivot_root(2), execve(2). Nothing here writes to a block device: every dm table is
//! loaded read-only and roots are mounted read-only.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use devicemapper::{DevId, DmFlags, DmName, DmOptions, DmUuid, DM};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{mknod, Mode, SFlag};
use nix::unistd::execve;

use super::modules;
use super::system::{explain_table_error, SysError, System};
use crate::dm_table::{DevNum, TableLine};
use crate::dm_versions::TargetVersion;

/// How long to wait for devtmpfs to make a node the kernel has announced.
const NODE_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Linux {
    dm: Option<DM>,
    /// /proc/filesystems and /proc/crypto, read once for the plan's module checks (the
    /// modules were all loaded before the plan ran).
    proc_lists: Option<(String, String)>,
}

impl Linux {
    fn dm(&mut self) -> Result<&DM, String> {
        if self.dm.is_none() {
            let dm = DM::new()
                .map_err(|e| format!("cannot open /dev/mapper/control: {e} (is dm-mod loaded?)"))?;
            self.dm = Some(dm);
        }
        self.dm
            .as_ref()
            .ok_or_else(|| "no device-mapper".to_string())
    }
}

/// `/dev/<name>` for a device number, from sysfs's uevent; made with mknod when devtmpfs
/// has not made it.
pub fn device_node(dev: DevNum) -> Result<PathBuf, String> {
    let uevent = format!("/sys/dev/block/{dev}/uevent");
    let start = Instant::now();
    loop {
        let name = std::fs::read_to_string(&uevent).ok().and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("DEVNAME=").map(str::to_string))
        });
        if let Some(name) = name {
            let path = Path::new("/dev").join(&name);
            if path.exists() {
                return Ok(path);
            }
            if start.elapsed() >= NODE_WAIT {
                // devtmpfs normally makes it; without devtmpfs there is no one else to.
                let devt = nix::sys::stat::makedev(u64::from(dev.major), u64::from(dev.minor));
                mknod(&path, SFlag::S_IFBLK, Mode::from_bits_truncate(0o600), devt)
                    .map_err(|e| format!("cannot make {}: {e}", path.display()))?;
                return Ok(path);
            }
        } else if start.elapsed() >= NODE_WAIT {
            return Err(format!("block device {dev} is not in sysfs ({uevent})"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Present when dm-verity can check root hash signatures.
const VERITY_SIG_PARAM: &str = "/sys/module/dm_verity/parameters/require_signatures";
/// `<linux/keyctl.h>`.
const KEY_SPEC_PROCESS_KEYRING: libc::c_long = -2;
const KEYCTL_INVALIDATE: libc::c_long = 21;

impl System for Linux {
    fn has_module(&mut self, name: &str) -> bool {
        let (fs, crypto) = self.proc_lists.get_or_insert_with(|| {
            (
                std::fs::read_to_string("/proc/filesystems").unwrap_or_default(),
                std::fs::read_to_string("/proc/crypto").unwrap_or_default(),
            )
        });
        modules::kernel_has(Path::new("/sys"), fs, crypto, name)
    }

    fn device_ready(&mut self, dev: DevNum) -> Result<(), String> {
        device_node(dev).map(|_| ())
    }

    fn add_key(&mut self, description: &str, payload: &[u8]) -> Result<i32, String> {
        // dm-verity declares this parameter only when built with signature checking.
        if !Path::new(VERITY_SIG_PARAM).exists() {
            return Err(format!(
                "this kernel cannot check root hash signatures: dm-verity was built without \
                 CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG (there is no {VERITY_SIG_PARAM}); use a \
                 kernel with it, or give roothash= from a boot entry the boot loader checked"
            ));
        }
        let kind = c"user";
        let desc = CString::new(description)
            .map_err(|_| format!("key description {description:?} holds a NUL byte"))?;
        // SAFETY: `kind` and `desc` are NUL-terminated and outlive the call; the payload
        // pointer and length describe one live slice the kernel only reads.
        let serial = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                kind.as_ptr(),
                desc.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                KEY_SPEC_PROCESS_KEYRING,
            )
        };
        if serial < 0 {
            let e = std::io::Error::last_os_error();
            let hint = match e.raw_os_error() {
                Some(libc::ENOSYS) => ": the kernel has no keyrings (CONFIG_KEYS)",
                Some(libc::EINVAL) if payload.len() > 32767 => {
                    ": a user key holds at most 32767 bytes"
                }
                _ => "",
            };
            return Err(format!(
                "cannot add the root hash signature ({} bytes) to the keyring as {description}: {e}{hint}",
                payload.len()
            ));
        }
        i32::try_from(serial).map_err(|_| format!("add_key returned serial {serial}"))
    }

    fn remove_key(&mut self, serial: i32) -> Result<(), String> {
        // SAFETY: KEYCTL_INVALIDATE takes one integer argument and touches no memory of ours.
        let r = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, serial) };
        if r < 0 {
            return Err(format!(
                "cannot remove key {serial} from the keyring: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }

    fn dm_create(
        &mut self,
        name: &str,
        uuid: &str,
        read_only: bool,
        table: &[TableLine],
    ) -> Result<DevNum, SysError> {
        let dm = self.dm()?;
        let dm_name = DmName::new(name).map_err(|e| format!("bad dm name {name}: {e}"))?;
        let dm_uuid = DmUuid::new(uuid).map_err(|e| format!("bad dm uuid {uuid}: {e}"))?;
        let flags = if read_only {
            DmFlags::DM_READONLY
        } else {
            DmFlags::empty()
        };
        dm.device_create(
            dm_name,
            Some(dm_uuid),
            DmOptions::default().set_flags(flags),
        )
        .map_err(|e| SysError {
            errno: dm_errno(&e),
            what: format!("cannot create dm device {name}: {e}"),
        })?;
        let id = DevId::Name(dm_name);
        let targets: Vec<(u64, u64, String, String)> = table
            .iter()
            .map(|l| (l.start.0, l.len.0, l.target_type().to_string(), l.params()))
            .collect();
        let loaded = dm
            .table_load(&id, &targets, DmOptions::default().set_flags(flags))
            .and_then(|_| dm.device_suspend(&id, DmOptions::default()));
        match loaded {
            Ok(info) => {
                let d = info.device();
                Ok(DevNum {
                    major: d.major,
                    minor: d.minor,
                })
            }
            Err(e) => {
                let _ = dm.device_remove(&id, DmOptions::default());
                let lines: Vec<String> = table.iter().map(ToString::to_string).collect();
                let errno = dm_errno(&e);
                let cause = match errno.and_then(|n| explain_table_error(n, table)) {
                    Some(why) => why,
                    None => {
                        let cause = errno.map_or_else(
                            || e.to_string(),
                            |n| std::io::Error::from_raw_os_error(n).to_string(),
                        );
                        format!("{cause} (the kernel's log line above says which argument)")
                    }
                };
                Err(SysError {
                    errno,
                    what: format!(
                        "the kernel refused the table of {name}: {cause}\n  table: {}",
                        lines.join("\n         ")
                    ),
                })
            }
        }
    }

    fn target_version(&mut self, name: &str) -> Option<TargetVersion> {
        let dm = self.dm().ok()?;
        let versions = dm.list_versions().ok()?;
        let (_, major, minor, patch) = versions.into_iter().find(|(n, ..)| n == name)?;
        Some(TargetVersion(major, minor, patch))
    }

    fn dm_remove(&mut self, name: &str) -> Result<(), String> {
        let dm = self.dm()?;
        let dm_name = DmName::new(name).map_err(|e| format!("bad dm name {name}: {e}"))?;
        dm.device_remove(&DevId::Name(dm_name), DmOptions::default())
            .map(|_| ())
            .map_err(|e| format!("cannot remove dm device {name}: {e}"))
    }

    fn verity_status(&mut self, name: &str) -> Option<String> {
        let dm = self.dm().ok()?;
        let dm_name = DmName::new(name).ok()?;
        let (_, targets) = dm
            .table_status(&DevId::Name(dm_name), DmOptions::default())
            .ok()?;
        // Only the first field: Linux 6.19 adds the count of blocks FEC corrected.
        let (_, _, _, params) = targets.first()?;
        params.split_whitespace().next().map(str::to_string)
    }

    fn read_all(&mut self, dev: DevNum) -> Result<u64, SysError> {
        use std::io::Read;
        let node = device_node(dev)?;
        let mut file = std::fs::File::open(&node)
            .map_err(|e| os_error(e, format!("cannot open {}", node.display())))?;
        let mut buf = vec![0u8; 1 << 20];
        let mut total: u64 = 0;
        loop {
            match file.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => total += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(os_error(
                        e,
                        format!(
                            "cannot read {} ({dev}) at byte {total} (verinit.verify=full reads \
                             it all)",
                            node.display()
                        ),
                    ))
                }
            }
        }
    }

    fn mount(
        &mut self,
        dev: DevNum,
        target: &str,
        fstype: &str,
        read_only: bool,
        data: Option<&str>,
    ) -> Result<(), SysError> {
        let node = device_node(dev)?;
        let _ = std::fs::create_dir_all(target);
        let mut flags = MsFlags::empty();
        if read_only {
            flags |= MsFlags::MS_RDONLY;
        }
        mount(Some(&node), target, Some(fstype), flags, data).map_err(|e| SysError {
            errno: Some(e as i32),
            what: format!(
                "cannot mount {} ({dev}) on {target} as {fstype}: {e}",
                node.display()
            ),
        })
    }

    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), String> {
        let path = Path::new(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        }
        std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn missing_dirs(&mut self, root: &str, dirs: &[&str]) -> Vec<String> {
        dirs.iter()
            .filter(|d| !Path::new(root).join(d.trim_start_matches('/')).is_dir())
            .map(|d| d.to_string())
            .collect()
    }

    fn look_up(&mut self, root: &str, paths: &[&str]) {
        // One thread per path: each blocks on the reads of its own directories and
        // inodes, and the file system fetches those side by side.
        std::thread::scope(|scope| {
            for path in paths {
                let full = Path::new(root).join(path.trim_start_matches('/'));
                scope.spawn(move || {
                    if let Some(p) = resolve_in_root(Path::new(root), &full, 16) {
                        let _ = std::fs::metadata(p);
                    }
                });
            }
        });
    }

    fn is_executable(&mut self, root: &str, path: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        let full = Path::new(root).join(path.trim_start_matches('/'));
        // Follow symlinks inside the new root, as exec will after the switch.
        let resolved = resolve_in_root(Path::new(root), &full, 16);
        resolved
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }

    fn switch_root(&mut self, new_root: &str) -> Result<(), String> {
        super::switch::switch_root(Path::new(new_root))
    }

    fn exec(&mut self, init: &str, args: &[String]) -> String {
        let to_c = |s: &str| CString::new(s.as_bytes()).map_err(|_| format!("NUL in '{s}'"));
        let argv: Result<Vec<CString>, String> = std::iter::once(init)
            .chain(args.iter().map(String::as_str))
            .map(to_c)
            .collect();
        let env: Result<Vec<CString>, String> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.into_encoded_bytes();
                kv.push(b'=');
                kv.extend(v.into_encoded_bytes());
                CString::new(kv).map_err(|_| "NUL in the environment".to_string())
            })
            .collect();
        let (argv, env, path) = match (argv, env, to_c(init)) {
            (Ok(a), Ok(e), Ok(p)) => (a, e, p),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e,
        };
        match execve(&path, &argv, &env) {
            Err(e) => format!("cannot execute {init}: {e}"),
            Ok(never) => match never {},
        }
    }
}

/// `path` (inside `root`) with symlinks followed as if `root` were `/`.
fn resolve_in_root(root: &Path, path: &Path, hops: u32) -> Option<PathBuf> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_symlink() {
        return Some(path.to_path_buf());
    }
    if hops == 0 {
        return None;
    }
    let target = std::fs::read_link(path).ok()?;
    let next = if target.is_absolute() {
        root.join(target.strip_prefix("/").ok()?)
    } else {
        path.parent()?.join(target)
    };
    resolve_in_root(root, &next, hops - 1)
}

/// Mounts the API filesystems the boot needs; one already mounted is fine.
/// The errno of a failed device-mapper ioctl, if the error carries one.
fn dm_errno(e: &devicemapper::DmError) -> Option<i32> {
    match e {
        devicemapper::DmError::Core(devicemapper::errors::Error::Ioctl(_, _, _, errno)) => {
            Some(**errno as i32)
        }
        _ => None,
    }
}

fn os_error(e: std::io::Error, what: String) -> SysError {
    SysError {
        errno: e.raw_os_error(),
        what: format!("{what}: {e}"),
    }
}

pub fn mount_api_filesystems() -> Vec<String> {
    let mut problems = Vec::new();
    for (source, target, fstype, flags, data) in [
        (
            "devtmpfs",
            "/dev",
            "devtmpfs",
            MsFlags::MS_NOSUID,
            Some("mode=0755"),
        ),
        (
            "proc",
            "/proc",
            "proc",
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None,
        ),
        (
            "sysfs",
            "/sys",
            "sysfs",
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None,
        ),
        // The booted system's /run, moved into it: it carries the boot record.
        (
            "tmpfs",
            "/run",
            "tmpfs",
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755"),
        ),
    ] {
        let _ = std::fs::create_dir_all(target);
        match mount(Some(source), target, Some(fstype), flags, data) {
            Ok(()) | Err(nix::errno::Errno::EBUSY) => {}
            Err(e) => problems.push(format!("cannot mount {fstype} on {target}: {e}")),
        }
    }
    problems
}

/// Makes /dev/console this process's stdin, stdout and stderr.
pub fn attach_console() -> Result<(), String> {
    use std::os::fd::AsFd;
    let console = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")
        .map_err(|e| format!("cannot open /dev/console: {e}"))?;
    let fd = console.as_fd();
    nix::unistd::dup2_stdin(fd)
        .and_then(|()| nix::unistd::dup2_stdout(fd))
        .and_then(|()| nix::unistd::dup2_stderr(fd))
        .map_err(|e| format!("cannot attach /dev/console: {e}"))
}

/// Unmounts what was mounted on a failed boot's way, so a reboot is clean. Best effort.
pub fn unmount_quietly(target: &str) {
    let _ = umount2(target, MntFlags::MNT_DETACH);
}
