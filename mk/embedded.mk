# A kernel of our own that carries verinit: included by the Makefile after mk/boot.mk,
# which makes build/initramfs-nomodules.list (initramfs/initramfs.list with absolute paths
# and no modules: the initramfs this kernel embeds).
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
# From the environment: KERNEL_SOURCE_PACKAGE (linux-source-6.1[=<version>]), JOBS (make
# -j, default 2), VERINIT_KERNEL_CACHE, PRUNE_DAYS (see the script).

KERNEL_EMBEDDED_LIST := build/initramfs-nomodules.list

.PHONY: kernel-embedded kernel-plain

# Always run: the kernel's make decides what is out of date (the list, each file it
# names, the fragment's tree). It needs root for the default cache.
kernel-embedded: $(KERNEL_EMBEDDED_LIST) | deps
	@scripts/build-kernel-embedded $(abspath $(KERNEL_EMBEDDED_LIST)) build

# No list: nothing of this checkout goes into it but the fragment and the certificates.
kernel-plain: | deps
	@scripts/build-kernel-embedded --no-initramfs build
