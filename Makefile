# verinit: `make` builds the static binary; `make test` runs every test (needs root for
# the loop-device fixtures); `make bench` measures. Each target installs what it needs.

TARGET    := x86_64-unknown-linux-musl
BIN       := target/$(TARGET)/release/verinit
CARGO     ?= cargo

# The devicemapper crate generates its bindings with bindgen at build time. For the musl
# target clang must be told where its own and the system's headers are.
CLANG_INCLUDE := $(firstword $(wildcard /usr/lib/llvm-*/lib/clang/*/include))
export BINDGEN_EXTRA_CLANG_ARGS_x86_64_unknown_linux_musl := -I$(CLANG_INCLUDE) -I/usr/include -I/usr/include/x86_64-linux-gnu
export PKG_CONFIG_ALLOW_CROSS := 1

.PHONY: all deps test unit lint bench clean

all: $(BIN)

deps:
	@scripts/install-deps

$(BIN): deps $(shell find src -name '*.rs') Cargo.toml
	$(CARGO) build --release --target $(TARGET)
	@ls -l $(BIN) | awk '{print "verinit: " $$5 " bytes, static " "$(TARGET)"}'

# Every test: formatting, lints (warnings are errors), unit tests, and the integration
# tests on disk images made by the real lvm2, sgdisk, mksquashfs and veritysetup.
test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets

bench: deps $(BIN) kernel initramfs disk kernel-embedded kernel-plain
	scripts/bench

clean:
	$(CARGO) clean
	rm -rf build

# Boot packaging (kernel, initramfs) and the test disk / QEMU demo.
include mk/boot.mk
include mk/disk.mk
include mk/embedded.mk
include mk/fuzz.mk
