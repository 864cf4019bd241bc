#!/usr/bin/env python3
"""The timing and the table of scripts/bench-boot.

  bench-boot.py boot OUT.json -- QEMU-BOOT COMMAND...
      Runs the scripts/qemu-boot command line given (without --quiet: the console must come
      on its stdout) and reads the console as it comes, noting the host's monotonic clock
      as each line arrives. QEMU's own start is taken from a wrapper put first on PATH
      for qemu-boot: it notes the clock immediately before it execs the real
      qemu-system-x86_64, so qemu-boot's own start-up is not counted. Writes one boot's
      numbers to OUT.json. Fails unless the root's `VERINIT-TEST: PASS` appears and QEMU
      exits 3.

  bench-boot.py report [--kernel-version V] [--note TEXT]... INITRAMFS NOMODULES BOOT.json...
      The table: the median (and min, max) of each number over the boots, and the sizes.
      verinit's size is that of /init inside INITRAMFS: the binary that was booted. Each
      --note is printed under the table.

Kernel times are the printk timestamps ([    1.683145]); verinit's phases and steps are
its own "done in N ms" (whole milliseconds, rounded down); host times come from the host's
monotonic clock.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

MARKER = "VERINIT-TEST: PASS"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc")
PRINTK = re.compile(r"\[\s*(\d+\.\d+)\] (.*)$")
MODULES = re.compile(r"^verinit: phase modules: loaded (\d+) of (\d+) in (\d+) ms")
DEVPLAN = re.compile(r"^verinit: phase devices and plan: (\d+) ms")
DONE = re.compile(r"^verinit:   done in (\d+) ms: (\S+)")

SHIM = """#!{python} -IS
import os, sys, time
t0 = time.monotonic()
with open(os.environ["BENCH_BOOT_T0"], "w") as f:
    f.write(repr(t0))
os.execv(os.environ["BENCH_BOOT_QEMU"], ["qemu-system-x86_64"] + sys.argv[1:])
"""


def find_qemu():
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d or ".", "qemu-system-x86_64")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return os.path.realpath(p)
    sys.exit("bench-boot.py: qemu-system-x86_64 not found on PATH")


def run_boot(cmd):
    """Runs cmd; returns (t0, [(host time, line)], status)."""
    with tempfile.TemporaryDirectory(prefix="bench-boot.") as tmp:
        shim = os.path.join(tmp, "qemu-system-x86_64")
        with open(shim, "w") as f:
            f.write(SHIM.format(python=sys.executable))
        os.chmod(shim, 0o755)
        t0_file = os.path.join(tmp, "t0")
        env = dict(os.environ)
        env["BENCH_BOOT_QEMU"] = find_qemu()
        env["BENCH_BOOT_T0"] = t0_file
        env["PATH"] = tmp + os.pathsep + env.get("PATH", "")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
        lines, buf = [], b""
        fd = p.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            now = time.monotonic()
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split(b"\n")
            lines += [(now, line.decode("utf-8", "replace").rstrip("\r")) for line in done]
        if buf:
            lines.append((time.monotonic(), buf.decode("utf-8", "replace")))
        status = p.wait()
        try:
            t0 = float(open(t0_file).read())
        except (OSError, ValueError):
            sys.exit(f"bench-boot.py: QEMU never started (qemu-boot exited {status})")
    return t0, lines, status


def parse(t0, lines):
    """One boot's numbers, in ms."""
    r = {"steps": {}}
    marker = None
    ts = {}
    for host, raw in lines:
        line = ANSI.sub("", raw)
        if marker is None and MARKER in line:
            marker = host
        m = PRINTK.search(line)
        if not m:
            continue
        k, msg = float(m.group(1)), m.group(2)
        if msg.startswith("Run /init as init process"):
            ts.setdefault("run_init", (k, host))
        elif re.match(r"verinit: verinit \S+ started", msg):
            ts.setdefault("started", (k, host))
        elif msg.startswith("verinit: handing over to init"):
            ts.setdefault("handover", (k, host))
        elif mm := MODULES.match(msg):
            r["modules_loaded"], r["modules_total"] = int(mm.group(1)), int(mm.group(2))
            r["modules"] = int(mm.group(3))
        elif mm := DEVPLAN.match(msg):
            r["devices_and_plan"] = int(mm.group(1))
        elif mm := DONE.match(msg):
            r["steps"].setdefault(mm.group(2), []).append(int(mm.group(1)))
    missing = [what for what, ok in [
        (f"the root's marker {MARKER!r}", marker is not None),
        ("'Run /init as init process'", "run_init" in ts),
        ("'verinit: verinit ... started'", "started" in ts),
        ("'verinit: handing over to init'", "handover" in ts),
        ("verinit's 'phase modules' line", "modules" in r),
        ("verinit's 'phase devices and plan' line", "devices_and_plan" in r),
    ] if not ok]
    if missing:
        raise ValueError("not in the console: " + ", ".join(missing))
    ms = lambda s: s * 1000.0
    r["qemu_to_marker"] = ms(marker - t0)
    r["kernel_to_init"] = ms(ts["run_init"][0])
    r["kernel_to_handover"] = ms(ts["handover"][0])
    r["verinit"] = ms(ts["handover"][0] - ts["run_init"][0])
    r["startup"] = ms(ts["started"][0] - ts["run_init"][0])
    accounted = r["startup"] + r["modules"] + r["devices_and_plan"] + sum(sum(v) for v in r["steps"].values())
    r["rest"] = r["verinit"] - accounted
    # On the host's clock, from QEMU's start to each line's arrival.
    # When the kernel's clock read 0, on the host's clock: 'Run /init' arrived at host time
    # t and says k, so t - k (the two clocks run together under TCG: the host's and the
    # kernel's span of verinit are both kept, and agree). Not the first line's arrival: the
    # serial console comes up, and prints what came before, some 0.2 s into the kernel.
    r["qemu_to_kernel_zero"] = ms(ts["run_init"][1] - t0 - ts["run_init"][0])
    r["qemu_to_run_init"] = ms(ts["run_init"][1] - t0)
    r["qemu_to_handover"] = ms(ts["handover"][1] - t0)
    r["verinit_host"] = ms(ts["handover"][1] - ts["run_init"][1])
    return r


def cmd_boot(args):
    if len(args) < 3 or args[1] != "--":
        sys.exit("usage: bench-boot.py boot OUT.json -- QEMU-BOOT COMMAND...")
    out, cmd = args[0], args[2:]
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    t0, lines, status = run_boot(cmd)
    try:
        r = parse(t0, lines)
    except ValueError as e:
        sys.exit(f"bench-boot.py: QEMU exited {status}; {e}")
    if status != 3:
        sys.exit(f"bench-boot.py: the root's marker appeared but QEMU exited {status}, not 3")
    r["status"] = status
    r["load_before"] = load
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
    print(f"{r['qemu_to_marker']:.0f} ms to the marker, verinit {r['verinit']:.0f} ms "
          f"({r['verinit_host']:.0f} ms on the host's clock; 1-min load average before: {load:.2f})")


def init_size(cpio):
    """The size of /init in a newc archive, or None."""
    data = open(cpio, "rb").read()
    at = 0
    while at + 110 <= len(data):
        h = data[at:at + 110]
        if h[:6] not in (b"070701", b"070702"):
            return None
        size, namesize = int(h[54:62], 16), int(h[94:102], 16)
        name = data[at + 110:at + 110 + namesize - 1].decode("utf-8", "replace")
        body = (at + 110 + namesize + 3) & ~3
        if name == "init":
            return size
        if name == "TRAILER!!!":
            return None
        at = (body + size + 3) & ~3
    return None


def cmd_report(args):
    kver, notes = "?", []
    while args and args[0].startswith("--"):
        if args[0] == "--kernel-version":
            kver, args = args[1], args[2:]
        elif args[0] == "--note":
            notes.append(args[1])
            args = args[2:]
        else:
            sys.exit(f"bench-boot.py report: unknown option {args[0]}")
    initramfs, nomodules, files = args[0], args[1], args[2:]
    boots = [json.load(open(f)) for f in files]
    n = len(boots)
    if n == 0:
        sys.exit("bench-boot.py report: no boots")

    rows = []  # (label, per-boot values, text after the numbers)

    def row(label, values, extra=""):
        rows.append((label, values, extra))

    def col(key):
        return [b[key] for b in boots]

    def step(kind):
        return [sum(b["steps"].get(kind, [])) for b in boots]

    counts = lambda kind: sorted({len(b["steps"].get(kind, [])) for b in boots})
    med = statistics.median
    row("QEMU start to root marker (host clock)", col("qemu_to_marker"))
    row("  to the kernel's clock 0 (firmware, kernel load; est.)", col("qemu_to_kernel_zero"))
    row("  to 'Run /init as init process'", col("qemu_to_run_init"))
    row("  to verinit's 'handing over to init'", col("qemu_to_handover"))
    row("kernel start to /init (kernel timestamp)", col("kernel_to_init"))
    row("kernel start to handover (kernel timestamp)", col("kernel_to_handover"))
    share = 100.0 * med(col("verinit")) / med(col("kernel_to_handover"))
    row("verinit (Run /init to handover)", col("verinit"), f"({share:.0f}% of kernel time to handover)")
    row("  exec of /init to its first line", col("startup"))
    loaded = sorted({(b["modules_loaded"], b["modules_total"]) for b in boots})
    what = ", ".join(f"{l}" if l == t else f"{l} of {t}" for l, t in loaded)
    row(f"  modules ({what})", col("modules"))
    row("  devices and plan", col("devices_and_plan"))
    names = {"load-modules": "step: load modules", "wait-for-devices": "step: wait for devices",
             "dm-create": "dm create", "mount": "mount", "switch-root": "switch root"}
    kinds = list(names) + sorted({k for b in boots for k in b["steps"]} - set(names))
    for kind in kinds:
        c = counts(kind)
        if c == [0]:
            continue
        label = "  " + names.get(kind, kind)
        if kind == "dm-create":
            label += f" ({'/'.join(map(str, c))} devices)"
        row(label, step(kind))
    row("  the rest (logging, between phases; ms rounded down)", col("rest"))

    width = max(len(r[0]) for r in rows) + 2
    title = f"boot (QEMU TCG, Debian kernel {kver}, median of {n})"
    width = max(width, len(title) + 2)
    out = [f"{title:<{width}}{'ms':>6}{'min':>7}{'max':>7}"]
    for label, values, extra in rows:
        out.append(f"  {label:<{width - 2}}{med(values):6.0f}{min(values):7.0f}{max(values):7.0f}"
                   + (f"   {extra}" if extra else ""))

    def size(b):
        return f"{b} B ({b / 1024:.0f} KiB)"

    v = init_size(initramfs)
    out.append(f"sizes: verinit {size(v) if v is not None else '? (no /init in ' + initramfs + ')'}; "
               f"initramfs {size(os.path.getsize(initramfs))} with modules, "
               f"{size(os.path.getsize(nomodules))} without")
    loads = " ".join(f"{b['load_before']:.1f}" for b in boots)
    out.append(f"note: the {n} boots ran one after another, each on a fresh copy of the disk, on a machine "
               f"that may be loaded (other QEMU tests may share its {os.cpu_count()} cores; "
               f"1-min load average before each boot: {loads})")
    out.append("note: each row is its own median; host clock: from QEMU's exec to the line's arrival on "
               "the console; kernel timestamps: the kernel's printk clock; verinit's rows: its own log; "
               "est. = arrival of 'Run /init' minus its kernel timestamp")
    out += [f"note: {x}" for x in notes]
    print("\n".join(out))


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("boot", "report"):
        sys.exit(__doc__)
    {"boot": cmd_boot, "report": cmd_report}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
