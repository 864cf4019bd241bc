//! The steps of a boot plan: values that print themselves as a person reads them and
//! serialize to JSON for tools. The boot carries them out in order; the dry run prints.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};

use crate::dm_table::{DevRef, TableLine, Target};
use crate::dm_versions::{Requirement, TargetVersion};

/// dm-verity of Linux 6.1, the oldest kernel verinit is tested on; a table needing more
/// says so in the plan.
const TESTED_VERITY: TargetVersion = TargetVersion(1, 9, 0);

/// The newest need of the verity table among `table`'s lines, if it has one.
fn newest_need(table: &[TableLine]) -> Option<Requirement> {
    table.iter().find_map(|l| match &l.target {
        Target::Verity(v) => v.kernel_needs().first().copied(),
        _ => None,
    })
}

/// How long to wait for devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    Forever,
    For(Duration),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Load these kernel modules (with their dependencies), if the initramfs has them.
    LoadModules { modules: Vec<String> },
    /// Wait until these devices exist.
    WaitForDevices { devices: Vec<DevRef>, wait: Wait },
    /// Put a signature in the kernel keyring (a "user" key in the process keyring), for a
    /// verity table's `root_hash_sig_key_desc` to name.
    AddKey {
        description: String,
        payload: Vec<u8>,
        /// Where the signature came from, for the report.
        from: String,
    },
    /// Take the key out again: the kernel copied the signature when it loaded the table.
    RemoveKey { description: String },
    /// Create a dm device and load its table, read-only, then resume it.
    DmCreate {
        name: String,
        uuid: String,
        read_only: bool,
        table: Vec<TableLine>,
    },
    /// Read the whole device once (`verinit.verify=full`), so that dm-verity checks every
    /// block before the mount; a block that fails is an I/O error here, while another
    /// copy can still be booted.
    ReadAll { source: DevRef },
    /// Mount the root.
    Mount {
        source: DevRef,
        target: String,
        fstype: String,
        read_only: bool,
        data: Option<String>,
    },
    /// Write the boot record (`/run/verinit/boot.json`) for the booted system.
    WriteBootRecord { path: String },
    /// Move /dev, /proc, /sys and /run into the new root and make it `/`.
    SwitchRoot { new_root: String },
    /// Replace verinit with the real init.
    Exec { init: String, args: Vec<String> },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::LoadModules { .. } => "load-modules",
            Step::WaitForDevices { .. } => "wait-for-devices",
            Step::AddKey { .. } => "add-key",
            Step::RemoveKey { .. } => "remove-key",
            Step::DmCreate { .. } => "dm-create",
            Step::ReadAll { .. } => "read-all",
            Step::Mount { .. } => "mount",
            Step::WriteBootRecord { .. } => "write-boot-record",
            Step::SwitchRoot { .. } => "switch-root",
            Step::Exec { .. } => "exec",
        }
    }

    pub fn to_json(&self) -> Value {
        let mut v = match self {
            Step::LoadModules { modules } => json!({ "modules": modules }),
            Step::WaitForDevices { devices, wait } => json!({
                "devices": devices.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "timeout_ms": match wait {
                    Wait::Forever => Value::Null,
                    Wait::For(d) => json!(d.as_millis() as u64),
                },
            }),
            Step::AddKey {
                description,
                payload,
                from,
            } => json!({
                "type": "user",
                "description": description,
                "size": payload.len(),
                "from": from,
            }),
            Step::RemoveKey { description } => json!({ "description": description }),
            Step::DmCreate {
                name,
                uuid,
                read_only,
                table,
            } => json!({
                "name": name,
                "uuid": uuid,
                "read_only": read_only,
                "table": table.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "needs": newest_need(table).map(|n| json!({
                    "target": "verity",
                    "version": n.version.to_string(),
                    "linux": n.linux,
                    "for": n.word,
                })),
            }),
            Step::ReadAll { source } => json!({ "source": source.to_string() }),
            Step::WriteBootRecord { path } => json!({ "path": path }),
            Step::Mount {
                source,
                target,
                fstype,
                read_only,
                data,
            } => json!({
                "source": source.to_string(),
                "target": target,
                "fstype": fstype,
                "read_only": read_only,
                "options": mount_options(*read_only, data.as_deref()),
            }),
            Step::SwitchRoot { new_root } => json!({ "new_root": new_root }),
            Step::Exec { init, args } => json!({ "init": init, "args": args }),
        };
        v["kind"] = json!(self.kind());
        v
    }
}

/// The option string of a mount: `ro` or `rw`, then the root flags.
pub fn mount_options(read_only: bool, data: Option<&str>) -> String {
    let mode = if read_only { "ro" } else { "rw" };
    match data {
        Some(d) if !d.is_empty() => format!("{mode},{d}"),
        _ => mode.to_string(),
    }
}

/// How a person names a device: a dm device by its /dev/mapper path.
fn mapper_path(d: &DevRef) -> String {
    match d {
        DevRef::Name(n) => format!("/dev/mapper/{n}"),
        other => other.to_string(),
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::LoadModules { modules } => write!(f, "load modules {}", modules.join(" ")),
            Step::WaitForDevices { devices, wait } => {
                if devices.is_empty() {
                    return write!(f, "wait for devices: none (image files only)");
                }
                let list: Vec<String> = devices.iter().map(ToString::to_string).collect();
                write!(f, "wait for devices {}", list.join(" "))?;
                match wait {
                    Wait::Forever => write!(f, " (rootwait: no time limit)"),
                    Wait::For(d) => write!(f, " (up to {} s)", d.as_secs()),
                }
            }
            Step::AddKey {
                description,
                payload,
                from,
            } => write!(
                f,
                "add key user {description} to the keyring: the {}-byte signature from {from}",
                payload.len()
            ),
            Step::RemoveKey { description } => {
                write!(f, "remove key {description} from the keyring")
            }
            Step::DmCreate {
                name,
                uuid,
                read_only,
                table,
            } => {
                let mode = if *read_only {
                    "read-only"
                } else {
                    "READ-WRITE"
                };
                write!(f, "dm create {name} uuid {uuid} {mode}")?;
                for line in table {
                    write!(f, "\n    {line}")?;
                }
                if let Some(need) = newest_need(table).filter(|n| n.version > TESTED_VERITY) {
                    write!(
                        f,
                        "\n    (needs dm-verity {} or later, Linux {}, for {}; verinit checks \
                         the kernel's before loading it)",
                        need.version, need.linux, need.word
                    )?;
                }
                Ok(())
            }
            Step::Mount {
                source,
                target,
                fstype,
                read_only,
                data,
            } => {
                write!(
                    f,
                    "mount -t {fstype} -o {} {} {target}",
                    mount_options(*read_only, data.as_deref()),
                    mapper_path(source)
                )
            }
            Step::ReadAll { source } => write!(
                f,
                "read all of {} once (verinit.verify=full: the kernel checks every block \
                 before the mount)",
                mapper_path(source)
            ),
            Step::WriteBootRecord { path } => {
                write!(
                    f,
                    "write the boot record {path} (which copy booted, and why)"
                )
            }
            Step::SwitchRoot { new_root } => {
                write!(
                    f,
                    "switch root to {new_root} (move /dev /proc /sys /run, pivot_root)"
                )
            }
            Step::Exec { init, args } => {
                write!(f, "exec {init}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_print_and_serialize() {
        let step = Step::DmCreate {
            name: "vg0-root".into(),
            uuid: "LVM-x".into(),
            read_only: true,
            table: vec!["0 8 linear 7:0 2048".parse().unwrap()],
        };
        assert_eq!(
            step.to_string(),
            "dm create vg0-root uuid LVM-x read-only\n    0 8 linear 7:0 2048"
        );
        let j = step.to_json();
        assert_eq!(j["kind"], "dm-create");
        assert_eq!(j["table"][0], "0 8 linear 7:0 2048");
        let mount = Step::Mount {
            source: DevRef::Name("root".into()),
            target: "/sysroot".into(),
            fstype: "squashfs".into(),
            read_only: true,
            data: Some("noatime".into()),
        };
        assert_eq!(
            mount.to_string(),
            "mount -t squashfs -o ro,noatime /dev/mapper/root /sysroot"
        );
        assert_eq!(mount.to_json()["options"], "ro,noatime");
    }
}
