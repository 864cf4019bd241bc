//! Boot messages: `verinit: ...` to /dev/kmsg with a kernel log level, and to the console.
//!
//! The kernel echoes a kmsg record to the console when its level is below the console
//! log level (the first number in /proc/sys/kernel/printk). verinit writes every message
//! to kmsg and prints it on the console itself only when the kernel will not, so each
//! line reaches both once. Console lines carry the same `[seconds.micros]` monotonic
//! timestamp the kernel's do.
//!
//! The kernel rate-limits user space's kmsg writes (10 lines per 5 s) unless
//! `kernel.printk_devkmsg` is `on`; verinit turns it on while it runs and puts the old
//! value back before init starts, so a boot's whole log, or a failure report, arrives.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::time::Duration;

/// Kernel log levels (`<N>` prefixes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
}

/// kmsg truncates long records; keep each line well under its limit.
const MAX_LINE: usize = 900;

pub struct Log {
    kmsg: Option<File>,
    console_level: u8,
    /// The `printk_devkmsg` setting to restore, when verinit changed it.
    devkmsg_was: Option<String>,
}

const DEVKMSG: &str = "/proc/sys/kernel/printk_devkmsg";

/// Time since boot (CLOCK_MONOTONIC, the clock of the kernel's own timestamps).
pub fn uptime() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(Duration::from)
        .unwrap_or_default()
}

impl Log {
    /// Opens /dev/kmsg (if it can) and reads the console log level.
    pub fn open() -> Log {
        let kmsg = OpenOptions::new().write(true).open("/dev/kmsg").ok();
        let console_level = std::fs::read_to_string("/proc/sys/kernel/printk")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(7);
        Log {
            kmsg,
            console_level,
            devkmsg_was: None,
        }
    }

    /// Lifts the kernel's rate limit on kmsg writes (needs /proc).
    pub fn unlimit(&mut self) {
        if self.devkmsg_was.is_some() {
            return;
        }
        if let Ok(was) = std::fs::read_to_string(DEVKMSG) {
            let was = was.trim().to_string();
            // The kernel takes the word only with a newline after it.
            if was == "ratelimit" && std::fs::write(DEVKMSG, "on\n").is_ok() {
                self.devkmsg_was = Some(was);
            }
        }
    }

    /// Puts the kmsg rate limit back as it was, for init.
    pub fn restore(&mut self) {
        if let Some(was) = self.devkmsg_was.take() {
            let _ = std::fs::write(DEVKMSG, format!("{was}\n"));
        }
    }

    /// Rereads the console log level (after /proc is mounted).
    pub fn refresh(&mut self) {
        let fresh = Log::open();
        if self.kmsg.is_none() {
            self.kmsg = fresh.kmsg;
        }
        self.console_level = fresh.console_level;
        self.unlimit();
    }

    pub fn log(&mut self, level: Level, msg: &str) {
        let now = uptime();
        for line in msg.lines() {
            let line: String = line.chars().take(MAX_LINE).collect();
            let kernel_echoes = self.kmsg.is_some() && (level as u8) < self.console_level;
            if let Some(k) = self.kmsg.as_mut() {
                // One write is one record.
                let _ = k.write_all(format!("<{}>verinit: {line}\n", level as u8).as_bytes());
            }
            if !kernel_echoes {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "[{:5}.{:06}] verinit: {line}",
                    now.as_secs(),
                    now.subsec_micros()
                );
                let _ = out.flush();
            }
        }
    }

    pub fn info(&mut self, msg: &str) {
        self.log(Level::Info, msg);
    }

    pub fn notice(&mut self, msg: &str) {
        self.log(Level::Notice, msg);
    }

    pub fn warn(&mut self, msg: &str) {
        self.log(Level::Warning, msg);
    }

    pub fn err(&mut self, msg: &str) {
        self.log(Level::Err, msg);
    }
}

/// A phase's duration for the log: `123 ms`.
pub fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}
