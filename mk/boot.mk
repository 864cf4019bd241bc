# Boot packaging: Debian's kernel and verinit's initramfs, for the QEMU boots.
# Included by Makefile after ARCH, BUILD, BIN, TARGET and CARGO are set. Every file is in
# $(BUILD): build/ for ARCH=x86_64 (the default), build/arm64/ for ARCH=arm64 (Debian's
# linux-image-arm64, whose vmlinuz is already an uncompressed Image; the arm64 binary).
#
#   make kernel     scripts/fetch-kernel: $(BUILD)/vmlinux (uncompressed, for qemu -kernel),
#                   $(BUILD)/modules/lib/modules/<kver>/ (the modules verinit loads, with
#                   their dependencies, plain .ko, modules.dep in load order),
#                   $(BUILD)/kernel.version. Asks apt for the current linux-image-amd64
#                   (linux-image-arm64) every time (about 1 s when there is nothing new);
#                   needs apt, not root. arm64's apt state is private (scripts/apt-arch):
#                   the host's dpkg architectures stay as they are.
#   make initramfs  $(BUILD)/initramfs.cpio: /init = $(BIN), plus the staged modules, and
#                   $(BUILD)/initramfs.list, the same as a list usable verbatim as
#                   CONFIG_INITRAMFS_SOURCE; $(BUILD)/initramfs-nomodules.cpio and .list
#                   without modules (a kernel with everything built in). Fetches the kernel
#                   only when none is staged; `make kernel` refreshes it.
#   make build/initramfs-without-dm-verity.cpio  (ARCH=arm64: build/arm64/initramfs-...)
#                   the initramfs without one staged module (any name from modules.dep in
#                   place of dm-verity), and without the modules that need it; its
#                   modules.dep omits them too ($(BUILD)/initramfs-without-<module>.modules.dep).
#
# KERNEL_SERIES=6.12: Debian's current kernel of that series (the linux-image-6.12-amd64
# metapackage's), beside the default one and without touching its files: the kernel's
# files and its initramfs go to $(BUILD)/6.12/ (vmlinux, kernel.version, modules/,
# initramfs.cpio, initramfs.list, initramfs-without-*); initramfs-nomodules, which holds no
# kernel's files, stays in $(BUILD).
#
# From the environment: KERNEL_PACKAGE=linux-image-6.1.0-56-amd64[=6.1.192-2] pins the
# kernel package, KERNEL_MODULES="virtio_pci dm-mod ..." replaces the modules staged,
# SOURCE_DATE_EPOCH sets the archives' mtimes (default 0).

KERNEL_BUILD   := $(BUILD)$(if $(KERNEL_SERIES),/$(KERNEL_SERIES))
VMLINUX        := $(KERNEL_BUILD)/vmlinux
KERNEL_VERSION := $(KERNEL_BUILD)/kernel.version
MODULES_DIR    := $(KERNEL_BUILD)/modules
FETCH_KERNEL   := $(if $(KERNEL_SERIES),KERNEL_SERIES=$(KERNEL_SERIES) )scripts/fetch-kernel --arch $(ARCH) $(KERNEL_BUILD)
INITRAMFS_SRC  := initramfs/initramfs.list
GEN_INITRAMFS  := scripts/gen-initramfs
INITRAMFS_DEPS := $(BIN) $(INITRAMFS_SRC) $(GEN_INITRAMFS)
# The variables initramfs/initramfs.list names.
INITRAMFS_ENV  := VERINIT_BIN=$(abspath $(BIN))

.PHONY: kernel initramfs

kernel: deps
	@$(FETCH_KERNEL)

# When nothing is staged yet. fetch-kernel rewrites $(BUILD)/kernel.version only when it
# stages, so the initramfs is packed again only then.
$(VMLINUX) $(KERNEL_VERSION) &: | deps
	@$(FETCH_KERNEL)

initramfs: $(KERNEL_BUILD)/initramfs.cpio $(BUILD)/initramfs-nomodules.cpio
	@for f in $^; do echo "$$f: $$(stat -c %s $$f) bytes"; done

$(KERNEL_BUILD)/initramfs.cpio $(KERNEL_BUILD)/initramfs.list &: $(INITRAMFS_DEPS) $(KERNEL_VERSION)
	$(INITRAMFS_ENV) $(GEN_INITRAMFS) --modules $(MODULES_DIR) \
	  --list-out $(KERNEL_BUILD)/initramfs.list $(INITRAMFS_SRC) $(KERNEL_BUILD)/initramfs.cpio

$(BUILD)/initramfs-nomodules.cpio $(BUILD)/initramfs-nomodules.list &: $(INITRAMFS_DEPS)
	@mkdir -p $(BUILD)
	$(INITRAMFS_ENV) $(GEN_INITRAMFS) \
	  --list-out $(BUILD)/initramfs-nomodules.list $(INITRAMFS_SRC) $(BUILD)/initramfs-nomodules.cpio

$(KERNEL_BUILD)/initramfs-without-%.cpio: $(INITRAMFS_DEPS) $(KERNEL_VERSION)
	$(INITRAMFS_ENV) $(GEN_INITRAMFS) --modules $(MODULES_DIR) --exclude $* \
	  --list-out $(KERNEL_BUILD)/initramfs-without-$*.list $(INITRAMFS_SRC) $@
