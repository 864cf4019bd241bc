//! The command line of the binary.
//!
//!   verinit --dry-run [--cmdline TEXT] [--json] [--verify] [--sysfs DIR] [PATH...]
//!   verinit --help | --version
//! As PID 1 the same binary boots instead. Exit status of a dry run: 0 the boot would
//! succeed, 1 it would not (the reason is printed), 2 usage error.

use std::path::PathBuf;

use crate::dry_run::{self, DryRunOptions};

const USAGE: &str = "\
usage: verinit --dry-run [--cmdline TEXT] [--json] [--verify] [--sysfs DIR] [PATH...]

Shows what the boot would do: which volume holds the root, the dm tables, the mount.
  --cmdline TEXT  a kernel command line (default: /proc/cmdline)
  --json          print the result as JSON
  --verify        also recompute the dm-verity hash tree and compare it with the root hash
  --sysfs DIR     where block devices are listed (default: /sys/class/block)
  PATH...         devices or image files to read instead of every block device
Exit status: 0 the boot would succeed, 1 it would not, 2 usage error.
Run as PID 1 (the kernel's init in an initramfs), verinit boots.";

/// Entry point; returns the process exit status.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            0
        }
        Ok(Command::Version) => {
            println!("verinit {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::DryRun(opts)) => dry_run::run(&opts),
        Err(msg) => {
            eprintln!("verinit: {msg}\n{USAGE}");
            2
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Version,
    DryRun(DryRunOptions),
}

fn parse(args: &[String]) -> Result<Command, String> {
    let mut opts = DryRunOptions::default();
    let mut dry_run = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--dry-run" | "-n" => dry_run = true,
            "--json" => opts.json = true,
            "--verify" => opts.verify = true,
            "--cmdline" => {
                let text = it.next().ok_or("--cmdline needs the command line text")?;
                opts.cmdline = Some(text.clone());
            }
            "--sysfs" => {
                let dir = it.next().ok_or("--sysfs needs a directory")?;
                opts.sysfs = PathBuf::from(dir);
            }
            "--" => opts.paths.extend(it.by_ref().map(PathBuf::from)),
            s if s.starts_with("--cmdline=") => {
                opts.cmdline = Some(s["--cmdline=".len()..].to_string());
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            path => opts.paths.push(PathBuf::from(path)),
        }
    }
    if !dry_run {
        return Err("nothing to do: verinit boots only as PID 1; use --dry-run".into());
    }
    Ok(Command::DryRun(opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_dry_run_options() {
        let Ok(Command::DryRun(o)) = parse(&args(&[
            "--dry-run",
            "--json",
            "--cmdline",
            "root=x ro",
            "/a.img",
            "--verify",
            "/b.img",
        ])) else {
            panic!("not a dry run")
        };
        assert!(o.json && o.verify);
        assert_eq!(o.cmdline.as_deref(), Some("root=x ro"));
        assert_eq!(o.paths, [PathBuf::from("/a.img"), PathBuf::from("/b.img")]);
        let Ok(Command::DryRun(o)) = parse(&args(&["--dry-run", "--cmdline=a=b", "--", "--odd"]))
        else {
            panic!("not a dry run")
        };
        assert_eq!(o.cmdline.as_deref(), Some("a=b"));
        assert_eq!(o.paths, [PathBuf::from("--odd")]);
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &[][..],
            &["--json"][..],
            &["--dry-run", "--cmdline"][..],
            &["--dry-run", "--bogus"][..],
            &["--dry-runx"][..],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(parse(&args(&["--help"])), Ok(Command::Help));
    }
}
