//! Device names on the command line: `root=`, `systemd.verity_root_data=`,
//! `systemd.verity_root_hash=` and veritytab's `fec-device=`.
//!
//! Grammar:
//!   device = "PARTUUID=" (guid | lvm-id)      ; 36 characters: GPT partition; 32 or 38: LV
//!          | "PARTLABEL=" text | "UUID=" text | "LABEL=" text
//!          | "/dev/disk/by-partuuid/" guid | "/dev/disk/by-partlabel/" udev-text
//!          | "/dev/disk/by-uuid/" udev-text | "/dev/disk/by-label/" udev-text
//!          | "/dev/mapper/root"                      ; the verified root itself
//!          | "/dev/mapper/" dm-name | "/dev/" vg "/" lv | "/dev/" kernel-name
//!   root   = device | "ddi:lvm:" vg "/" lv | "ddi:GPTUUID=" guid
//! udev-text is the link name udev makes: a byte it does not allow in a name is written
//! `\xNN`. Filesystem UUIDs are kept as text, lowercased. `Display` gives the canonical form
//! back, which parses to the same value (`ddi:` forms through `Root::parse`).

use std::fmt;

use super::lvm_name::VgLv;
use crate::id::{Guid, LvmId};

/// A block device as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// A GPT partition's unique GUID.
    PartUuid(Guid),
    /// A logical volume's LVM UUID, written as `PARTUUID=`.
    LvUuid(LvmId),
    Lv(VgLv),
    /// A whole disk by its GPT disk GUID (`ddi:GPTUUID=`).
    DiskGuid(Guid),
    PartLabel(String),
    /// A filesystem UUID, lowercased.
    FsUuid(String),
    Label(String),
    /// A kernel device name such as `vda2`.
    KernelName(String),
    /// `/dev/mapper/root`: the verified root that verinit (like systemd) creates itself.
    /// As `root=` it names no volume; the volume comes from the other options.
    VerityRoot,
}

/// The `root=` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub spec: DeviceSpec,
    /// Given in a `ddi:` form: the root is a discoverable disk image.
    pub expect_ddi: bool,
    /// The value as written, quotes removed.
    pub text: String,
}

const DEVICE_FORMS: &str = "PARTUUID=<GUID or LVM UUID>, PARTLABEL=<label>, UUID=<fs UUID>, \
     LABEL=<label>, /dev/disk/by-{partuuid,partlabel,uuid,label}/..., /dev/<VG>/<LV>, \
     /dev/mapper/<VG>-<LV> or /dev/<kernel name>";
const DDI_FORMS: &str = "ddi:lvm:<VG>/<LV> or ddi:GPTUUID=<disk GUID>";

/// Directories under /dev that are not volume groups.
const DEV_DIRS: [&str; 4] = ["block", "char", "disk", "mapper"];

fn unsupported(text: &str, why: &str) -> String {
    format!("'{text}' {why}; supported forms: {DEVICE_FORMS}")
}

/// Undoes udev's `\xNN` escaping of a /dev/disk/by-* link name.
fn udev_unescape(name: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if let (b'\\', Some((b'x', hex))) = (b, tail.split_first()) {
            let byte = hex
                .get(..2)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("'{name}' has a '\\x' not followed by two hex digits"))?;
            bytes.push(byte);
            rest = hex.get(2..).unwrap_or_default();
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("'{name}' unescapes to text that is not UTF-8"))
}

fn nonempty(form: &str, value: &str) -> Result<String, String> {
    if value.is_empty() {
        Err(format!("{form} is empty"))
    } else {
        Ok(value.to_string())
    }
}

fn fs_uuid(value: &str) -> Result<DeviceSpec, String> {
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "filesystem UUID '{value}' is not letters, digits and '-' (as blkid shows it)"
        ));
    }
    Ok(DeviceSpec::FsUuid(value.to_ascii_lowercase()))
}

fn part_uuid(value: &str) -> Result<DeviceSpec, String> {
    if value.contains("/PARTNROFF=") {
        return Err("PARTUUID=.../PARTNROFF= is not supported: name the partition itself".into());
    }
    match value.len() {
        36 => Guid::parse(value).map(DeviceSpec::PartUuid),
        32 | 38 => LvmId::parse(value).map(DeviceSpec::LvUuid),
        n => {
            return Err(format!(
                "PARTUUID '{value}' has {n} characters: expected a GPT partition GUID (36, \
                 like 4f68bce3-e8cd-4db1-96e7-fbcaf984b709) or an LVM UUID (32, or 38 dashed)"
            ))
        }
    }
    .map_err(|e| e.to_string())
}

fn kernel_name(name: &str) -> Result<DeviceSpec, String> {
    let path = format!("/dev/{name}");
    if name == "nfs" {
        return Err(unsupported(
            &path,
            "is a network root, which is not supported",
        ));
    }
    if DEV_DIRS.contains(&name) {
        return Err(unsupported(&path, "is a directory"));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '+');
    if name.is_empty() || !name.chars().all(ok) || name.starts_with('.') {
        return Err(unsupported(&path, "is not a kernel device name"));
    }
    Ok(DeviceSpec::KernelName(name.to_string()))
}

/// A path under /dev, `rest` being what follows "/dev/".
fn dev_path(text: &str, rest: &str) -> Result<DeviceSpec, String> {
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["disk", "by-partuuid", guid] => Guid::parse(guid)
            .map(DeviceSpec::PartUuid)
            .map_err(|e| e.to_string()),
        ["disk", "by-partlabel", name] => {
            nonempty("partition label", &udev_unescape(name)?).map(DeviceSpec::PartLabel)
        }
        ["disk", "by-uuid", name] => fs_uuid(&udev_unescape(name)?),
        ["disk", "by-label", name] => {
            nonempty("filesystem label", &udev_unescape(name)?).map(DeviceSpec::Label)
        }
        ["disk", ..] => Err(unsupported(
            text,
            "names a device in a way verinit does not resolve (by-id and by-path depend \
             on the hardware)",
        )),
        ["mapper", "root"] => Ok(DeviceSpec::VerityRoot),
        ["mapper", name] => VgLv::from_dm_name(name).map(DeviceSpec::Lv),
        [name] => kernel_name(name),
        [vg, lv] if !DEV_DIRS.contains(vg) => VgLv::new(vg, lv).map(DeviceSpec::Lv),
        _ => Err(unsupported(text, "is not a path verinit resolves")),
    }
}

impl DeviceSpec {
    /// A device as systemd and dracut name it; `ddi:` forms belong to `root=` only.
    pub fn parse(text: &str) -> Result<DeviceSpec, String> {
        if let Some(v) = text.strip_prefix("PARTUUID=") {
            part_uuid(v)
        } else if let Some(v) = text.strip_prefix("PARTLABEL=") {
            nonempty("PARTLABEL=", v).map(DeviceSpec::PartLabel)
        } else if let Some(v) = text.strip_prefix("UUID=") {
            fs_uuid(v)
        } else if let Some(v) = text.strip_prefix("LABEL=") {
            nonempty("LABEL=", v).map(DeviceSpec::Label)
        } else if let Some(rest) = text.strip_prefix("/dev/") {
            dev_path(text, rest)
        } else if text.is_empty() {
            Err(format!(
                "the device is empty; supported forms: {DEVICE_FORMS}"
            ))
        } else if text.starts_with("ddi:") {
            Err(format!(
                "'{text}' names a disk image, which only root= may do"
            ))
        } else {
            Err(unsupported(text, "is not a device name verinit resolves"))
        }
    }
}

impl Root {
    /// The value of `root=`: a device, or a discoverable disk image in a `ddi:` form.
    pub fn parse(text: &str) -> Result<Root, String> {
        let spec = match text.strip_prefix("ddi:") {
            None => DeviceSpec::parse(text)?,
            Some(form) => {
                if let Some(vg_lv) = form.strip_prefix("lvm:") {
                    DeviceSpec::Lv(VgLv::parse(vg_lv)?)
                } else if let Some(guid) = form.strip_prefix("GPTUUID=") {
                    DeviceSpec::DiskGuid(Guid::parse(guid).map_err(|e| e.to_string())?)
                } else {
                    return Err(format!(
                        "unknown disk image form '{text}'; expected {DDI_FORMS}"
                    ));
                }
            }
        };
        Ok(Root {
            spec,
            expect_ddi: text.starts_with("ddi:"),
            text: text.to_string(),
        })
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::PartUuid(guid) => write!(f, "PARTUUID={guid}"),
            DeviceSpec::LvUuid(id) => write!(f, "PARTUUID={id}"),
            DeviceSpec::Lv(v) if DEV_DIRS.contains(&v.vg.as_str()) => {
                write!(f, "/dev/mapper/{}", v.dm_name())
            }
            DeviceSpec::Lv(v) => write!(f, "/dev/{}/{}", v.vg, v.lv),
            DeviceSpec::DiskGuid(guid) => write!(f, "ddi:GPTUUID={guid}"),
            DeviceSpec::PartLabel(label) => write!(f, "PARTLABEL={label}"),
            DeviceSpec::FsUuid(uuid) => write!(f, "UUID={uuid}"),
            DeviceSpec::Label(label) => write!(f, "LABEL={label}"),
            DeviceSpec::KernelName(name) => write!(f, "/dev/{name}"),
            DeviceSpec::VerityRoot => write!(f, "/dev/mapper/root"),
        }
    }
}

#[cfg(test)]
#[path = "device_spec_tests.rs"]
mod tests;
