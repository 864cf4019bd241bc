//! Folding option words into `BootArgs`: value checks, precedence and where each field came
//! from.
//!
//! Precedence: for a repeated key the last word wins; a word with the `rd.` prefix wins over
//! any without it, wherever it stands; `rd.lvm.lv` adds an LV each time. A word with a bad
//! value is an error even when a later word would have replaced it: it was meant. `roothash=`
//! and `rd.ddi.roothash=` may both be given only when they agree.

use std::time::Duration;

/// The most `rd.lvm.lv=` options taken: dracut users name one or two; the bound keeps a
/// huge command line from costing quadratic time.
pub const MAX_LVM_LV: usize = 64;

use super::device_spec::{DeviceSpec, Root};
use super::lvm_name::VgLv;
use super::option_key::{recognize, Arity, OptionKey, Recognized};
use super::scalar::{boolean, kernel_boolean, signed, unsigned};
use super::tokenize::Word;
use super::verity_options::VerityOptions;
use super::{BootArgs, CmdlineError, FailurePolicy};
use crate::id::RootHash;

/// One field's value and the word that gave it.
struct Setting<'a, T> {
    value: T,
    from_rd: bool,
    written: &'a str,
}

type Slot<'a, T> = Option<Setting<'a, T>>;

/// `BootArgs` being built, word by word.
#[derive(Default)]
pub(crate) struct Builder<'a> {
    root: Slot<'a, Root>,
    lvm_lv: Vec<(VgLv, &'a str)>,
    verity_data: Slot<'a, DeviceSpec>,
    verity_hash: Slot<'a, DeviceSpec>,
    systemd_root_hash: Slot<'a, RootHash>,
    ddi_root_hash: Slot<'a, RootHash>,
    verity: Slot<'a, bool>,
    verity_options: Slot<'a, VerityOptions>,
    fstype: Slot<'a, String>,
    flags: Slot<'a, String>,
    read_write: Slot<'a, bool>,
    init: Slot<'a, String>,
    rootwait: Slot<'a, bool>,
    rootdelay: Slot<'a, Duration>,
    emergency: Slot<'a, FailurePolicy>,
    panic: Slot<'a, i64>,
    require_signatures: Slot<'a, bool>,
    verify_full: Slot<'a, bool>,
    errors: Vec<CmdlineError>,
}

/// Keeps `value` unless the slot holds a value from an `rd.` word and this one is not.
fn set<'a, T>(slot: &mut Slot<'a, T>, value: T, r: Recognized, written: &'a str) {
    if slot.as_ref().is_some_and(|s| s.from_rd && !r.from_rd) {
        return;
    }
    *slot = Some(Setting {
        value,
        from_rd: r.from_rd,
        written,
    });
}

fn root_hash(value: &str) -> Result<RootHash, String> {
    RootHash::parse(value)
        .map_err(|e| format!("{e}; give the root hash veritysetup format printed, in hex"))
}

fn init_path(value: &str) -> Result<String, String> {
    if value.starts_with('/') {
        Ok(value.to_string())
    } else {
        Err(format!(
            "'{value}' is not an absolute path; write init=/sbin/init or the like"
        ))
    }
}

fn failure_policy(value: &str) -> Result<FailurePolicy, String> {
    match value {
        "reboot" => Ok(FailurePolicy::Reboot),
        "poweroff" => Ok(FailurePolicy::Poweroff),
        "halt" => Ok(FailurePolicy::Halt),
        "panic" => Ok(FailurePolicy::Panic),
        _ => Err(format!("'{value}' is not reboot, poweroff, halt or panic")),
    }
}

impl<'a> Builder<'a> {
    fn error(&mut self, written: &str, why: String) {
        self.errors.push(CmdlineError {
            option: written.to_string(),
            why,
        });
    }

    /// Folds in one word; a word verinit does not read is ignored.
    pub(crate) fn apply(&mut self, word: &Word<'a>) {
        let Some(r) = recognize(&word.key) else {
            return;
        };
        let usage = r.key.usage();
        let value = match (r.key.arity(), word.value.as_deref()) {
            (Arity::Flag, None) => "",
            (Arity::Flag, Some(_)) if r.key == OptionKey::RootWait => {
                let why = "rootwait=<seconds> is not supported; write rootwait to wait for \
                           ever, or rootdelay=<seconds>";
                return self.error(word.written, why.to_string());
            }
            (Arity::Flag, Some(_)) => {
                return self.error(word.written, format!("takes no value; write {usage}"));
            }
            (Arity::Boolean, None) => "yes",
            (_, None) => {
                return self.error(word.written, format!("needs a value: {usage}"));
            }
            (Arity::Value | Arity::Boolean, Some("")) => {
                return self.error(word.written, format!("the value is empty; write {usage}"));
            }
            (_, Some(value)) => value,
        };
        if let Err(why) = self.set_value(r, value, word.written) {
            self.error(word.written, why);
        }
    }

    fn set_value(&mut self, r: Recognized, value: &str, written: &'a str) -> Result<(), String> {
        let usage = r.key.usage();
        match r.key {
            OptionKey::Root => set(&mut self.root, Root::parse(value)?, r, written),
            OptionKey::LvmLv => {
                let lv = VgLv::parse(value).map_err(|e| format!("{e}; write {usage}"))?;
                if self.lvm_lv.len() >= MAX_LVM_LV {
                    return Err(format!(
                        "more than {MAX_LVM_LV} rd.lvm.lv= options; name the root's LV once"
                    ));
                }
                if !self.lvm_lv.iter().any(|(known, _)| *known == lv) {
                    self.lvm_lv.push((lv, written));
                }
            }
            OptionKey::VerityData => {
                set(&mut self.verity_data, DeviceSpec::parse(value)?, r, written)
            }
            OptionKey::VerityHash => {
                set(&mut self.verity_hash, DeviceSpec::parse(value)?, r, written)
            }
            OptionKey::VerityOptions => match VerityOptions::parse(value) {
                Ok(options) => set(&mut self.verity_options, options, r, written),
                Err(whys) => whys.into_iter().for_each(|why| self.error(written, why)),
            },
            OptionKey::Verity => set(&mut self.verity, boolean(value)?, r, written),
            OptionKey::SystemdRootHash => {
                set(&mut self.systemd_root_hash, root_hash(value)?, r, written)
            }
            OptionKey::DdiRootHash => set(&mut self.ddi_root_hash, root_hash(value)?, r, written),
            OptionKey::RootFsType => set(&mut self.fstype, value.to_string(), r, written),
            OptionKey::RootFlags => set(&mut self.flags, value.to_string(), r, written),
            OptionKey::ReadWrite => set(&mut self.read_write, true, r, written),
            OptionKey::ReadOnly => set(&mut self.read_write, false, r, written),
            OptionKey::Init => set(&mut self.init, init_path(value)?, r, written),
            OptionKey::RootWait => set(&mut self.rootwait, true, r, written),
            OptionKey::RootDelay => {
                let seconds = unsigned(value).map_err(|e| format!("{e}; write {usage}"))?;
                set(
                    &mut self.rootdelay,
                    Duration::from_secs(seconds),
                    r,
                    written,
                )
            }
            OptionKey::Emergency => set(&mut self.emergency, failure_policy(value)?, r, written),
            OptionKey::Panic => {
                let seconds = signed(value).map_err(|e| format!("{e}; write {usage}"))?;
                set(&mut self.panic, seconds, r, written)
            }
            OptionKey::RequireSignatures => {
                let on = kernel_boolean(value).map_err(|e| format!("{e}; write {usage}"))?;
                set(&mut self.require_signatures, on, r, written)
            }
            OptionKey::Verify => {
                let full = match value {
                    "full" => true,
                    "off" => false,
                    _ => return Err(format!("'{value}' is not full or off; write {usage}")),
                };
                set(&mut self.verify_full, full, r, written)
            }
        }
        Ok(())
    }

    /// The root hash from `roothash=` and `rd.ddi.roothash=`, which must agree.
    fn root_hash(&mut self) -> Slot<'a, RootHash> {
        match (self.systemd_root_hash.take(), self.ddi_root_hash.take()) {
            (Some(systemd), Some(ddi)) if systemd.value != ddi.value => {
                let why = format!(
                    "differs from '{}'; give the root hash once, or the same in both",
                    systemd.written
                );
                self.error(ddi.written, why);
                None
            }
            // rd.ddi.roothash= says more: the boot loader checked it.
            (systemd, ddi) => ddi.or(systemd),
        }
    }

    /// The finished `BootArgs`, or every error found.
    pub(crate) fn finish(
        mut self,
        init_args: Vec<String>,
        after_dashes: Option<&str>,
    ) -> Result<BootArgs, Vec<CmdlineError>> {
        let root_hash = self.root_hash();
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let mut sources = Vec::new();
        let s = &mut sources;
        let root = take_slot(s, "root", self.root);
        let lvm_lv = self.lvm_lv.into_iter().map(|(lv, written)| {
            s.push(("lvm_lv".to_string(), written.to_string()));
            lv
        });
        let lvm_lv = lvm_lv.collect();
        let verity_data = take_slot(s, "verity_data", self.verity_data);
        let verity_hash = take_slot(s, "verity_hash", self.verity_hash);
        let root_hash = take_slot(s, "root_hash", root_hash);
        let verity = take_slot(s, "verity", self.verity);
        let verity_options = take_slot(s, "verity_options", self.verity_options);
        let fstype = take_slot(s, "fstype", self.fstype);
        let flags = take_slot(s, "flags", self.flags);
        let read_write = take_slot(s, "read_write", self.read_write);
        let init = take_slot(s, "init", self.init);
        if let (false, Some(written)) = (init_args.is_empty(), after_dashes) {
            s.push(("init_args".to_string(), written.to_string()));
        }
        let rootwait = take_slot(s, "rootwait", self.rootwait);
        let rootdelay = take_slot(s, "rootdelay", self.rootdelay);
        let emergency = take_slot(s, "emergency", self.emergency);
        let panic = take_slot(s, "panic", self.panic);
        let require_signatures = take_slot(s, "require_signatures", self.require_signatures);
        let verify_full = take_slot(s, "verify_full", self.verify_full);
        Ok(BootArgs {
            root,
            lvm_lv,
            verity_data,
            verity_hash,
            root_hash,
            verity,
            verity_options: verity_options.unwrap_or_default(),
            fstype,
            flags,
            read_write: read_write.unwrap_or(false),
            init,
            init_args,
            rootwait: rootwait.unwrap_or(false),
            rootdelay,
            emergency,
            panic,
            require_signatures: require_signatures.unwrap_or(false),
            verify_full: verify_full.unwrap_or(false),
            sources,
        })
    }
}

/// The slot's value, noting the word that gave it.
fn take_slot<T>(sources: &mut Vec<(String, String)>, field: &str, slot: Slot<'_, T>) -> Option<T> {
    let setting = slot?;
    sources.push((field.to_string(), setting.written.to_string()));
    Some(setting.value)
}
