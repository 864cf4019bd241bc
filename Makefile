# verinit: `make` builds the static binary; `make test` runs every test (needs root for
# the loop-device fixtures); `make demo` boots the test disk in QEMU; `make bench`
# measures. Every target depends on `make deps`, the one installer (scripts/install-deps):
# it installs whatever any target needs, and nothing else installs anything.
#
#   make deps        installs the Debian packages and Rust pieces every target needs
#   make deps DEPS=check   only checks (the tests' own make calls): a missing need is one
#                    line naming it and `make deps`
#   make test-fresh  the README's two commands (make test, then make demo) on a clean clone
#                    in a new Debian 12 root made by debootstrap (scripts/test-fresh)
#   make test-arm64  the arm64 part of `make test` (which runs it last): the arm64 binary,
#                    its unit tests under qemu-user, and the dry-run suites with it on
#                    arm64 fixtures (VERINIT_TEST_ARCH=arm64; see tests/common/mod.rs)

# ARCH=x86_64 (the default) or ARCH=arm64: the binary, kernel, initramfs and disks of
# that architecture. x86_64's build files stay in build/, arm64's are in build/arm64/.
ARCH      ?= x86_64
ifeq ($(ARCH),x86_64)
TARGET    := x86_64-unknown-linux-musl
BUILD     := build
else ifeq ($(ARCH),arm64)
TARGET    := aarch64-unknown-linux-musl
BUILD     := build/arm64
else
$(error ARCH=$(ARCH): verinit builds for ARCH=x86_64 (the default) or ARCH=arm64)
endif
# PROFILE=release-syms: the same build with its symbols kept (scripts/bench-size).
PROFILE   ?= release
BIN       := target/$(TARGET)/$(PROFILE)/verinit
CARGO     ?= cargo
# The boot binary's std (README, "The binary's size"). SMALL=auto, the default: std rebuilt
# from rust-src for size (-Zbuild-std, panics abort at once with no message: SMALL_RUSTFLAGS)
# when the toolchain has rust-src, falling back to the plain stable build, with a warning,
# when it has not or the build fails. SMALL=yes: that build or an error. SMALL=no: the plain
# build of a stable toolchain, with its prebuilt std.
SMALL     ?= auto
# Both builds: a static executable, not static-pie (no .rela.dyn for the start to apply).
STABLE_RUSTFLAGS := -Crelocation-model=static
SMALL_RUSTFLAGS := -Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no -Zlocation-detail=none $(STABLE_RUSTFLAGS)
SMALL_CARGO_FLAGS := -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
# Which build the binary is (SMALL and the toolchain's rust-src): a change makes make call
# cargo again, rewritten only when it changes.
FLAVOR    := target/$(TARGET)/verinit-$(PROFILE).small
FLAVOR_IS := $(SMALL) $(if $(wildcard $(shell rustc --print sysroot)/lib/rustlib/src/rust/library/std/Cargo.toml),rust-src,no-rust-src)
$(shell mkdir -p $(dir $(FLAVOR)) && echo '$(FLAVOR_IS)' | cmp -s - $(FLAVOR) || echo '$(FLAVOR_IS)' >$(FLAVOR))
RUST_SRC   = $(shell rustc --print sysroot)/lib/rustlib/src/rust/library/std/Cargo.toml
DEPS      ?= install

# The devicemapper crate generates its bindings with bindgen at build time. For the musl
# target clang must be told where its own and the system's headers are. Recursive (=),
# not :=, so that it is looked up when a recipe runs: on a new machine clang's headers
# only exist once `make deps` has run, after this file was read.
CLANG_INCLUDE = $(shell ls -d /usr/lib/llvm-*/lib/clang/*/include 2>/dev/null | head -n 1)
export BINDGEN_EXTRA_CLANG_ARGS_x86_64_unknown_linux_musl = -I$(CLANG_INCLUDE) -I/usr/include -I/usr/include/x86_64-linux-gnu
# arm64: the kernel's and libc's arm64 headers from Debian's linux-libc-dev-arm64-cross and
# libc6-dev-arm64-cross (the dm bindings come out identical to x86_64's). The linker
# (rust-lld, no cross gcc) and the runner (qemu-aarch64-static) are in .cargo/config.toml.
export BINDGEN_EXTRA_CLANG_ARGS_aarch64_unknown_linux_musl = -I$(CLANG_INCLUDE) -I/usr/aarch64-linux-gnu/include -I/usr/include
export PKG_CONFIG_ALLOW_CROSS := 1

.PHONY: all deps test test-arm64 bench test-fresh clean

all: $(BIN)

deps:
	@scripts/install-deps $(if $(filter check,$(DEPS)),--check)

# touch: after a switch of SMALL cargo links the other build's cached binary, whose
# mtime is older than an initramfs packed since; it must be newer.
$(BIN): deps $(shell find src -name '*.rs') Cargo.toml $(FLAVOR)
	@small=$(SMALL); \
	if [ $$small = auto ] && [ ! -e "$(RUST_SRC)" ]; then \
	    echo "verinit: no rust-src in this toolchain: the plain stable build (SMALL=no)"; small=no; \
	fi; \
	case $$small in \
	yes | auto) \
	    echo "RUSTC_BOOTSTRAP=1 RUSTFLAGS='$(SMALL_RUSTFLAGS)' $(CARGO) build --profile $(PROFILE) --target $(TARGET) $(SMALL_CARGO_FLAGS)"; \
	    RUSTC_BOOTSTRAP=1 RUSTFLAGS='$(SMALL_RUSTFLAGS)' $(CARGO) build --profile $(PROFILE) --target $(TARGET) $(SMALL_CARGO_FLAGS) && { touch $(BIN); exit 0; }; \
	    [ $$small = auto ] || exit 1; \
	    echo "verinit: WARNING: the build-std build failed; the plain stable build instead (SMALL=no)" >&2 ;; \
	no) ;; \
	*) echo "SMALL=$$small: SMALL=auto (the default), yes or no" >&2; exit 2 ;; \
	esac; \
	echo "RUSTFLAGS='$(STABLE_RUSTFLAGS)' $(CARGO) build --profile $(PROFILE) --target $(TARGET)"; \
	RUSTFLAGS='$(STABLE_RUSTFLAGS)' $(CARGO) build --profile $(PROFILE) --target $(TARGET) && touch $(BIN)
	@ls -l $(BIN) | awk '{print "verinit: " $$5 " bytes, static " "$(TARGET)"}'

# Every test: formatting, lints (warnings are errors), unit tests, and the integration
# tests on disk images made by the real lvm2, sgdisk, mksquashfs and veritysetup; then
# the same for arm64 (test-arm64). Whatever ARCH says, both arches are tested.
test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets
	$(MAKE) test-arm64 DEPS=check

# arm64 on this x86_64 machine, run by qemu-user (qemu-aarch64-static; no binfmt_misc):
# - the release binary, as `make ARCH=arm64` builds it;
# - the unit tests (library and binary), built for aarch64-unknown-linux-musl and run by
#   the runner of .cargo/config.toml, at opt-level 1 (for this command only: x86_64's
#   tests keep the debug build): unoptimized, qemu-user takes 5-6 min over them, not
#   under 1 min, and their 5 s bound on parsing a 100,000-argument command line fails;
# - the integration tests that spawn the binary on fixtures, VERINIT_TEST_ARCH=arm64:
#   they run the arm64 binary under qemu-aarch64-static on fixtures made with ARCH=arm64
#   (the DPS arm64 partition types), cached apart in target/tmp/fixtures-arm64/. Those
#   test binaries are x86_64's, already built by `cargo test --all-targets`.
ARM64_DRY_RUN_TESTS = $(sort $(patsubst tests/%.rs,%,$(wildcard tests/dry_run_*.rs))) hostile_disks
test-arm64: deps
	$(MAKE) ARCH=arm64 DEPS=check
	CARGO_PROFILE_TEST_OPT_LEVEL=1 $(CARGO) test --target aarch64-unknown-linux-musl --lib --bins
	VERINIT_TEST_ARCH=arm64 $(CARGO) test $(addprefix --test ,$(ARM64_DRY_RUN_TESTS))

bench: deps $(BIN) kernel initramfs disk kernel-embedded kernel-plain
	scripts/bench

# A new machine, as CI proves it: see scripts/test-fresh --help.
test-fresh: deps
	scripts/test-fresh

clean:
	$(CARGO) clean
	rm -rf build

# Boot packaging (kernel, initramfs) and the test disk / QEMU demo.
include mk/boot.mk
include mk/disk.mk
include mk/embedded.mk
include mk/fuzz.mk
