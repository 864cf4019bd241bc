# The test disk and the QEMU demo. Included by the Makefile after mk/boot.mk (which makes
# the `kernel` and `initramfs` targets: $(BUILD)/vmlinux and $(BUILD)/initramfs.cpio).
# Every file is in $(BUILD): build/ for ARCH=x86_64 (the default), build/arm64/ for
# ARCH=arm64 (arm64's busybox, DPS partition types and console; scripts/make-disk).
#
#   make busybox   $(BUILD)/busybox/busybox: Debian's busybox-static, downloaded, not installed
#   make disk      $(BUILD)/disk.img + $(BUILD)/disk.cmdline (root: loop devices and lvm2)
#   make demo      boots $(BUILD)/disk.img in QEMU into the verified root (console here):
#                  qemu-system-x86_64, or with ARCH=arm64 qemu-system-aarch64 -M virt
#                  -cpu cortex-a57 (scripts/qemu-boot --arch)

DISK         := $(BUILD)/disk.img
BUSYBOX      := $(BUILD)/busybox/busybox
DISK_INPUTS  := scripts/make-disk tests/fixtures/make-fixture tests/fixtures/tool_reports.py \
                $(shell find rootfs-skel rootfs-arm64 -type f)
DEMO_TIMEOUT ?= 120

.PHONY: busybox disk demo

busybox: $(BUSYBOX)

$(BUSYBOX): scripts/fetch-busybox scripts/apt-arch | deps
	ARCH=$(ARCH) scripts/fetch-busybox

disk: $(DISK)

# make-disk prints the kernel command line; $(BUILD)/disk.cmdline keeps it.
$(DISK): $(DISK_INPUTS) $(BUSYBOX) | deps
	ARCH=$(ARCH) scripts/make-disk

# The verified root's init ends QEMU with status 3 for its pass, 5 for its failure
# (x86_64: isa-debug-exit; arm64: Arm semihosting SYS_EXIT); 0 is a poweroff, a reboot or
# a panic (verinit's failure policy), never a pass.
demo: $(BIN) kernel initramfs disk
	@echo "demo: booting $(DISK) ($(ARCH), $$(cat $(KERNEL_VERSION))) with: $$(cat $(BUILD)/disk.cmdline)"
	@status=0; scripts/qemu-boot --arch $(ARCH) --timeout $(DEMO_TIMEOUT) --kernel $(VMLINUX) \
	    --initrd $(KERNEL_BUILD)/initramfs.cpio --disk $(DISK) --append "$$(cat $(BUILD)/disk.cmdline)" \
	    --log $(BUILD)/demo-console.log || status=$$?; \
	case $$status in \
	    3) echo "demo: PASS: the verified root's init ran and ended QEMU with status 3; console in $(BUILD)/demo-console.log" ;; \
	    5) echo "demo: FAIL: the root's init ran but its checks failed (status 5); see $(BUILD)/demo-console.log"; exit 1 ;; \
	    124) echo "demo: FAIL: timed out after $(DEMO_TIMEOUT) s; see $(BUILD)/demo-console.log"; exit 1 ;; \
	    *) echo "demo: FAIL: QEMU exited $$status before the root's init passed (0: verinit's failure policy or a panic); see $(BUILD)/demo-console.log"; exit 1 ;; \
	esac
