//! What Linux 6.12's dm-verity adds, as the dry run shows it: veritytab's
//! `error-as-corruption` (cryptsetup's `--error-as-corruption`) with
//! `restart-on-corruption` or `panic-on-corruption` puts `restart_on_error` or
//! `panic_on_error` in the verity table, and the plan says which dm-verity version and
//! Linux release that needs (the boot checks the kernel's before loading the table:
//! `tests/qemu_linux612.rs` boots it on 6.12 and sees 6.1 refuse it). Alone, the option
//! is refused. Images come from the real tools (`tests/fixtures/make-fixture`); these
//! tests need root and loop devices to build them, and fail saying so otherwise.

mod common;

use common::{dry_run, dry_run_with, fixture, Fixture};
use serde_json::Value;

fn paths(fix: &Fixture) -> Vec<String> {
    fix.image_paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

/// The plan's step that creates the dm device `root`.
fn root_step(plan: &Value) -> &Value {
    plan["plan"]["steps"]
        .as_array()
        .and_then(|steps| {
            steps
                .iter()
                .find(|s| s["kind"] == "dm-create" && s["name"] == "root")
        })
        .unwrap_or_else(|| panic!("no dm-create root step in {plan}"))
}

#[test]
fn needs_root_loop_error_as_corruption_puts_the_6_12_words_in_the_table() {
    let fix = fixture("one-pv");
    for (mode, words) in [
        ("restart", "restart_on_corruption restart_on_error"),
        ("panic", "panic_on_corruption panic_on_error"),
    ] {
        let cmdline = format!(
            "{} systemd.verity_root_options={mode}-on-corruption,error-as-corruption",
            fix.cmdline()
        );
        let run = dry_run(&cmdline, &paths(&fix), false);
        assert_eq!(run.code, Some(0), "{}", run.describe());
        let step = root_step(&run.json);
        let table = step["table"][0].as_str().unwrap_or_default();
        assert!(
            table.ends_with(&format!(" 2 {words}")),
            "the verity table should end with `2 {words}`: {table}\n{}",
            run.describe()
        );
        let word = words.split(' ').nth(1).unwrap_or_default();
        assert_eq!(
            step["needs"],
            serde_json::json!({"target": "verity", "version": "1.10.0", "linux": "6.12", "for": word}),
            "{}",
            run.describe()
        );

        // The text plan says it under the table.
        let mut args = vec!["--dry-run".to_string(), "--cmdline".to_string(), cmdline];
        args.extend(paths(&fix));
        let text = dry_run_with_text(args);
        assert!(
            text.contains(&format!(
                "(needs dm-verity 1.10.0 or later, Linux 6.12, for {word}; verinit checks the \
                 kernel's before loading it)"
            )),
            "{text}"
        );
    }
}

#[test]
fn needs_root_loop_a_plain_table_asks_nothing_of_the_kernel() {
    let fix = fixture("one-pv");
    let run = dry_run(&fix.cmdline(), &paths(&fix), false);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert_eq!(
        root_step(&run.json)["needs"],
        Value::Null,
        "{}",
        run.describe()
    );
    // Options Linux 6.1 has: in the JSON, not in the text plan.
    let cmdline = format!(
        "{} systemd.verity_root_options=panic-on-corruption",
        fix.cmdline()
    );
    let run = dry_run(&cmdline, &paths(&fix), false);
    assert_eq!(
        root_step(&run.json)["needs"]["linux"],
        "5.9",
        "{}",
        run.describe()
    );
    let mut args = vec!["--dry-run".to_string(), "--cmdline".to_string(), cmdline];
    args.extend(paths(&fix));
    let text = dry_run_with_text(args);
    assert!(!text.contains("(needs dm-verity"), "{text}");
}

#[test]
fn needs_root_loop_error_as_corruption_alone_is_refused() {
    let fix = fixture("one-pv");
    for options in [
        "error-as-corruption",
        "ignore-corruption,error-as-corruption",
    ] {
        let cmdline = format!("{} systemd.verity_root_options={options}", fix.cmdline());
        let run = dry_run(&cmdline, &paths(&fix), false);
        run.assert_failed_with_any_of(&[
            "needs restart-on-corruption or panic-on-corruption beside it",
        ]);
    }
    // The kernel's names are not veritytab's: the error says which to write.
    let cmdline = format!(
        "{} systemd.verity_root_options=restart_on_error",
        fix.cmdline()
    );
    let mut args = vec![
        "--dry-run".to_string(),
        "--json".to_string(),
        "--cmdline".to_string(),
        cmdline,
    ];
    args.extend(paths(&fix));
    dry_run_with(args).assert_failed_with_any_of(&[
        "the kernel's restart_on_error is veritytab's restart-on-corruption,error-as-corruption",
    ]);
}

/// The text dry run's stdout.
fn dry_run_with_text(args: Vec<String>) -> String {
    let out = common::verinit().args(&args).output().expect("run verinit");
    String::from_utf8_lossy(&out.stdout).to_string()
}
