//! The thin layer that acts: one trait over the syscalls a boot makes, and the executor
//! that carries out a `Plan` through it. The real implementation is in `linux.rs`; tests
//! record the calls and compare them with the plan. `undo` takes back what a failed
//! copy's plan made, so that the next copy can be tried (`attempt.rs`), and
//! `another_copy_may_help` says which failures that is worth it for.

use std::collections::HashMap;
use std::fmt;

use crate::dm_table::{DevNum, DevRef, TableLine, Target};
use crate::dm_versions::{self, TargetVersion};
use crate::plan::step::Step;
use crate::plan::Plan;
use crate::report::MadeDevice;

/// A call that failed: what failed, naming the object, and the kernel's errno if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysError {
    pub errno: Option<i32>,
    pub what: String,
}

impl From<String> for SysError {
    fn from(what: String) -> Self {
        SysError { errno: None, what }
    }
}

/// The API filesystems moved into the new root (systemd's initrd moves the same four).
pub const API_MOUNTS: [&str; 4] = ["/dev", "/proc", "/sys", "/run"];

/// What the boot asks of the kernel. Errors are text naming the object and the cause.
pub trait System {
    /// Whether the kernel has this module, loaded or built in.
    fn has_module(&mut self, name: &str) -> bool;
    /// Whether a block device node is there to use (waits briefly if not).
    fn device_ready(&mut self, dev: DevNum) -> Result<(), String>;
    /// Adds a "user" key to this process's keyring; returns its serial number.
    fn add_key(&mut self, description: &str, payload: &[u8]) -> Result<i32, String>;
    /// Removes a key added by `add_key`.
    fn remove_key(&mut self, serial: i32) -> Result<(), String>;
    /// Creates a dm device, loads its table read-only and resumes it; returns its number.
    fn dm_create(
        &mut self,
        name: &str,
        uuid: &str,
        read_only: bool,
        table: &[TableLine],
    ) -> Result<DevNum, SysError>;
    /// The version of the kernel's dm target `name` (DM_LIST_VERSIONS), None when the
    /// kernel cannot say (no such target loaded, or the ioctl failed).
    fn target_version(&mut self, name: &str) -> Option<TargetVersion>;
    /// Removes a dm device `dm_create` made.
    fn dm_remove(&mut self, name: &str) -> Result<(), String>;
    /// The first field of a verity device's status: `V` (no corruption seen) or `C`
    /// (a block did not match its hash). Later kernels add fields after it.
    fn verity_status(&mut self, name: &str) -> Option<String>;
    /// Reads all of block device `dev` once; returns the bytes read.
    fn read_all(&mut self, dev: DevNum) -> Result<u64, SysError>;
    /// Mounts block device `dev` on `target`.
    fn mount(
        &mut self,
        dev: DevNum,
        target: &str,
        fstype: &str,
        read_only: bool,
        data: Option<&str>,
    ) -> Result<(), SysError>;
    /// Writes a file (making its directory), for the boot record.
    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), String>;
    /// Which of `dirs` `root` has no directory for.
    fn missing_dirs(&mut self, root: &str, dirs: &[&str]) -> Vec<String>;
    /// A hint that `paths` inside `root` are about to be looked at (by `missing_dirs`,
    /// `is_executable` and the switch): the real system looks them up side by side, so
    /// that the reads of the new root's directories overlap instead of queueing.
    fn look_up(&mut self, _root: &str, _paths: &[&str]) {}
    /// Whether `path` inside `root` is a file init can be run from.
    fn is_executable(&mut self, root: &str, path: &str) -> bool;
    /// Moves `API_MOUNTS` into `new_root` (those it has a directory for), frees the
    /// initramfs and makes `new_root` the root.
    fn switch_root(&mut self, new_root: &str) -> Result<(), String>;
    /// Replaces this process with `init`; returns only on failure.
    fn exec(&mut self, init: &str, args: &[String]) -> String;
}

/// The step that failed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub step: usize,
    pub what: String,
    /// Whether another copy of the image may get past this failure (see
    /// `another_copy_may_help`).
    pub copy_specific: bool,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} failed: {}", self.step + 1, self.what)
    }
}

/// What carrying out one copy's plan did: how it ended (only a failure returns), what
/// it made, and what it warned of.
#[derive(Debug)]
pub struct Attempt {
    pub error: StepError,
    /// The dm devices made, in order.
    pub made: Vec<MadeDevice>,
    /// Serial numbers of keys still in the keyring.
    pub keys: Vec<i32>,
    pub warnings: Vec<String>,
}

/// Whether booting another copy of the same image may get past a failure of `step`
/// with `errno` (None: no errno, or not from the kernel), `corrupted` when the verity
/// device's status says it found a corrupted block. Worth another copy: the copy's own
/// devices (missing, failing to load a table on them, I/O errors, corruption). Not worth
/// it: what every copy shares (modules, the kernel's verdict on the signature, hash
/// algorithms, bad arguments, the root file system's content).
pub fn another_copy_may_help(step: &Step, errno: Option<i32>, corrupted: bool) -> bool {
    const EIO: i32 = 5;
    const ENXIO: i32 = 6;
    const EBUSY: i32 = 16;
    const ENODEV: i32 = 19;
    const EINVAL: i32 = 22;
    match step {
        Step::WaitForDevices { .. } => true,
        Step::DmCreate { table, .. } => {
            let verity = table.iter().any(|l| matches!(l.target, Target::Verity(_)));
            match errno {
                None => false,
                Some(EIO | ENXIO | EBUSY | ENODEV) => true,
                // A linear table fails on its devices (too small, gone); a verity table
                // with EINVAL has arguments or an algorithm the kernel refuses.
                Some(EINVAL) => !verity,
                Some(_) => false,
            }
        }
        Step::ReadAll { .. } => corrupted || errno == Some(EIO),
        Step::Mount { .. } => corrupted || errno == Some(EIO),
        _ => false,
    }
}

/// Why the kernel refused a table, in words, when the errno has a meaning of its own
/// for it: a verity table that names a signature key (`root_hash_sig_key_desc`) fails
/// with the kernel's verdict on the signature, and one with Linux 6.12's words fails
/// with EINVAL on an older kernel whatever its target's version says.
pub fn explain_table_error(errno: i32, table: &[TableLine]) -> Option<String> {
    const EINVAL: i32 = 22;
    let verity = table.iter().find_map(|l| match &l.target {
        Target::Verity(v) => Some(v),
        _ => None,
    })?;
    if errno == EINVAL {
        return dm_versions::einval_hint(verity);
    }
    if !verity.options.iter().any(|o| o == "root_hash_sig_key_desc") {
        return None;
    }
    Some(String::from(match errno {
        ENOKEY => {
            "the kernel does not trust the key that signed the root hash (ENOKEY): the \
             signer's certificate must be among the kernel's trusted keys \
             (CONFIG_SYSTEM_TRUSTED_KEYS when the kernel is built, or the secondary keyring \
             with CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG_SECONDARY_KEYRING); check that the \
             image was signed with the key this kernel was built to trust"
        }
        EKEYREJECTED => {
            "the kernel rejected the root hash signature (EKEYREJECTED): it does not verify \
             with the trusted signer's certificate, so it was altered or made for another \
             root hash; sign the image again"
        }
        EBADMSG => {
            "the kernel cannot read the root hash signature (EBADMSG): it is not PKCS#7 as \
             the kernel parses it; sign with openssl smime -sign -binary -outform der"
        }
        ENOPKG => {
            "the kernel lacks an algorithm of the root hash signature (ENOPKG): build in \
             the signature's digest and key algorithms (e.g. CONFIG_CRYPTO_SHA256, \
             CONFIG_CRYPTO_RSA)"
        }
        _ => return None,
    }))
}

/// Checks, before a verity table is loaded, that the kernel's dm-verity target is new
/// enough for its option words (`dm_versions`). A kernel that cannot say is let try:
/// the load then fails with its own error.
fn check_target_version(sys: &mut dyn System, table: &[TableLine]) -> Result<(), SysError> {
    for line in table {
        let Target::Verity(v) = &line.target else {
            continue;
        };
        let needs = v.kernel_needs();
        if needs.is_empty() {
            continue;
        }
        if let Some(have) = sys.target_version("verity") {
            if let Some(why) = dm_versions::unsupported(&needs, have) {
                return Err(why.into());
            }
        }
    }
    Ok(())
}

const ENOPKG: i32 = 65;
const EBADMSG: i32 = 74;
const ENOKEY: i32 = 126;
const EKEYREJECTED: i32 = 129;

/// Replaces the names of dm devices created earlier by their numbers.
fn resolve(line: &TableLine, created: &HashMap<String, DevNum>) -> Result<TableLine, String> {
    let map = |d: &DevRef| -> Result<DevRef, String> {
        match d {
            DevRef::Num(n) => Ok(DevRef::Num(*n)),
            DevRef::Name(n) => created
                .get(n)
                .map(|n| DevRef::Num(*n))
                .ok_or_else(|| format!("table names dm device {n}, which no earlier step created")),
            DevRef::Path(p) => Err(format!(
                "table names the file {p}: only the dry run reads image files"
            )),
        }
    };
    let target = match &line.target {
        Target::Linear { dev, offset } => Target::Linear {
            dev: map(dev)?,
            offset: *offset,
        },
        Target::Striped { chunk, stripes } => Target::Striped {
            chunk: *chunk,
            stripes: stripes
                .iter()
                .map(|(d, o)| Ok((map(d)?, *o)))
                .collect::<Result<_, String>>()?,
        },
        Target::Verity(v) => {
            let mut v = v.clone();
            v.data_dev = map(&v.data_dev)?;
            v.hash_dev = map(&v.hash_dev)?;
            v.map_fec_device(map)?;
            Target::Verity(v)
        }
    };
    Ok(TableLine {
        start: line.start,
        len: line.len,
        target,
    })
}

/// Makes the boot record's bytes from the dm devices made and the warnings so far.
pub type RecordFn<'a> = dyn FnMut(&[MadeDevice], &[String]) -> Vec<u8> + 'a;

/// Carries out a plan; `progress` hears of each step before it runs, `record` gives the
/// boot record's bytes (from the dm devices made and the warnings so far). Returns only
/// on failure: the last step execs init.
/// The init the plan's last step runs.
fn init_of(plan: &Plan) -> Option<&str> {
    plan.steps.iter().find_map(|s| match s {
        Step::Exec { init, .. } => Some(init.as_str()),
        _ => None,
    })
}

pub fn execute(
    plan: &Plan,
    sys: &mut dyn System,
    progress: &mut dyn FnMut(usize, &Step),
    record: &mut RecordFn<'_>,
) -> Attempt {
    let mut created: HashMap<String, DevNum> = HashMap::new();
    let mut made: Vec<MadeDevice> = Vec::new();
    let mut keys: HashMap<String, i32> = HashMap::new();
    let mut warnings: Vec<String> = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        progress(i, step);
        let result: Result<(), SysError> = match step {
            Step::LoadModules { modules } => {
                let missing: Vec<&str> = modules
                    .iter()
                    .map(String::as_str)
                    .filter(|m| !sys.has_module(m))
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "kernel module {} is neither built in nor in the initramfs: add it \
                         to the initramfs (or build it into the kernel)",
                        missing.join(", ")
                    )
                    .into())
                }
            }
            Step::WaitForDevices { devices, .. } => devices
                .iter()
                .filter_map(|d| match d {
                    DevRef::Num(n) => Some(*n),
                    _ => None,
                })
                .try_for_each(|n| sys.device_ready(n))
                .map_err(SysError::from),
            Step::AddKey {
                description,
                payload,
                ..
            } => sys
                .add_key(description, payload)
                .map(|serial| {
                    keys.insert(description.clone(), serial);
                })
                .map_err(SysError::from),
            Step::RemoveKey { description } => match keys.remove(description) {
                Some(serial) => sys.remove_key(serial).map_err(SysError::from),
                None => Err(format!("key {description} was not added by an earlier step").into()),
            },
            Step::DmCreate {
                name,
                uuid,
                read_only,
                table,
            } => check_target_version(sys, table)
                .and_then(|()| {
                    table
                        .iter()
                        .map(|l| resolve(l, &created))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(SysError::from)
                })
                .and_then(|lines| sys.dm_create(name, uuid, *read_only, &lines))
                .map(|dev| {
                    created.insert(name.clone(), dev);
                    made.push(MadeDevice {
                        name: name.clone(),
                        uuid: uuid.clone(),
                        dev,
                    });
                }),
            Step::ReadAll { source } => {
                device_of(source, &created).and_then(|d| sys.read_all(d).map(|_| ()))
            }
            Step::Mount {
                source,
                target,
                fstype,
                read_only,
                data,
            } => device_of(source, &created)
                .and_then(|d| sys.mount(d, target, fstype, *read_only, data.as_deref())),
            Step::WriteBootRecord { path } => {
                let root = plan.steps.iter().find_map(|s| match s {
                    Step::SwitchRoot { new_root } => Some(new_root.as_str()),
                    _ => None,
                });
                if let Some(root) = root {
                    let paths: Vec<&str> =
                        API_MOUNTS.iter().copied().chain(init_of(plan)).collect();
                    sys.look_up(root, &paths);
                    for dir in sys.missing_dirs(root, &API_MOUNTS) {
                        warnings.push(format!(
                            "the root file system has no {dir} directory: {dir} stays behind \
                             in the initramfs{}; add the directory to the image",
                            if dir == "/run" {
                                ", and the booted system cannot read the boot record"
                            } else {
                                ""
                            }
                        ));
                    }
                }
                let bytes = record(&made, &warnings);
                // The record informs; a boot does not fail for want of it.
                if let Err(e) = sys.write_file(path, &bytes) {
                    warnings.push(format!("cannot write the boot record: {e}"));
                }
                Ok(())
            }
            Step::SwitchRoot { new_root: root } => {
                // Check init is there while there is still a way back.
                match init_of(plan) {
                    Some(init) if !sys.is_executable(root, init) => Err(format!(
                        "{init} is not an executable file in the root filesystem: check init= \
                         on the kernel command line"
                    )
                    .into()),
                    _ => sys.switch_root(root).map_err(SysError::from),
                }
            }
            Step::Exec { init, args } => Err(sys.exec(init, args).into()),
        };
        if let Err(e) = result {
            let corrupted = match step {
                Step::Mount { source, .. } | Step::ReadAll { source } => {
                    verity_name(source, plan)
                        .and_then(|n| sys.verity_status(n))
                        .as_deref()
                        == Some("C")
                }
                _ => false,
            };
            let mut what = e.what;
            if corrupted {
                what.push_str(" (dm-verity found a block that does not match its hash)");
            }
            return Attempt {
                error: StepError {
                    step: i,
                    what,
                    copy_specific: another_copy_may_help(step, e.errno, corrupted),
                },
                made,
                keys: keys.into_values().collect(),
                warnings,
            };
        }
    }
    Attempt {
        error: StepError {
            step: plan.steps.len(),
            what: "the plan ended without exec".into(),
            copy_specific: false,
        },
        made,
        keys: keys.into_values().collect(),
        warnings,
    }
}

/// The device a step reads: a number, or a dm device an earlier step created.
fn device_of(source: &DevRef, created: &HashMap<String, DevNum>) -> Result<DevNum, SysError> {
    match source {
        DevRef::Num(n) => Ok(*n),
        DevRef::Name(n) => created
            .get(n)
            .copied()
            .ok_or_else(|| format!("{n} was not created by an earlier step").into()),
        DevRef::Path(p) => Err(format!("cannot use the file {p} at boot").into()),
    }
}

/// The name of `source` when the plan created it with a verity table.
fn verity_name<'a>(source: &'a DevRef, plan: &Plan) -> Option<&'a str> {
    let DevRef::Name(n) = source else {
        return None;
    };
    plan.steps
        .iter()
        .any(|s| {
            matches!(s, Step::DmCreate { name, table, .. }
                if name == n && table.iter().any(|l| matches!(l.target, Target::Verity(_))))
        })
        .then_some(n.as_str())
}

/// Takes back what a failed attempt made, so that another copy can be tried: the keys
/// it still holds, then its dm devices in reverse order. Returns what could not be
/// undone (the next copy then likely fails to create its devices, and says so).
pub fn undo(sys: &mut dyn System, attempt: &Attempt) -> Vec<String> {
    let mut problems = Vec::new();
    for &serial in &attempt.keys {
        if let Err(e) = sys.remove_key(serial) {
            problems.push(e);
        }
    }
    for d in attempt.made.iter().rev() {
        if let Err(e) = sys.dm_remove(&d.name) {
            problems.push(e);
        }
    }
    problems
}

#[cfg(test)]
#[path = "system_tests.rs"]
mod tests;
