#!/usr/bin/env python3
"""The timing and the table of scripts/bench-boot.

  bench-boot.py boot [--baseline] OUT.json -- QEMU-BOOT COMMAND...
      Runs the scripts/qemu-boot command line given (without --quiet: the console must come
      on its stdout) and reads the console as it comes, noting the host's monotonic clock
      as each line arrives. QEMU's own start is taken from a wrapper put first on PATH
      for qemu-boot: it notes the clock immediately before it execs the real
      qemu-system-x86_64, so qemu-boot's own start-up is not counted. Writes one boot's
      numbers to OUT.json. Fails unless the root's `VERINIT-TEST: PASS` appears and QEMU
      exits 3.
      With --baseline, a boot with no initramfs (the kernel's dm-mod.create= and root=):
      the root's init then runs straight from the kernel, which mounts neither /proc, /sys
      nor /dev for it, so its only complaint must be that they were not moved there
      (`VERINIT-TEST: FAIL not mounted when init started: ...`, QEMU exits 5); every other
      check of the root (read-only, the dm device `root` with a CRYPT-VERITY- UUID for the
      root hash, every byte readable) must pass. A PASS (exit 3) is taken too.

  bench-boot.py dm-create IMAGE < DRY-RUN.json
      From verinit's dry run (`--dry-run --json` on the disk image IMAGE), the kernel
      command line words that make the kernel itself do what the plan does, with no
      initramfs (CONFIG_DM_INIT, Documentation/admin-guide/device-mapper/dm-init.rst):
        dm-mod.create="<name>,<uuid>,<minor>,ro,<table>[,<table>];..." root=/dev/dm-N
        rootfstype=<fs> ro [rootflags=...]
      The plan's dm devices get minors 0, 1, ... in its order, so its Nth is /dev/dm-N;
      in the tables IMAGE becomes /dev/vda (the guest's first virtio disk) and a device
      the plan made before becomes /dev/dm-N (dm-init takes kernel device names).

  bench-boot.py compare [--note TEXT]... [--embedded-kernel VMLINUX --initramfs CPIO]
                        BASELINE.json... -- EMBEDDED.json... -- EXTERNAL.json...
      The table of the no-initramfs baseline against verinit embedded in the kernel and
      verinit as an external initramfs (same kernel build otherwise): the median of each.
      With VMLINUX and CPIO it says whether the /init of CPIO is the binary embedded in
      VMLINUX (both ran the same verinit).

  bench-boot.py report [--kernel-version V] [--note TEXT]... INITRAMFS NOMODULES BOOT.json...
      The table: the median (and min, max) of each number over the boots, and the sizes.
      verinit's size is that of /init inside INITRAMFS: the binary that was booted. Each
      --note is printed under the table.

Kernel times are the printk timestamps ([    1.683145]); verinit's phases and steps are
its own "done in N ms" (whole milliseconds, rounded down); host times come from the host's
monotonic clock.
"""
import hashlib
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
# What verinit's log adds to a phase or step (src/boot/io_counts.rs).
COUNTS = re.compile(r"\((\d+) preads \((\d+) KiB\), (\d+) prefetches, (\d+) disk reads "
                    r"\((\d+) KiB\), (\d+) waits\)")
COUNT_KEYS = ("preads", "pread_kib", "prefetches", "disk_reads", "disk_kib", "waits")
# dm-mod's init (built in: a device initcall, before dm-init and before any /init).
DM_READY = re.compile(r"^device-mapper: ioctl: .* initialised")

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


def require(checks):
    """Raises naming every (what, present) pair whose line the console lacked."""
    missing = [what for what, ok in checks if not ok]
    if missing:
        raise ValueError("not in the console: " + ", ".join(missing))


def add_counts(r, phase, msg):
    """Adds a log line's counts (if it has them) to r["counts"][phase]."""
    m = COUNTS.search(msg)
    if not m:
        return
    c = r.setdefault("counts", {}).setdefault(phase, dict.fromkeys(COUNT_KEYS, 0))
    for k, v in zip(COUNT_KEYS, m.groups()):
        c[k] += int(v)


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
            if em := re.search(r"\(entered at ([0-9.]+) s\)", msg):
                ts.setdefault("entered", (float(em.group(1)), host))
        elif msg.startswith("verinit: handing over to init"):
            ts.setdefault("handover", (k, host))
        elif DM_READY.match(msg):
            ts.setdefault("dm_ready", (k, host))
        elif mm := MODULES.match(msg):
            r["modules_loaded"], r["modules_total"] = int(mm.group(1)), int(mm.group(2))
            r["modules"] = int(mm.group(3))
            add_counts(r, "modules", msg)
        elif mm := DEVPLAN.match(msg):
            r["devices_and_plan"] = int(mm.group(1))
            add_counts(r, "devices and plan", msg)
        elif mm := DONE.match(msg):
            r["steps"].setdefault(mm.group(2), []).append(int(mm.group(1)))
            add_counts(r, mm.group(2), msg)
    require([
        (f"the root's marker {MARKER!r}", marker is not None),
        ("'Run /init as init process'", "run_init" in ts),
        ("'verinit: verinit ... started'", "started" in ts),
        ("'verinit: handing over to init'", "handover" in ts),
        ("verinit's 'phase modules' line", "modules" in r),
        ("verinit's 'phase devices and plan' line", "devices_and_plan" in r),
    ])
    ms = lambda s: s * 1000.0
    r["qemu_to_marker"] = ms(marker - t0)
    r["kernel_to_init"] = ms(ts["run_init"][0])
    r["kernel_to_handover"] = ms(ts["handover"][0])
    r["verinit"] = ms(ts["handover"][0] - ts["run_init"][0])
    r["startup"] = ms(ts["started"][0] - ts["run_init"][0])
    if "entered" in ts:
        r["exec"] = ms(ts["entered"][0] - ts["run_init"][0])
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
    # The exec of the root's init: verinit's last line before its execve.
    r["exec_init"] = r["kernel_to_handover"]
    r["qemu_to_exec_init"] = r["qemu_to_handover"]
    if "dm_ready" in ts:
        r["dm_ready_to_exec_init"] = ms(ts["handover"][0] - ts["dm_ready"][0])
    return r


# The baseline's init: the kernel mounts none of these for it, and no verinit moves its
# /run (with the boot record) into the root.
NOT_MOVED = ("not mounted when init started:", "/run is not mounted")
RUN_SBIN_INIT = "Run /sbin/init as init process"


def parse_baseline(t0, lines):
    """One no-initramfs boot's numbers, in ms; (numbers, the exit status its marker means)."""
    r = {}
    marker, status, ts, fail = None, None, {}, None
    for host, raw in lines:
        line = ANSI.sub("", raw)
        if marker is None and "VERINIT-TEST: PASS" in line:
            marker, status = host, 3
        elif marker is None and "VERINIT-TEST: FAIL " in line:
            text = line.split("VERINIT-TEST: FAIL ", 1)[1]
            # FAIL <reason>[; <reason>...] (image=... root=...)
            reasons = text[:text.rfind(" (image=")] if " (image=" in text else text
            other = [x for x in reasons.split("; ") if not x.startswith(NOT_MOVED)]
            if other:
                fail = "; ".join(other)
            marker, status = host, 5
        m = PRINTK.search(line)
        if not m:
            continue
        k, msg = float(m.group(1)), m.group(2)
        if msg.startswith(RUN_SBIN_INIT):
            ts.setdefault("exec_init", (k, host))
        elif msg.startswith("Run /init as init process"):
            raise ValueError("the kernel ran /init: this boot had an initramfs")
        elif msg.startswith("device-mapper: init: waiting for all devices"):
            ts.setdefault("dm_init", (k, host))
        elif msg.startswith("VFS: Mounted root"):
            ts.setdefault("mounted", (k, host))
        elif DM_READY.match(msg):
            ts.setdefault("dm_ready", (k, host))
    if fail is not None:
        raise ValueError(f"the root's init failed a check besides the mounts no initramfs moved: {fail}")
    require([
        ("the root's marker 'VERINIT-TEST: PASS' or 'VERINIT-TEST: FAIL " + NOT_MOVED[0] + " ...'", marker is not None),
        (f"'{RUN_SBIN_INIT}'", "exec_init" in ts),
        ("dm-init's 'device-mapper: init: waiting for all devices'", "dm_init" in ts),
        ("'VFS: Mounted root'", "mounted" in ts),
        ("'device-mapper: ioctl: ... initialised'", "dm_ready" in ts),
    ])
    ms = lambda s: s * 1000.0
    r["qemu_to_marker"] = ms(marker - t0)
    r["exec_init"] = ms(ts["exec_init"][0])
    r["qemu_to_exec_init"] = ms(ts["exec_init"][1] - t0)
    r["qemu_to_kernel_zero"] = ms(ts["exec_init"][1] - t0 - ts["exec_init"][0])
    r["dm_init_to_mounted"] = ms(ts["mounted"][0] - ts["dm_init"][0])
    r["mounted_to_exec_init"] = ms(ts["exec_init"][0] - ts["mounted"][0])
    r["dm_ready_to_exec_init"] = ms(ts["exec_init"][0] - ts["dm_ready"][0])
    return r, status


def cmd_boot(args):
    baseline = bool(args) and args[0] == "--baseline"
    if baseline:
        args = args[1:]
    if len(args) < 3 or args[1] != "--":
        sys.exit("usage: bench-boot.py boot [--baseline] OUT.json -- QEMU-BOOT COMMAND...")
    out, cmd = args[0], args[2:]
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    t0, lines, status = run_boot(cmd)
    try:
        if baseline:
            r, want = parse_baseline(t0, lines)
        else:
            r, want = parse(t0, lines), 3
    except ValueError as e:
        sys.exit(f"bench-boot.py: QEMU exited {status}; {e}")
    if status != want:
        sys.exit(f"bench-boot.py: the root's marker appeared but QEMU exited {status}, not {want}")
    r["status"] = status
    r["load_before"] = load
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
    if baseline:
        print(f"exec of /sbin/init at {r['exec_init']:.0f} ms (kernel clock), dm-init and mount "
              f"{r['dm_init_to_mounted']:.0f} ms (1-min load average before: {load:.2f})")
    else:
        print(f"exec of /sbin/init at {r['exec_init']:.0f} ms (kernel clock), "
              f"{r['qemu_to_marker']:.0f} ms to the marker, verinit {r['verinit']:.0f} ms "
              f"({r['verinit_host']:.0f} ms on the host's clock; 1-min load average before: {load:.2f})")


def cmd_dm_create(args):
    """The kernel command line words of the no-initramfs baseline, from a dry run's plan."""
    if len(args) != 1:
        sys.exit("usage: bench-boot.py dm-create IMAGE < DRY-RUN.json")
    image = args[0]
    j = json.load(sys.stdin)
    if not j.get("ok"):
        sys.exit(f"bench-boot.py dm-create: the dry run fails: {j.get('error')}")
    steps = j["plan"]["steps"]
    minor, devices, mount = {}, [], None
    for st in steps:
        if st["kind"] == "dm-create":
            rows = []
            for row in st["table"]:
                words = []
                for w in row.split(" "):
                    if w == image:
                        w = "/dev/vda"
                    elif w in minor:
                        w = f"/dev/dm-{minor[w]}"
                    elif w.startswith("/"):
                        sys.exit(f"bench-boot.py dm-create: {w} in the table of {st['name']} is not {image}: "
                                 "the baseline boots one disk")
                    words.append(w)
                rows.append(" ".join(words))
            fields = [st["name"], st.get("uuid") or "", str(len(minor)), "ro" if st["read_only"] else "rw"]
            # dm-init has no escapes: , and ; separate its fields, " would end the argument.
            for x in fields + rows:
                if any(c in x for c in ',;"'):
                    sys.exit(f"bench-boot.py dm-create: {x!r} holds , ; or \" which dm-mod.create= cannot carry")
            devices.append(",".join(fields + rows))
            minor[st["name"]] = len(minor)
        elif st["kind"] == "mount":
            mount = st
        elif st["kind"] not in ("load-modules", "wait-for-devices", "write-boot-record", "switch-root", "exec"):
            sys.exit(f"bench-boot.py dm-create: the plan has a step dm-mod.create= cannot do: {st['kind']}")
    if not devices or mount is None or mount["source"] not in minor:
        sys.exit("bench-boot.py dm-create: the plan mounts no device it creates")
    create = ";".join(devices)
    if len(create) >= 4096:  # DM_MAX_STR_SIZE in drivers/md/dm-init.c
        sys.exit(f"bench-boot.py dm-create: dm-mod.create= would be {len(create)} bytes; dm-init takes < 4096")
    words = [f'dm-mod.create="{create}"', f"root=/dev/dm-{minor[mount['source']]}",
             f"rootfstype={mount['fstype']}", "ro"]
    flags = [o for o in mount.get("options", "").split(",") if o and o != "ro"]
    if flags:
        words.append("rootflags=" + ",".join(flags))
    print(" ".join(words))


def init_bytes(cpio):
    """The contents of /init in a newc archive, or None."""
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
            return data[body:body + size]
        if name == "TRAILER!!!":
            return None
        at = (body + size + 3) & ~3
    return None


def init_size(cpio):
    """The size of /init in a newc archive, or None."""
    b = init_bytes(cpio)
    return None if b is None else len(b)


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
    if all("exec" in b for b in boots):
        row("    of which exec to verinit's boot code (its own clock)", col("exec"))
    loaded = sorted({(b["modules_loaded"], b["modules_total"]) for b in boots})
    what = ", ".join(f"{l}" if l == t else f"{l} of {t}" for l, t in loaded)
    row(f"  modules ({what})", col("modules"))
    row("  devices and plan", col("devices_and_plan"))
    names = {"load-modules": "step: load modules", "wait-for-devices": "step: wait for devices",
             "dm-create": "dm create", "mount": "mount",
             "write-boot-record": "boot record (and the new root's lookups)", "switch-root": "switch root"}
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


def cmd_compare(args):
    notes, vmlinux, cpio, clock = [], None, None, "QEMU TCG"
    while args and args[0] in ("--note", "--embedded-kernel", "--initramfs", "--clock"):
        if args[0] == "--note":
            notes.append(args[1])
        elif args[0] == "--embedded-kernel":
            vmlinux = args[1]
        elif args[0] == "--clock":
            clock = args[1]
        else:
            cpio = args[1]
        args = args[2:]
    if vmlinux and cpio:
        # The built-in initramfs is stored uncompressed (CONFIG_INITRAMFS_COMPRESSION_NONE),
        # so the embedded binary's bytes are in vmlinux as they are.
        init = init_bytes(cpio)
        if init is None:
            notes.insert(0, f"WARNING: no /init in {cpio}")
        elif open(vmlinux, "rb").read().find(init) < 0:
            notes.insert(0, f"WARNING: the verinit embedded in {vmlinux} is not the one in {cpio} "
                         "(make kernel-embedded relinks it): embedded and external ran different binaries")
        else:
            notes.insert(0, f"embedded and external ran the same verinit binary ({len(init)} bytes, "
                         f"sha256 {hashlib.sha256(init).hexdigest()[:16]}...)")
    groups, cur = [], []
    for a in args:
        if a == "--":
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    groups.append(cur)
    if len(groups) != 3 or not all(groups):
        sys.exit("usage: bench-boot.py compare [--note TEXT]... BASELINE.json... -- EMBEDDED.json... -- EXTERNAL.json...")
    base, emb, ext = ([json.load(open(f)) for f in g] for g in groups)
    med = statistics.median
    cols = [("baseline", base), ("embedded", emb), ("external", ext)]
    n = sorted({len(base), len(emb), len(ext)})
    b0 = med(b["exec_init"] for b in base)

    def cell(values):
        return f"{med(values):.0f} ({min(values):.0f}-{max(values):.0f})"

    rows = []  # (label, [text per column])

    def row(label, key, which=(0, 1, 2)):
        def text(i):
            if i not in which:
                return ""
            values = [b.get(key) for b in cols[i][1]]
            return "?" if None in values else cell(values)
        rows.append((label, [text(i) for i in range(3)]))

    row("kernel start to exec of the root's /sbin/init", "exec_init")
    extra = ["", *(f"+{med(b['exec_init'] for b in g) - b0:.0f} ms" for g in (emb, ext))]
    rows.append(("  verinit's extra time over the baseline", extra))
    ratio = ["1.000", *(f"{med(b['exec_init'] for b in g) / b0:.3f}" for g in (emb, ext))]
    rows.append(("  ratio to the baseline (aim: <= 1.050)", ratio))
    rows.append(("  within the aim?", ["", *("yes" if med(b["exec_init"] for b in g) <= 1.05 * b0 else "NO"
                                                for g in (emb, ext))]))
    row("  from dm-mod's 'initialised' line (common to all three)", "dm_ready_to_exec_init")
    row("  kernel start to 'Run /init as init process'", "kernel_to_init", (1, 2))
    row("  verinit: 'Run /init' to 'handing over to init'", "verinit", (1, 2))
    row("  dm-init: its devices and the root mount", "dm_init_to_mounted", (0,))
    row("  root mounted to 'Run /sbin/init'", "mounted_to_exec_init", (0,))
    row("QEMU start to exec of /sbin/init (host clock)", "qemu_to_exec_init")
    row("  to the kernel's clock 0 (est.)", "qemu_to_kernel_zero")

    # verinit's phases and steps: ms, then what each cost in waits and disk reads.
    # (the name in verinit's log, the row, one boot's ms): its phases, then its steps.
    phase = lambda key: lambda b: b[key]
    step = lambda kind: lambda b: sum(b["steps"].get(kind, []))
    parts = [("modules", "modules", phase("modules")),
             ("devices and plan", "devices and plan", phase("devices_and_plan")),
             ("load-modules", "step: load modules", step("load-modules")),
             ("wait-for-devices", "step: wait for devices", step("wait-for-devices")),
             ("dm-create", "dm create (all devices)", step("dm-create")),
             ("mount", "mount", step("mount")),
             ("write-boot-record", "boot record (and the new root's lookups)", step("write-boot-record")),
             ("switch-root", "switch root", step("switch-root"))]
    if all("counts" in b for g in (emb, ext) for b in g):
        rows.append(("verinit's phases and steps (ms; waits, disk reads)", ["", "", ""]))
        for name, label, ms_of in parts:
            texts = [""]
            for g in (emb, ext):
                c = [b["counts"].get(name, dict.fromkeys(COUNT_KEYS, 0)) for b in g]
                waits = med(x["waits"] for x in c)
                reads = med(x["disk_reads"] for x in c)
                texts.append(f"{cell([ms_of(b) for b in g])}; {waits:.0f} w, {reads:.0f} r")
            rows.append((f"  {label}", texts))

    title = f"our kernel: no initramfs vs verinit ({clock}, ms, median (min-max) of {'/'.join(map(str, n))})"
    width = max(len(r[0]) for r in rows) + 3
    cw = max(len(t) for _, ts in rows for t in ts) + 2
    out = [title, f"{'':<{width}}" + "".join(f"{c:>{cw}}" for c, _ in cols)]
    for label, texts in rows:
        out.append(f"  {label:<{width - 2}}" + "".join(f"{t:>{cw}}" for t in texts))
    loads = " ".join(f"{b['load_before']:.1f}" for g in zip(base, emb, ext) for b in g)
    out.append("note: baseline = the kernel without a built-in initramfs (make kernel-plain) and no initrd: it makes "
               "the plan's dm devices itself from dm-mod.create= (generated from verinit's dry run) and mounts "
               "root=/dev/dm-N; embedded = verinit built into the kernel (make kernel-embedded); external = the "
               "baseline's kernel with -initrd build/initramfs-nomodules.cpio. One kernel source and config "
               "fragment, one disk; command line: build/disk.cmdline and panic=-1, for the baseline without "
               "verinit's root= and with dm-mod.create=, root=/dev/dm-N, rootfstype=, ro")
    out.append("note: measured = the kernel's printk timestamp of the exec of the root's /sbin/init: the kernel's "
               f"'{RUN_SBIN_INIT}' (baseline), verinit's 'handing over to init' (its last line before execve); "
               "the kernel's clock starts when it switches to the TSC, after the same early setup in all three; "
               "host clock: QEMU's exec to that line's arrival on the console (includes loading the kernel and "
               "initrd); est. = that arrival minus its kernel timestamp; 'from dm-mod's line': the same end point "
               "from the last kernel line the three share, which leaves out the noise of the kernel's early "
               "boot under TCG (an external initrd is unpacked asynchronously, partly before it)")
    out.append("note: extra = median(row) - median(baseline); ratio = median(row) / median(baseline); "
               f"runs interleaved (baseline, embedded, external, ...), each on a fresh copy of the disk; "
               f"1-min load average before each boot: {loads}")
    out.append("note: the baseline's init reports only that /proc, /sys and /dev were not moved into the root "
               "(nothing did: no initramfs); all its checks of the verified root passed")
    if any("counts" in b for g in (emb, ext) for b in g):
        out.append("note: verinit's rows are its own log: ms (whole, rounded down), then the median count of "
                   "waits (w: voluntary context switches of all its threads, getrusage: each time it slept, "
                   "for a disk or a thread) and of read requests the disks completed (r: /proc/diskstats, whole "
                   "disks, so a dm device's reads are counted on the disk below it)")
    out += [f"note: {x}" for x in notes]
    print("\n".join(out))


def main():
    cmds = {"boot": cmd_boot, "report": cmd_report, "dm-create": cmd_dm_create, "compare": cmd_compare}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
