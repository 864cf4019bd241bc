# Fuzzing the readers with cargo-fuzz (fuzz/: its own crate and workspace, nightly only).
# Included by the Makefile.
#
#   make fuzz-seeds   scripts/fuzz-seeds: seed corpora in fuzz/corpus/<target>/, cut from
#                     disk images made by the real tools into build/fuzz-fixtures/ (every
#                     make-fixture scenario, and small ones made there). Needs root.
#   make fuzz         builds every target, then runs each for FUZZ_SECONDS (default 60),
#                     one after the other on one core; one summary line per target
#                     (executions, exec/s, cov and ft from libFuzzer, corpus size,
#                     crashes), also in build/fuzz/summary.txt. Crashing inputs land in
#                     fuzz/artifacts/<target>/: minimize one with
#                     `cd fuzz && cargo +nightly fuzz tmin -a -s none <target> <file>`, copy
#                     it to fuzz/regressions/<target>/<short-name>, and `make test` replays
#                     it on stable (tests/fuzz_regressions.rs).
#   make fuzz FUZZ_TARGETS="gpt planner" FUZZ_SECONDS=600   some targets only, longer
#
# Built with overflow checks and debug assertions (-a) and no sanitizer (-s none): the
# crate has no unsafe code, and ASan's quarantine alone would eat most of the 512 MB that
# -rss_limit_mb allows.

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= cmdline lvm_label lvm_mda lvm_text gpt verity_superblock signature pkcs7 planner fec
FUZZ_CARGO   ?= cargo +nightly

.PHONY: fuzz fuzz-build fuzz-seeds

fuzz-build: deps
	cd fuzz && for t in $(FUZZ_TARGETS); do $(FUZZ_CARGO) fuzz build -a -s none $$t || exit 1; done

fuzz: fuzz-build
	fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-seeds: deps
	scripts/fuzz-seeds
