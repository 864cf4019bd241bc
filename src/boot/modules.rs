//! Kernel modules the initramfs carries: their dependency order from `modules.dep`, and
//! loading them with finit_module.
//!
//! `modules.dep` (written by depmod), one line per module, paths relative to
//! `/lib/modules/<release>/`:
//!   module-path ":" (" " dependency-path)*
//! A module is loaded after all of its dependencies. A module already loaded (EEXIST)
//! or one for hardware this machine lacks (ENODEV, e.g. crc32c-intel on a CPU without
//! SSE4.2) is not an error.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The most modules one initramfs may list: far more than any needs, and a bound on the
/// work a damaged modules.dep can cause.
pub const MAX_MODULES: usize = 4096;

/// A module's name as the kernel knows it: file name without `.ko`, `-` as `_`.
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

/// A module file and the files it needs, relative to the modules directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepEntry {
    pub path: String,
    pub deps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepError {
    Syntax { line: usize, text: String },
    TooMany,
    Cycle(Vec<String>),
    MissingDep { module: String, dep: String },
}

impl fmt::Display for DepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepError::Syntax { line, text } => {
                write!(
                    f,
                    "modules.dep line {line}: expected 'path: deps', found '{text}'"
                )
            }
            DepError::TooMany => write!(f, "modules.dep lists more than {MAX_MODULES} modules"),
            DepError::Cycle(m) => {
                write!(f, "modules.dep has a dependency cycle: {}", m.join(" -> "))
            }
            DepError::MissingDep { module, dep } => write!(
                f,
                "module {module} needs {dep}, which modules.dep does not list: rebuild the \
                 initramfs (depmod on the staged modules)"
            ),
        }
    }
}

impl std::error::Error for DepError {}

/// Parses modules.dep text.
pub fn parse_dep(text: &str) -> Result<Vec<DepEntry>, DepError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((path, deps)) = line.split_once(':') else {
            return Err(DepError::Syntax {
                line: i + 1,
                text: line.chars().take(80).collect(),
            });
        };
        if path.is_empty() || path.contains(char::is_whitespace) {
            return Err(DepError::Syntax {
                line: i + 1,
                text: line.chars().take(80).collect(),
            });
        }
        if out.len() >= MAX_MODULES {
            return Err(DepError::TooMany);
        }
        out.push(DepEntry {
            path: path.to_string(),
            deps: deps.split_whitespace().map(str::to_string).collect(),
        });
    }
    Ok(out)
}

/// Every module in an order where each comes after its dependencies; among modules that
/// do not depend on each other, the order of modules.dep is kept.
pub fn load_order(entries: &[DepEntry]) -> Result<Vec<String>, DepError> {
    let index: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_str(), i))
        .collect();
    // 0 = not seen, 1 = in progress, 2 = done.
    let mut state = vec![0u8; entries.len()];
    let mut order = Vec::with_capacity(entries.len());
    for start in 0..entries.len() {
        if state[start] != 0 {
            continue;
        }
        // An explicit stack: (module, next dependency to look at).
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (m, ref mut next)) = stack.last_mut() {
            let entry = &entries[m];
            if let Some(dep) = entry.deps.get(*next) {
                *next += 1;
                let Some(&d) = index.get(dep.as_str()) else {
                    return Err(DepError::MissingDep {
                        module: entry.path.clone(),
                        dep: dep.clone(),
                    });
                };
                match state[d] {
                    0 => {
                        state[d] = 1;
                        stack.push((d, 0));
                    }
                    1 => {
                        let mut cycle: Vec<String> = stack
                            .iter()
                            .map(|(s, _)| module_name(&entries[*s].path))
                            .collect();
                        cycle.push(module_name(dep));
                        return Err(DepError::Cycle(cycle));
                    }
                    _ => {}
                }
            } else {
                state[m] = 2;
                order.push(entry.path.clone());
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// The outcome of loading one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    Loaded,
    AlreadyLoaded,
    NoDevice,
    Failed(String),
}

/// Loads every module in `dir` (the initramfs's `/lib/modules/<release>`) in dependency
/// order. Returns each module's name, parameters and outcome; only a missing or broken modules.dep
/// is an error, since a module that fails may not be one the plan needs (the plan's
/// `load-modules` step checks those).
/// `cmdline` (the kernel command line) gives each module its `<module>.<param>=` options,
/// as modprobe would; they are returned beside each name.
pub fn load_all(dir: &Path, cmdline: &str) -> Result<Vec<(String, String, Loaded)>, String> {
    let dep_path = dir.join("modules.dep");
    let text = match std::fs::read_to_string(&dep_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dep_path.display())),
    };
    let entries = parse_dep(&text).map_err(|e| format!("{}: {e}", dep_path.display()))?;
    let order = load_order(&entries).map_err(|e| format!("{}: {e}", dep_path.display()))?;
    let parameters = crate::cmdline::ModuleParameters::parse(cmdline);
    Ok(order
        .iter()
        .map(|rel| {
            let name = module_name(rel);
            let params = parameters.of(&name);
            let loaded = load_one(&dir.join(rel), &params);
            (name, params, loaded)
        })
        .collect())
}

fn load_one(path: &PathBuf, params: &str) -> Loaded {
    use nix::errno::Errno;
    use nix::kmod::{finit_module, ModuleInitFlags};
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Loaded::Failed(format!("cannot open {}: {e}", path.display())),
    };
    let Ok(params) = std::ffi::CString::new(params) else {
        return Loaded::Failed(format!("{}: a parameter holds a NUL byte", path.display()));
    };
    match finit_module(&file, &params, ModuleInitFlags::empty()) {
        Ok(()) => Loaded::Loaded,
        Err(Errno::EEXIST) => Loaded::AlreadyLoaded,
        Err(Errno::ENODEV) => Loaded::NoDevice,
        Err(e) => Loaded::Failed(format!("{}: {e}", path.display())),
    }
}

/// Whether the kernel has a module, loaded or built in: `/sys/module/<name>` exists for
/// every loaded module and for built-in ones with parameters. Filesystems are looked up
/// in /proc/filesystems, which also knows built-in ones without parameters, and
/// `crypto-<algorithm>` (the kernel's own alias for whatever provides an algorithm) in
/// /proc/crypto.
pub fn kernel_has(sys: &Path, proc_filesystems: &str, proc_crypto: &str, name: &str) -> bool {
    if let Some(alg) = name.strip_prefix("crypto-") {
        return proc_crypto.lines().any(|l| {
            l.split_once(':')
                .is_some_and(|(k, v)| k.trim() == "name" && v.trim() == alg)
        });
    }
    let name = name.replace('-', "_");
    if sys.join("module").join(&name).exists() {
        return true;
    }
    proc_filesystems
        .lines()
        .any(|l| l.split_whitespace().last() == Some(name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "\
kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-bufio.ko kernel/lib/reed_solomon/reed_solomon.ko kernel/drivers/md/dm-mod.ko
kernel/drivers/md/dm-mod.ko:
kernel/fs/squashfs/squashfs.ko:
kernel/drivers/md/dm-bufio.ko:
kernel/lib/reed_solomon/reed_solomon.ko:
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
";

    #[test]
    fn dependencies_come_first() {
        let entries = parse_dep(DEP).unwrap();
        let order = load_order(&entries).unwrap();
        let names: Vec<String> = order.iter().map(|p| module_name(p)).collect();
        assert_eq!(
            names,
            [
                "dm_bufio",
                "reed_solomon",
                "dm_mod",
                "dm_verity",
                "squashfs",
                "virtio_ring",
                "virtio",
                "virtio_blk"
            ]
        );
    }

    #[test]
    fn bad_modules_dep() {
        assert!(matches!(
            parse_dep("no colon here"),
            Err(DepError::Syntax { line: 1, .. })
        ));
        assert!(matches!(parse_dep(": x.ko"), Err(DepError::Syntax { .. })));
        let cycle = parse_dep("a.ko: b.ko\nb.ko: a.ko\n").unwrap();
        assert!(matches!(load_order(&cycle), Err(DepError::Cycle(_))));
        let missing = parse_dep("a.ko: b.ko\n").unwrap();
        assert_eq!(
            load_order(&missing),
            Err(DepError::MissingDep {
                module: "a.ko".into(),
                dep: "b.ko".into()
            })
        );
        let many: String = (0..=MAX_MODULES).map(|i| format!("m{i}.ko:\n")).collect();
        assert_eq!(parse_dep(&many), Err(DepError::TooMany));
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let text: String = (0..3000)
            .map(|i| format!("m{i}.ko: m{}.ko\n", i + 1))
            .collect::<String>()
            + "m3000.ko:\n";
        let order = load_order(&parse_dep(&text).unwrap()).unwrap();
        assert_eq!(order.first().map(String::as_str), Some("m3000.ko"));
        assert_eq!(order.len(), 3001);
    }

    #[test]
    fn names() {
        assert_eq!(module_name("kernel/drivers/md/dm-mod.ko"), "dm_mod");
        assert_eq!(module_name("kernel/fs/erofs/erofs.ko.xz"), "erofs");
        assert_eq!(module_name("virtio_pci.ko"), "virtio_pci");
        let fs = "nodev\tsysfs\n\tsquashfs\nnodev\ttmpfs\n";
        let crypto =
            "name         : sha256\ndriver       : sha256-generic\nmodule       : kernel\n";
        let sys = Path::new("/nonexistent");
        assert!(kernel_has(sys, fs, crypto, "squashfs"));
        assert!(!kernel_has(sys, fs, crypto, "erofs"));
        assert!(!kernel_has(sys, fs, crypto, "dm-verity"));
        assert!(kernel_has(sys, fs, crypto, "crypto-sha256"));
        assert!(!kernel_has(sys, fs, crypto, "crypto-sha512"));
        assert!(!kernel_has(sys, fs, crypto, "crypto-sha256-generic"));
    }
}
