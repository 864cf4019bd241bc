# A kernel of our own that carries verinit: included by the Makefile after mk/boot.mk,
# which makes $(BUILD)/initramfs-nomodules.list (initramfs/initramfs.list with absolute
# paths and no modules: the initramfs this kernel embeds). With ARCH=arm64 everything
# below is arm64's, in build/arm64/ (see the end of this header).
#
#   make kernel-embedded  scripts/build-kernel-embedded: Debian's linux-source, tinyconfig
#                         + initramfs/kernel.config, everything built in, the list as
#                         CONFIG_INITRAMFS_SOURCE. Writes build/vmlinux-embedded (qemu
#                         -kernel, PVH entry, no -initrd: scripts/qemu-boot --no-initrd),
#                         build/bzImage-embedded and build/kernel-embedded.config. The
#                         configured tree and its objects are cached in
#                         /var/cache/verinit-kernel (VERINIT_KERNEL_CACHE): the first build
#                         takes about 5 minutes with -j2, a new verinit binary relinks in
#                         about 10 s, nothing new about 6 s.
#   make kernel-plain     the same kernel (same source, fragment and trusted keys) with no
#                         built-in initramfs (CONFIG_INITRAMFS_SOURCE=""), in its own cached
#                         tree: build/vmlinux-plain, build/bzImage-plain,
#                         build/kernel-plain.config. For -initrd build/initramfs-nomodules.cpio,
#                         or for no initramfs at all (dm-mod.create=, the baseline of
#                         scripts/bench-boot). Cold, about 5 minutes too.
#
#   make kernel-embedded ARCH=arm64
#                         the same kind of kernel for QEMU's virt machine (-M virt -cpu
#                         cortex-a57), cross-compiled with Debian's gcc-aarch64-linux-gnu:
#                         tinyconfig + initramfs/kernel.config + initramfs/kernel-arm64.config
#                         (virt's PCIe host, PL011 console ttyAMA0, PCIe hotplug; PSCI comes
#                         with arm64), the same trusted test keys, the arm64 verinit of
#                         build/arm64/initramfs-nomodules.list inside. Writes
#                         build/arm64/vmlinux-embedded (an Image: qemu -kernel, no -initrd)
#                         and build/arm64/kernel-embedded.config. Its own cache,
#                         /var/cache/verinit-kernel/arm64 (source, trees, lock): x86_64's is
#                         left alone. Cold, 13 CPU-minutes with -j2, about 7 minutes on 2
#                         idle cores (the source is fetched and unpacked once more); a new
#                         verinit binary relinks in about 17 s.
#   make kernel-plain ARCH=arm64  likewise, without the built-in initramfs.
#
# From the environment: KERNEL_SOURCE_PACKAGE (linux-source-6.1[=<version>]), JOBS (make
# -j, default 2), VERINIT_KERNEL_CACHE, PRUNE_DAYS (see the script).

KERNEL_EMBEDDED_LIST := $(BUILD)/initramfs-nomodules.list

.PHONY: kernel-embedded kernel-plain

# Always run: the kernel's make decides what is out of date (the list, each file it
# names, the fragment's tree). It needs root for the default cache.
kernel-embedded: $(KERNEL_EMBEDDED_LIST) | deps
	@scripts/build-kernel-embedded --arch $(ARCH) $(abspath $(KERNEL_EMBEDDED_LIST)) $(BUILD)

# No list: nothing of this checkout goes into it but the fragment and the certificates.
kernel-plain: | deps
	@scripts/build-kernel-embedded --arch $(ARCH) --no-initramfs $(BUILD)
