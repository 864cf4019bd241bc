//! verinit as PID 1: mount the API filesystems (and /run), attach the console, parse the
//! command line, load the initramfs's modules, wait for the devices while planning (the
//! same planner as the dry run), carry the plan out copy by copy (`attempt.rs`), write
//! the boot record, exec init. On any failure: one report (what was found, each copy
//! tried and why it failed, what to check), then the failure policy. PID 1 never
//! returns.

pub mod attempt;
pub mod io_counts;
pub mod linux;
pub mod log;
pub mod modules;
pub mod switch;
pub mod system;
pub mod wait;

use std::path::Path;
use std::time::{Duration, Instant};

use self::io_counts::IoCounts;
use self::log::{ms, Log};
use crate::cmdline::{self, BootArgs, FailurePolicy};
use crate::report::{self, Report};

/// The pause before a reboot when the command line gives no `panic=` timeout.
pub const DEFAULT_REBOOT_PAUSE: Duration = Duration::from_secs(10);

/// Boots; never returns.
pub fn run() -> ! {
    // The kernel's log clock when verinit's code first ran, before its first line: what
    // exec and the runtime's start cost, apart from what verinit does.
    let entered = log::uptime();
    let problems = linux::mount_api_filesystems();
    let console = linux::attach_console();
    let mut log = Log::open();
    log.unlimit();
    log.notice(&format!(
        "verinit {} started (entered at {}.{:06} s)",
        env!("CARGO_PKG_VERSION"),
        entered.as_secs(),
        entered.subsec_micros()
    ));
    for p in problems.iter().chain(console.as_ref().err()) {
        log.warn(p);
    }
    log.refresh();

    let text = match std::fs::read_to_string("/proc/cmdline") {
        Ok(t) => t,
        Err(e) => fail(
            &mut log,
            None,
            None,
            &format!("cannot read /proc/cmdline: {e}"),
        ),
    };
    log.info(&format!("command line: {}", text.trim()));
    let mut args = match cmdline::parse(&text) {
        Ok(a) => a,
        Err(errors) => {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            fail(&mut log, None, None, &list.join("\n"))
        }
    };
    // What the kernel gave init: the words after `--` and any it did not know.
    args.init_args = std::env::args().skip(1).collect();

    let t = Instant::now();
    let counts = IoCounts::now();
    let release = rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned();
    let modules = modules::load_all(&Path::new("/lib/modules").join(&release), &text);
    // One snapshot ends the modules phase and starts the next.
    let after_modules = IoCounts::now();
    match modules {
        Ok(list) => {
            let mut loaded = 0;
            for (name, params, outcome) in &list {
                if !params.is_empty() {
                    log.info(&format!("module {name}: parameters {params}"));
                }
                match outcome {
                    modules::Loaded::Loaded => loaded += 1,
                    modules::Loaded::AlreadyLoaded => {}
                    modules::Loaded::NoDevice => {
                        log.info(&format!("module {name}: not for this machine (ENODEV)"))
                    }
                    modules::Loaded::Failed(why) => log.warn(&format!("module {name}: {why}")),
                }
            }
            log.info(&format!(
                "phase modules: loaded {loaded} of {} in {} ({})",
                list.len(),
                ms(t.elapsed()),
                after_modules.since(&counts)
            ));
        }
        Err(e) => log.warn(&e),
    }

    let mut phases = vec![("modules".to_string(), t.elapsed())];
    let t = Instant::now();
    let counts = after_modules;
    let found = wait::wait_for_root(&args, &mut log);
    if let Err(e) = &found.outcome.plan {
        let report = Report::new(&text, &args, &found.scan, &found.outcome).text();
        let why = if found.timed_out {
            format!(
                "{e}\n(gave up waiting after {}; rootdelay= waits longer)",
                ms(t.elapsed())
            )
        } else {
            e.to_string()
        };
        fail(&mut log, Some(&args), Some(&report), &why)
    }
    log.info(&format!(
        "phase devices and plan: {} ({})",
        ms(t.elapsed()),
        IoCounts::now().since(&counts)
    ));
    phases.push(("devices and plan".to_string(), t.elapsed()));
    let mut warnings = Vec::new();
    if found.timed_out && !found.outcome.pending.is_empty() {
        warnings.push(format!(
            "gave up waiting after {} for {} (a PV of theirs is missing; they may be copies \
             of the root): booting the copies found (rootdelay= waits longer)",
            ms(t.elapsed()),
            found.outcome.pending.join(", ")
        ));
    }
    for w in
        report::warnings(&found.scan, &found.outcome).chain(warnings.iter().map(String::as_str))
    {
        log.warn(w);
    }

    let mut sys = linux::Linux::default();
    let tried = attempt::boot_copies(
        &attempt::Boot {
            cmdline: &text,
            args: &args,
            scan: &found.scan,
            outcome: &found.outcome,
        },
        &mut sys,
        &mut log,
        phases,
        warnings,
    );
    let report = Report::new(&text, &args, &found.scan, &found.outcome)
        .with_boot(tried.facts)
        .text();
    fail(&mut log, Some(&args), Some(&report), &tried.error)
}

/// Prints the failure report and applies the failure policy. Never returns.
fn fail(log: &mut Log, args: Option<&BootArgs>, found: Option<&str>, error: &str) -> ! {
    if let Some(found) = found {
        log.notice("what verinit found:");
        for line in found.lines() {
            log.notice(&format!("  {line}"));
        }
    }
    log.err("boot failed:");
    for line in error.lines() {
        log.err(&format!("  {line}"));
    }
    let policy = args
        .and_then(|a| a.emergency)
        .unwrap_or(FailurePolicy::Reboot);
    let pause = args
        .and_then(|a| a.panic)
        .filter(|&s| s > 0)
        .map_or(DEFAULT_REBOOT_PAUSE, |s| {
            Duration::from_secs(s.unsigned_abs())
        });
    apply_policy(log, policy, pause)
}

fn apply_policy(log: &mut Log, policy: FailurePolicy, pause: Duration) -> ! {
    use nix::sys::reboot::{reboot, RebootMode};
    let mode = match policy {
        FailurePolicy::Reboot => {
            log.err(&format!(
                "failure policy: reboot in {} s (rd.emergency=poweroff|halt|panic to change)",
                pause.as_secs()
            ));
            std::thread::sleep(pause);
            RebootMode::RB_AUTOBOOT
        }
        FailurePolicy::Poweroff => {
            log.err("failure policy: poweroff");
            RebootMode::RB_POWER_OFF
        }
        FailurePolicy::Halt => {
            log.err("failure policy: halt");
            RebootMode::RB_HALT_SYSTEM
        }
        FailurePolicy::Panic => {
            log.err("failure policy: panic (PID 1 exits; the kernel panics)");
            std::process::exit(1);
        }
    };
    nix::unistd::sync();
    let Err(e) = reboot(mode);
    log.err(&format!("reboot({mode:?}) failed: {e}; halting here"));
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
