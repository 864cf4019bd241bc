#!/usr/bin/env python3
"""The table of scripts/bench, from hyperfine's JSON exports.

  bench-report.py SCAN_JSON VERIFY_JSON RSS_FILE BINARY NOTES_FILE

RSS_FILE: "name kib" lines (/usr/bin/time -f %M) for scan-lvs, scan-verinit,
verify-veritysetup, verify-verinit. NOTES_FILE: lines printed under the table.
Each hyperfine export holds two commands: the baseline first, verinit second.
Ratio = mean(baseline) / mean(verinit).
"""
import json
import os
import sys


def results(path):
    r = json.load(open(path))["results"]
    if len(r) != 2:
        sys.exit(f"bench-report.py: {path}: expected 2 commands, got {len(r)}")
    return r[0], r[1]


def dur(s):
    if s >= 1:
        return f"{s:.3f} s"
    return f"{s * 1000:.1f} ms"


def mean_sd(r):
    return f"{dur(r['mean'])} ± {dur(r['stddev'] or 0.0)}"


def mib(kib):
    return f"{int(kib) / 1024:.1f} MiB"


def main():
    scan_json, verify_json, rss_file, binary, notes = sys.argv[1:6]
    rss = dict(line.split() for line in open(rss_file) if line.strip())
    rows = []
    aims = []
    for title, path, base_name, rss_base, rss_ver, aim in [
        ("scan 8 PVs / 200 LVs", scan_json, "lvs", "scan-lvs", "scan-verinit", 10.0),
        ("verify 1 GiB sha256", verify_json, "veritysetup", "verify-veritysetup", "verify-verinit", 1.5),
    ]:
        base, ver = results(path)
        ratio = base["mean"] / ver["mean"]
        how = f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x SLOWER"
        rows.append(
            (f"{title} (mean ± σ, {len(ver['times'])} runs)", f"{base_name} {mean_sd(base)}", mean_sd(ver), how)
        )
        rows.append(("  min / max", f"{dur(base['min'])} / {dur(base['max'])}", f"{dur(ver['min'])} / {dur(ver['max'])}", ""))
        cpu = lambda r: dur(r["user"] + r["system"])
        rows.append(("  CPU user+sys (mean)", cpu(base), cpu(ver), ""))
        rows.append(("  peak RSS", mib(rss[rss_base]), mib(rss[rss_ver]), f"{int(rss[rss_base]) / int(rss[rss_ver]):.1f}x less"))
        aims.append(f"aim: {title} >= {aim:g}x: {'met' if ratio >= aim else 'NOT met'} ({ratio:.2f}x)")
    head = ("benchmark", "baseline", "verinit", "ratio")
    widths = [max(len(r[i]) for r in rows + [head]) + 3 for i in range(3)]
    out = []
    for r in [head] + rows:
        out.append("".join(c.ljust(w) for c, w in zip(r, widths)) + r[3])
    out.append(f"binary: {binary}, {os.path.getsize(binary)} bytes")
    out += aims
    out += [line.rstrip("\n") for line in open(notes) if line.strip()]
    print("\n".join(out))


if __name__ == "__main__":
    main()
