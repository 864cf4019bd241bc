# Boot packaging: Debian's kernel and verinit's initramfs, for the QEMU boots.
# Included by Makefile after BIN, TARGET and CARGO are set.
#
#   make kernel     scripts/fetch-kernel: build/vmlinux (uncompressed, for qemu -kernel),
#                   build/modules/lib/modules/<kver>/ (the modules verinit loads, with their
#                   dependencies, plain .ko, modules.dep in load order), build/kernel.version.
#                   Asks apt for the current linux-image-amd64 every time (about 1 s when
#                   there is nothing new); needs apt, not root.
#   make initramfs  build/initramfs.cpio: /init = $(BIN), plus the staged modules, and
#                   build/initramfs.list, the same as a list usable verbatim as
#                   CONFIG_INITRAMFS_SOURCE; build/initramfs-nomodules.cpio and .list without
#                   modules (a kernel with everything built in). Fetches the kernel only when
#                   none is staged; `make kernel` refreshes it.
#   make build/initramfs-without-dm-verity.cpio
#                   the initramfs without one staged module (any name from modules.dep in
#                   place of dm-verity), and without the modules that need it; its
#                   modules.dep omits them too (build/initramfs-without-<module>.modules.dep).
#
# From the environment: KERNEL_PACKAGE=linux-image-6.1.0-56-amd64[=6.1.192-2] pins the
# kernel package, KERNEL_MODULES="virtio_pci dm-mod ..." replaces the modules staged,
# SOURCE_DATE_EPOCH sets the archives' mtimes (default 0).

VMLINUX        := build/vmlinux
KERNEL_VERSION := build/kernel.version
MODULES_DIR    := build/modules
INITRAMFS_SRC  := initramfs/initramfs.list
GEN_INITRAMFS  := scripts/gen-initramfs
INITRAMFS_DEPS := $(BIN) $(INITRAMFS_SRC) $(GEN_INITRAMFS)
# The variables initramfs/initramfs.list names.
INITRAMFS_ENV  := VERINIT_BIN=$(abspath $(BIN))

.PHONY: kernel initramfs

kernel: deps
	@scripts/fetch-kernel build

# When nothing is staged yet. fetch-kernel rewrites build/kernel.version only when it
# stages, so the initramfs is packed again only then.
$(VMLINUX) $(KERNEL_VERSION) &: | deps
	@scripts/fetch-kernel build

initramfs: build/initramfs.cpio build/initramfs-nomodules.cpio
	@for f in $^; do echo "$$f: $$(stat -c %s $$f) bytes"; done

build/initramfs.cpio build/initramfs.list &: $(INITRAMFS_DEPS) $(KERNEL_VERSION)
	$(INITRAMFS_ENV) $(GEN_INITRAMFS) --modules $(MODULES_DIR) \
	  --list-out build/initramfs.list $(INITRAMFS_SRC) build/initramfs.cpio

build/initramfs-nomodules.cpio build/initramfs-nomodules.list &: $(INITRAMFS_DEPS)
	@mkdir -p build
	$(INITRAMFS_ENV) $(GEN_INITRAMFS) \
	  --list-out build/initramfs-nomodules.list $(INITRAMFS_SRC) build/initramfs-nomodules.cpio

build/initramfs-without-%.cpio: $(INITRAMFS_DEPS) $(KERNEL_VERSION)
	$(INITRAMFS_ENV) $(GEN_INITRAMFS) --modules $(MODULES_DIR) --exclude $* \
	  --list-out build/initramfs-without-$*.list $(INITRAMFS_SRC) $@
