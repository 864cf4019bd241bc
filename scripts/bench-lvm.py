#!/usr/bin/env python3
"""Helpers for scripts/bench's scan benchmark (LVM side).

  bench-lvm.py gen BASE OUT --lvs N --root-extents E [--seed S]
      BASE: `vgcfgbackup -f` of a VG with PVs and no LVs. OUT: the same VG with N LVs
      (`root`, E extents in two linear segments on two PVs, plus N-1 others: linear,
      several segments over different PVs, or striped over 2-4 PVs), for vgcfgrestore.

  bench-lvm.py place LVS_JSON PVS_JSON VGS_JSON DEVMAP LV SIZE
      Where the first SIZE bytes of LV live, from lvm2's own reports of the restored VG
      (`lvs --segments`, `pvs`, `vgs` in sectors, JSON) and DEVMAP ("loopdev image" lines):
      prints "image offset_in_image offset_in_lv length" lines. Linear segments only.
"""
import json
import random
import re
import string
import sys


def die(msg):
    print(f"bench-lvm.py: {msg}", file=sys.stderr)
    sys.exit(1)


def lvm_id(rng):
    chars = string.ascii_letters + string.digits
    s = "".join(rng.choice(chars) for _ in range(32))
    parts = [6, 4, 4, 4, 4, 4, 6]
    out, i = [], 0
    for n in parts:
        out.append(s[i : i + n])
        i += n
    return "-".join(out)


def segment(n, start, count, stripes, stripe_size=128):
    lines = [
        f"\t\t\tsegment{n} {{",
        f"\t\t\t\tstart_extent = {start}",
        f"\t\t\t\textent_count = {count}",
        "",
        '\t\t\t\ttype = "striped"',
        f"\t\t\t\tstripe_count = {len(stripes)}" + ("\t# linear" if len(stripes) == 1 else ""),
    ]
    if len(stripes) > 1:
        lines.append(f"\t\t\t\tstripe_size = {stripe_size}")
    lines += ["", "\t\t\t\tstripes = ["]
    lines.append(",\n".join(f'\t\t\t\t\t"{pv}", {pe}' for pv, pe in stripes))
    lines += ["\t\t\t\t]", "\t\t\t}"]
    return "\n".join(lines)


def lv_text(name, ident, segs, when):
    """segs: [(extent_count, [(pv, pe), ...], stripe_size)]"""
    body = [
        f"\t\t{name} {{",
        f'\t\t\tid = "{ident}"',
        '\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]',
        "\t\t\tflags = []",
        f"\t\t\tcreation_time = {when}",
        '\t\t\tcreation_host = "verinit-bench"',
        f"\t\t\tsegment_count = {len(segs)}",
        "",
    ]
    start = 0
    for i, (count, stripes, ss) in enumerate(segs, 1):
        body.append(segment(i, start, count, stripes, ss))
        body.append("")
        start += count
    body[-1] = "\t\t}"
    return "\n".join(body)


def gen(argv):
    base, out = argv[0], argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    n_lvs = int(opts["--lvs"])
    root_extents = int(opts["--root-extents"])
    rng = random.Random(int(opts.get("--seed", "1")))
    text = open(base).read()
    if "logical_volumes" in text:
        die(f"{base} already has logical volumes")
    pvs = re.findall(r"^\t\t(pv\d+) \{.*?pe_count = (\d+)", text, re.M | re.S)
    if len(pvs) < 4:
        die(f"{base}: expected at least 4 PVs, found {len(pvs)}")
    when = int(re.search(r"^creation_time = (\d+)", text, re.M).group(1))
    free = {pv: int(n) for pv, n in pvs}  # extents left on each PV
    next_pe = {pv: 0 for pv, _ in pvs}  # bump allocator
    names = [pv for pv, _ in pvs]

    def take(pv, n):
        if free[pv] < n:
            die(f"no room: {n} extents on {pv} ({free[pv]} left); make the images bigger")
        pe = next_pe[pv]
        next_pe[pv] += n
        free[pv] -= n
        return pe

    lvs = []
    # root: two linear segments on two PVs, so the dry run reads it across devices.
    first = root_extents // 2 or 1
    second = root_extents - first
    segs = [(first, [(names[2], take(names[2], first))], 128)]
    if second:
        segs.append((second, [(names[5], take(names[5], second))], 128))
    lvs.append(lv_text("root", lvm_id(rng), segs, when))

    kinds = {"linear": 0, "segments": 0, "striped": 0}
    for i in range(1, n_lvs):
        r = rng.random()
        roomy = lambda n: [p for p in names if free[p] >= n]
        if r < 0.15:  # striped over 2-4 PVs, 1-2 extents per stripe
            k = rng.choice([2, 3, 4])
            m = rng.choice([1, 2])
            pvs_k = rng.sample(roomy(m), k)
            stripes = [(p, take(p, m)) for p in pvs_k]
            segs = [(k * m, stripes, rng.choice([16, 128, 256]))]  # 8k, 64k, 128k
            kinds["striped"] += 1
        elif r < 0.40:  # 2-4 linear segments, each on another PV than the one before
            segs, prev = [], None
            for _ in range(rng.choice([2, 3, 4])):
                n = rng.choice([1, 1, 2])
                p = rng.choice([p for p in roomy(n) if p != prev])
                segs.append((n, [(p, take(p, n))], 128))
                prev = p
            kinds["segments"] += 1
        else:  # one linear segment
            n = rng.choice([1, 1, 2, 3])
            p = rng.choice(roomy(n))
            segs = [(n, [(p, take(p, n))], 128)]
            kinds["linear"] += 1
        lvs.append(lv_text(f"lv{i:03d}", lvm_id(rng), segs, when))

    block = "\n\tlogical_volumes {\n\n" + "\n\n".join(lvs) + "\n\t}\n"
    # Insert before the VG's closing brace (the last line that is only "}").
    lines = text.rstrip("\n").split("\n")
    close = max(i for i, l in enumerate(lines) if l == "}")
    lines.insert(close, block)
    open(out, "w").write("\n".join(lines) + "\n")
    used = sum(next_pe.values())
    print(
        f"generated {n_lvs} LVs (root + {kinds['linear']} linear, {kinds['segments']} "
        f"multi-segment, {kinds['striped']} striped), {used} extents used"
    )


def place(argv):
    lvs_json, pvs_json, vgs_json, devmap, lv, size = argv
    size = int(size)
    num = lambda s: int(str(s).rstrip("S"))
    segs = [
        s
        for s in json.load(open(lvs_json))["report"][0]["seg"]
        if s["lv_name"] == lv
    ]
    pe_start = {p["pv_name"]: num(p["pe_start"]) for p in json.load(open(pvs_json))["report"][0]["pv"]}
    extent = num(json.load(open(vgs_json))["report"][0]["vg"][0]["vg_extent_size"])
    images = dict(line.split() for line in open(devmap) if line.strip())
    if not segs:
        die(f"lvs does not report LV {lv}")
    expected = 0  # where the next segment must start in the LV, in bytes
    for s in sorted(segs, key=lambda s: num(s["seg_start_pe"])):
        if s["segtype"] != "linear":
            die(f"{lv}: segment type {s['segtype']}; only linear is placed")
        m = re.fullmatch(r"(\S+):(\d+)-(\d+)", s["seg_pe_ranges"])
        dev, pe = m.group(1), int(m.group(2))
        lv_off = num(s["seg_start_pe"]) * extent * 512
        seg_len = num(s["seg_size_pe"]) * extent * 512
        if lv_off != expected:
            die(f"{lv}: segments do not follow each other")
        expected += seg_len
        n = min(seg_len, size - lv_off)
        if n > 0:
            print(images[dev], (pe_start[dev] + pe * extent) * 512, lv_off, n)
    if expected < size:
        die(f"{lv} holds {expected} bytes, less than {size}")


if __name__ == "__main__":
    cmds = {"gen": gen, "place": place}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        die(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])
