# The test disk and the QEMU demo. Included by the Makefile after mk/boot.mk (which makes
# the `kernel` and `initramfs` targets: build/vmlinux and build/initramfs.cpio).
#
#   make busybox   build/busybox/busybox: Debian's busybox-static, downloaded, not installed
#   make disk      build/disk.img + build/disk.cmdline (root: loop devices and lvm2)
#   make demo      boots build/disk.img in QEMU into the verified root (console here)

DISK         := build/disk.img
BUSYBOX      := build/busybox/busybox
DISK_INPUTS  := scripts/make-disk tests/fixtures/make-fixture tests/fixtures/tool_reports.py \
                $(shell find rootfs-skel -type f)
DEMO_TIMEOUT ?= 120

.PHONY: busybox disk demo

busybox: $(BUSYBOX)

$(BUSYBOX): scripts/fetch-busybox | deps
	scripts/fetch-busybox

disk: $(DISK)

# make-disk prints the kernel command line; build/disk.cmdline keeps it.
$(DISK): $(DISK_INPUTS) $(BUSYBOX) | deps
	scripts/make-disk

# The verified root's init ends QEMU through isa-debug-exit: status 3 is its pass, 5 its
# failure; 0 is a poweroff, a reboot or a panic (verinit's failure policy), never a pass.
demo: $(BIN) kernel initramfs disk
	@echo "demo: booting $(DISK) with: $$(cat build/disk.cmdline)"
	@status=0; scripts/qemu-boot --timeout $(DEMO_TIMEOUT) --kernel build/vmlinux \
	    --initrd build/initramfs.cpio --disk $(DISK) --append "$$(cat build/disk.cmdline)" \
	    --log build/demo-console.log || status=$$?; \
	case $$status in \
	    3) echo "demo: PASS: the verified root's init ran and powered QEMU off (status 3); console in build/demo-console.log" ;; \
	    5) echo "demo: FAIL: the root's init ran but its checks failed (status 5); see build/demo-console.log"; exit 1 ;; \
	    124) echo "demo: FAIL: timed out after $(DEMO_TIMEOUT) s; see build/demo-console.log"; exit 1 ;; \
	    *) echo "demo: FAIL: QEMU exited $$status before the root's init passed (0: verinit's failure policy or a panic); see build/demo-console.log"; exit 1 ;; \
	esac
