#!/usr/bin/env bash
# Remakes the LVM2 fixtures in this folder with the real lvm2 tools (see README.md).
# Needs root, loop devices and lvm2; no device-mapper. Writes *.head (the first pe_start
# bytes of each PV: label and metadata area, no data) and *.json (lvm2's own reports, which
# the tests copy as constants). UUIDs are random, so remaking means updating the tests.
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
loops=()
cleanup() {
    for l in "${loops[@]}"; do losetup -d "$l" || true; done
    rm -rf "$work"
}
trap cleanup EXIT

export LVM_SUPPRESS_FD_WARNINGS=1
CONF='activation{udev_sync=0 udev_rules=0} devices{obtain_device_list_from_udev=0 use_devicesfile=0} backup{backup=0 archive=0}'
DEVS=""

# lvm CMD ARGS...: one lvm2 command restricted to our own loop devices.
lvm() {
    local cmd=$1
    shift
    "$cmd" --driverloaded n --devices "$DEVS" --config "$CONF" "$@" 2>&1 |
        grep -v -e 'Activation disabled' -e 'NOT backed up' -e 'not zeroed' || true
}

# attach NAME: a new 8 MiB image on a loop device, left in $dev.
attach() {
    truncate -s 8M "$work/$1.img"
    dev=$(losetup -f --show "$work/$1.img")
    loops+=("$dev")
}

# report NAME: lvm2's view of the VG, recorded next to the fixture.
report() {
    {
        lvm vgs --reportformat json --units s -o vg_name,vg_uuid,vg_seqno,vg_extent_size
        lvm pvs --reportformat json --units s -o pv_name,pv_uuid,dev_size,pe_start,pv_pe_count,pv_mda_size
        lvm lvs -a --reportformat json --units s \
            -o lv_name,lv_uuid,lv_attr,seg_start_pe,seg_size_pe,segtype,stripes,stripe_size,devices
    } >"$out/$1.json"
}

# head_of DEVICE NAME: the bytes of NAME.img before the first physical extent.
head_of() {
    local pe_start
    pe_start=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$1" | tr -d ' ')
    head -c "$pe_start" "$work/$2.img" >"$out/$2.head"
}

# 1. two_lvs: vg0 on one PV, root (two segments, data between them) and data.
attach two_lvs
a=$dev
DEVS=$a
lvm pvcreate --metadatasize 64k --dataalignment 64k "$a"
lvm vgcreate -s 1m vg0 "$a"
lvm lvcreate -an -Zn -l 2 -n root vg0
lvm lvcreate -an -Zn -l 1 -n data vg0
lvm lvextend -l +1 vg0/root
report two_lvs
head_of "$a" two_lvs

# 2. striped: vg1 on two PVs (the second labelled in sector 2): a 2-stripe LV,
#    a linear LV, and an LV of segment type "error".
attach striped_a
b=$dev
attach striped_b
c=$dev
DEVS="$b,$c"
lvm pvcreate --metadatasize 64k --dataalignment 64k "$b"
lvm pvcreate --metadatasize 64k --dataalignment 64k --labelsector 2 "$c"
lvm vgcreate -s 1m vg1 "$b" "$c"
lvm lvcreate -an -Zn -i 2 -I 64k -l 4 -n stripes vg1
lvm lvcreate -an -Zn -l 1 -n linear vg1 "$c"
lvm lvcreate -an -Zn --type error -L 2m -n broken vg1
report striped
head_of "$b" striped_a
head_of "$c" striped_b

# 3. wrapped: 200 create/remove cycles, then more until the committed copy of the
#    metadata wraps around the end of the ring buffer.
attach wrapped
d=$dev
DEVS=$d
lvm pvcreate --metadatasize 64k --dataalignment 64k "$d"
lvm vgcreate -s 1m vg2 "$d"
lvm lvcreate -an -Zn -l 1 -n keep vg2
wraps() {
    # mda at 4096: mda_header.size at +32, raw_locn 0 offset at +40, size at +48.
    python3 - "$work/wrapped.img" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    f.seek(4096)
    h = f.read(512)
size, off, n = struct.unpack_from("<QQQ", h, 32)
sys.exit(0 if off + n > size else 1)
EOF
}
i=0
while [ $i -lt 200 ] || ! wraps; do
    lvm lvcreate -an -Zn -l 1 -n "tmp$i" vg2 >/dev/null
    lvm lvremove -y "vg2/tmp$i" >/dev/null
    i=$((i + 1))
    [ $i -lt 1000 ] || { echo "the ring buffer never wrapped" >&2; exit 1; }
done
echo "wrapped after $i cycles"
report wrapped
head_of "$d" wrapped
