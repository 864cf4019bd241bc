# verinit: `make` builds the static binary; `make test` runs every test (needs root for
# the loop-device fixtures); `make bench` measures. Each target installs what it needs.

TARGET    := x86_64-unknown-linux-musl
BIN       := target/$(TARGET)/release/verinit
CARGO     ?= cargo

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

bench: deps $(BIN)
	scripts/bench

clean:
	$(CARGO) clean
	rm -rf build
