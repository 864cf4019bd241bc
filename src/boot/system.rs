//! The thin layer that acts: one trait over the syscalls a boot makes, and the executor
//! that carries out a `Plan` through it. The real implementation is in `linux.rs`; tests
//! record the calls and compare them with the plan.

use std::collections::HashMap;
use std::fmt;

use crate::dm_table::{DevNum, DevRef, TableLine, Target};
use crate::plan::step::Step;
use crate::plan::Plan;

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
    ) -> Result<DevNum, String>;
    /// Mounts block device `dev` on `target`.
    fn mount(
        &mut self,
        dev: DevNum,
        target: &str,
        fstype: &str,
        read_only: bool,
        data: Option<&str>,
    ) -> Result<(), String>;
    /// Whether `path` inside `root` is a file init can be run from.
    fn is_executable(&mut self, root: &str, path: &str) -> bool;
    /// Moves /dev, /proc and /sys into `new_root`, frees the initramfs and makes
    /// `new_root` the root.
    fn switch_root(&mut self, new_root: &str) -> Result<(), String>;
    /// Replaces this process with `init`; returns only on failure.
    fn exec(&mut self, init: &str, args: &[String]) -> String;
}

/// The step that failed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub step: usize,
    pub what: String,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} failed: {}", self.step + 1, self.what)
    }
}

/// Why the kernel refused a table, in words, when the errno has a meaning of its own
/// for it: a verity table that names a signature key (`root_hash_sig_key_desc`) fails
/// with the kernel's verdict on the signature.
pub fn explain_table_error(errno: i32, table: &[TableLine]) -> Option<&'static str> {
    let signed = table.iter().any(|l| match &l.target {
        Target::Verity(v) => v.options.iter().any(|o| o == "root_hash_sig_key_desc"),
        _ => false,
    });
    if !signed {
        return None;
    }
    Some(match errno {
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
    })
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

/// Carries out a plan; `progress` hears of each step before it runs. Returns only on
/// failure: the last step execs init.
pub fn execute(
    plan: &Plan,
    sys: &mut dyn System,
    progress: &mut dyn FnMut(usize, &Step),
) -> StepError {
    let mut created: HashMap<String, DevNum> = HashMap::new();
    let mut keys: HashMap<String, i32> = HashMap::new();
    for (i, step) in plan.steps.iter().enumerate() {
        progress(i, step);
        let fail = |what: String| StepError { step: i, what };
        let result: Result<(), String> = match step {
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
                    ))
                }
            }
            Step::WaitForDevices { devices, .. } => devices
                .iter()
                .filter_map(|d| match d {
                    DevRef::Num(n) => Some(*n),
                    _ => None,
                })
                .try_for_each(|n| sys.device_ready(n)),
            Step::AddKey {
                description,
                payload,
                ..
            } => sys.add_key(description, payload).map(|serial| {
                keys.insert(description.clone(), serial);
            }),
            Step::RemoveKey { description } => match keys.remove(description) {
                Some(serial) => sys.remove_key(serial),
                None => Err(format!(
                    "key {description} was not added by an earlier step"
                )),
            },
            Step::DmCreate {
                name,
                uuid,
                read_only,
                table,
            } => table
                .iter()
                .map(|l| resolve(l, &created))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|lines| sys.dm_create(name, uuid, *read_only, &lines))
                .map(|dev| {
                    created.insert(name.clone(), dev);
                }),
            Step::Mount {
                source,
                target,
                fstype,
                read_only,
                data,
            } => {
                let dev = match source {
                    DevRef::Num(n) => Ok(*n),
                    DevRef::Name(n) => created
                        .get(n)
                        .copied()
                        .ok_or_else(|| format!("mount source {n} was not created")),
                    DevRef::Path(p) => Err(format!("cannot mount the file {p} at boot")),
                };
                dev.and_then(|d| sys.mount(d, target, fstype, *read_only, data.as_deref()))
            }
            Step::SwitchRoot { new_root: root } => {
                // Check init is there while there is still a way back.
                let init = plan.steps.iter().find_map(|s| match s {
                    Step::Exec { init, .. } => Some(init.as_str()),
                    _ => None,
                });
                match init {
                    Some(init) if !sys.is_executable(root, init) => Err(format!(
                        "{init} is not an executable file in the root filesystem: check init= \
                         on the kernel command line"
                    )),
                    _ => sys.switch_root(root),
                }
            }
            Step::Exec { init, args } => Err(sys.exec(init, args)),
        };
        if let Err(what) = result {
            return fail(what);
        }
    }
    StepError {
        step: plan.steps.len(),
        what: "the plan ended without exec".into(),
    }
}

#[cfg(test)]
#[path = "system_tests.rs"]
mod tests;
