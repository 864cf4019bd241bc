//! The kernel command line (`/proc/cmdline`) as typed boot arguments.
//!
//! Options read (keys compare with '-' and '_' alike; anything else is ignored):
//!   root=<device> | root=ddi:lvm:<VG>/<LV> | root=ddi:GPTUUID=<disk GUID>
//!   rd.lvm.lv=<VG>/<LV>                      repeatable
//!   [rd.]systemd.verity_root_data=<device>   [rd.]systemd.verity_root_hash=<device>
//!   [rd.]systemd.verity_root_options=<veritytab options>
//!   [rd.]systemd.verity=<boolean>            bare: yes
//!   [rd.]roothash=<hex> | rd.ddi.roothash=<hex>   (both: they must agree)
//!   rootfstype=  rootflags=  ro | rw  rootwait  rootdelay=<s>  panic=<s>  init=/<path>
//!   rd.emergency=reboot|poweroff|halt|panic
//!   verinit.verify=full|off                  full: read the whole verified root once
//!                                            before mounting it
//!   -- <init arguments>
//! `tokenize` splits words, `option_key` names them, `boot_args` folds them into `BootArgs`
//! with the precedence rules; `device_spec`, `lvm_name` and `verity_options` parse values.
//! Every bad option is reported, not only the first.

mod boot_args;
mod device_spec;
mod lvm_name;
mod option_key;
mod scalar;
mod tokenize;
mod verity_options;

use std::fmt;
use std::time::Duration;

pub use device_spec::{DeviceSpec, Root};
pub use lvm_name::VgLv;
pub use verity_options::{CorruptionMode, VerityOptions};

use crate::id::RootHash;

/// A command line option verinit cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdlineError {
    /// The word as written, e.g. `roothash=xyz`.
    pub option: String,
    /// Why it is wrong, and how to fix it where that is known.
    pub why: String,
}

impl fmt::Display for CmdlineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel command line option '{}': {}",
            self.option, self.why
        )
    }
}

impl std::error::Error for CmdlineError {}

/// What to do when the root cannot be set up (`rd.emergency=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    Reboot,
    Poweroff,
    Halt,
    Panic,
}

impl fmt::Display for FailurePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailurePolicy::Reboot => "reboot",
            FailurePolicy::Poweroff => "poweroff",
            FailurePolicy::Halt => "halt",
            FailurePolicy::Panic => "panic",
        })
    }
}

/// What the command line asks of verinit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootArgs {
    /// `root=`.
    pub root: Option<Root>,
    /// `rd.lvm.lv=`, in order, each LV once.
    pub lvm_lv: Vec<VgLv>,
    /// `systemd.verity_root_data=`.
    pub verity_data: Option<DeviceSpec>,
    /// `systemd.verity_root_hash=`.
    pub verity_hash: Option<DeviceSpec>,
    /// `roothash=` or `rd.ddi.roothash=`.
    pub root_hash: Option<RootHash>,
    /// `systemd.verity=`.
    pub verity: Option<bool>,
    /// `systemd.verity_root_options=`.
    pub verity_options: VerityOptions,
    /// `rootfstype=`.
    pub fstype: Option<String>,
    /// `rootflags=`.
    pub flags: Option<String>,
    /// `rw` (true) or `ro` (false), the last one; false when neither is given.
    pub read_write: bool,
    /// `init=`, an absolute path.
    pub init: Option<String>,
    /// The words after `--`.
    pub init_args: Vec<String>,
    pub rootwait: bool,
    /// `rootdelay=`, whole seconds.
    pub rootdelay: Option<Duration>,
    /// `rd.emergency=`.
    pub emergency: Option<FailurePolicy>,
    /// The kernel's `panic=` seconds; negative reboots at once, 0 never.
    pub panic: Option<i64>,
    /// `dm_verity.require_signatures=`: the root hash must come with a signature, which
    /// the kernel checks (the same option makes the kernel refuse any unsigned verity
    /// table).
    pub require_signatures: bool,
    /// `verinit.verify=full`: read the whole verity device once before the mount, so
    /// that the kernel checks every block while another copy can still be booted.
    pub verify_full: bool,
    /// (field name, the option word as written) for each field set, in field order;
    /// `lvm_lv` once per LV; `init_args` gives the text from `--` on.
    pub sources: Vec<(String, String)>,
}

impl BootArgs {
    /// The word that set a field, for "root hash from rd.ddi.roothash=...".
    pub fn source(&self, field: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, written)| written.as_str())
    }
}

/// The `<module>.<param>[=<value>]` words of a command line, split once: what `modprobe`
/// passes each loadable module to `finit_module` (module names compare with '-' and '_'
/// alike).
pub struct ModuleParameters(Vec<(String, String)>);

impl ModuleParameters {
    pub fn parse(text: &str) -> ModuleParameters {
        let mut all = Vec::new();
        for word in tokenize::tokenize(text).options {
            let Some((name, param)) = word.key.split_once('.') else {
                continue;
            };
            if param.is_empty() {
                continue;
            }
            let param = match &word.value {
                None => param.to_string(),
                Some(v) if v.contains(char::is_whitespace) => format!("{param}=\"{v}\""),
                Some(v) => format!("{param}={v}"),
            };
            all.push((name.to_string(), param));
        }
        ModuleParameters(all)
    }

    /// One module's parameters, space separated, a value with spaces in double quotes.
    /// E.g. `dm_verity.require_signatures=1` gives dm-verity `require_signatures=1`.
    pub fn of(&self, module: &str) -> String {
        let module = module.replace('-', "_");
        let mine: Vec<&str> = self
            .0
            .iter()
            .filter(|(name, _)| *name == module)
            .map(|(_, param)| param.as_str())
            .collect();
        mine.join(" ")
    }
}

/// `ModuleParameters::parse(text).of(module)`.
pub fn module_parameters(text: &str, module: &str) -> String {
    ModuleParameters::parse(text).of(module)
}

/// Parses `/proc/cmdline` text; on failure, every bad option at once, in order.
pub fn parse(text: &str) -> Result<BootArgs, Vec<CmdlineError>> {
    let words = tokenize::tokenize(text);
    let mut builder = boot_args::Builder::default();
    for word in &words.options {
        builder.apply(word);
    }
    builder
        .finish(words.init_args, words.after_dashes)
        .map_err(|mut errors| {
            if errors.len() > MAX_REPORTED_ERRORS {
                let more = errors.len() - MAX_REPORTED_ERRORS + 1;
                errors.truncate(MAX_REPORTED_ERRORS - 1);
                errors.push(CmdlineError {
                    option: "...".into(),
                    why: format!("and {more} more bad options, not shown"),
                });
            }
            errors
        })
}

/// The most errors reported for one command line: a console shows them all.
pub const MAX_REPORTED_ERRORS: usize = 16;

#[cfg(test)]
mod tests;
