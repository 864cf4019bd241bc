//! Hostile disks: copies of the make-fixture scenarios damaged in one specific way each
//! (truncated, absurd values behind valid checksums, metadata pointing outside the device,
//! loops in the ring buffer, GPT and verity superblock fields out of range, signature JSON
//! too big or not UTF-8, kernel command lines of a megabyte). Each case runs through
//! `verinit --dry-run --json` under a 256 MiB address-space limit and a 10 s time limit and
//! must end in exit status 1 with a clear error: never a panic, a hang or a big
//! allocation. The cases and what each must say are in `tests/hostile/make-hostile`
//! (`--list`); the runner and the checks in `tests/hostile/mod.rs`; both described in
//! `tests/hostile/README.md`. A sample also boots in QEMU: `tests/qemu_hostile.rs`.
//!
//! The `needs_root_loop_hostile_*` tests build their base fixture with
//! `tests/fixtures/make-fixture` (root and loop devices) and fail, saying so, without
//! them; they never skip.

mod common;
mod hostile;

/// One test per case of `make-hostile --list`, named after it.
macro_rules! hostile_cases {
    ($($test:ident => $case:literal,)*) => {
        /// Every case, as the tests name them.
        const CASES: &[&str] = &[$($case),*];
        $(
            #[test]
            fn $test() {
                let fix = common::fixture(&hostile::scenario_of($case));
                hostile::check_case(&fix, $case);
            }
        )*
    };
}

hostile_cases! {
    needs_root_loop_hostile_truncated_in_metadata => "truncated-in-metadata",
    needs_root_loop_hostile_truncated_in_lv_data => "truncated-in-lv-data",
    needs_root_loop_hostile_truncated_to_1000_bytes => "truncated-to-1000-bytes",
    needs_root_loop_hostile_label_1000_data_areas => "label-1000-data-areas",
    needs_root_loop_hostile_mda_size_2p63 => "mda-size-2p63",
    needs_root_loop_hostile_mda_start_beyond_device => "mda-start-beyond-device",
    needs_root_loop_hostile_label_mda_beyond_device => "label-mda-beyond-device",
    needs_root_loop_hostile_mda_text_offset_beyond_area => "mda-text-offset-beyond-area",
    needs_root_loop_hostile_mda_text_size_beyond_area => "mda-text-size-beyond-area",
    needs_root_loop_hostile_mda_text_size_2p64_1 => "mda-text-size-2p64-1",
    needs_root_loop_hostile_ring_wraps_onto_itself => "ring-wraps-onto-itself",
    needs_root_loop_hostile_segment_beyond_pe_count => "segment-beyond-pe-count",
    needs_root_loop_hostile_lv_extents_beyond_device => "lv-extents-beyond-device",
    needs_root_loop_hostile_overlapping_segments => "overlapping-segments",
    needs_root_loop_hostile_extent_count_2p62 => "extent-count-2p62",
    needs_root_loop_hostile_stripe_count_1000 => "stripe-count-1000",
    needs_root_loop_hostile_nesting_10000 => "nesting-10000",
    needs_root_loop_hostile_array_1m_elements => "array-1m-elements",
    needs_root_loop_hostile_lv_on_unlisted_pv => "lv-on-unlisted-pv",
    needs_root_loop_hostile_lvs_100000 => "lvs-100000",
    needs_root_loop_hostile_seqno_2p64_1 => "seqno-2p64-1",
    needs_root_loop_hostile_seqno_negative => "seqno-negative",
    needs_root_loop_hostile_stripe_extent_negative => "stripe-extent-negative",
    needs_root_loop_hostile_gpt_entry_size_64 => "gpt-entry-size-64",
    needs_root_loop_hostile_gpt_entry_count_2p31 => "gpt-entry-count-2p31",
    needs_root_loop_hostile_gpt_entries_beyond_disk => "gpt-entries-beyond-disk",
    needs_root_loop_hostile_gpt_partition_ends_before_start => "gpt-partition-ends-before-start",
    needs_root_loop_hostile_gpt_partitions_overlap => "gpt-partitions-overlap",
    needs_root_loop_hostile_gpt_header_size_2p32_1 => "gpt-header-size-2p32-1",
    needs_root_loop_hostile_gpt_pv_disk_entry_count_2p31 => "gpt-pv-disk-entry-count-2p31",
    needs_root_loop_hostile_gpt_in_lv_entry_size_64 => "gpt-in-lv-entry-size-64",
    needs_root_loop_hostile_gpt_in_lv_partitions_overlap => "gpt-in-lv-partitions-overlap",
    needs_root_loop_hostile_verity_data_blocks_beyond_device => "verity-data-blocks-beyond-device",
    needs_root_loop_hostile_verity_data_blocks_2p63 => "verity-data-blocks-2p63",
    needs_root_loop_hostile_verity_appended_data_blocks_over_hash => "verity-appended-data-blocks-over-hash",
    needs_root_loop_hostile_verity_hash_block_1mib => "verity-hash-block-1mib",
    needs_root_loop_hostile_verity_salt_size_300 => "verity-salt-size-300",
    needs_root_loop_hostile_verity_algorithm_md5 => "verity-algorithm-md5",
    needs_root_loop_hostile_verity_algorithm_sha256_nul_garbage => "verity-algorithm-sha256-nul-garbage",
    needs_root_loop_hostile_verity_data_block_3000 => "verity-data-block-3000",
    needs_root_loop_hostile_fec_footer_fec_size_2p32_1 => "fec-footer-fec-size-2p32-1",
    needs_root_loop_hostile_fec_footer_inp_size_2p64_1 => "fec-footer-inp-size-2p64-1",
    needs_root_loop_hostile_fec_footer_roots_0 => "fec-footer-roots-0",
    needs_root_loop_hostile_fec_footer_roots_255 => "fec-footer-roots-255",
    needs_root_loop_hostile_fec_footer_version_7 => "fec-footer-version-7",
    needs_root_loop_hostile_fec_footer_size_2p32_1 => "fec-footer-size-2p32-1",
    needs_root_loop_hostile_fec_footer_parity_in_tree => "fec-footer-parity-in-tree",
    needs_root_loop_hostile_fec_roots_0 => "fec-roots-0",
    needs_root_loop_hostile_fec_roots_1 => "fec-roots-1",
    needs_root_loop_hostile_fec_roots_25 => "fec-roots-25",
    needs_root_loop_hostile_fec_roots_255 => "fec-roots-255",
    needs_root_loop_hostile_fec_offset_past_device => "fec-offset-past-device",
    needs_root_loop_hostile_fec_over_data => "fec-over-data",
    needs_root_loop_hostile_fec_on_hash_before_tree => "fec-on-hash-before-tree",
    needs_root_loop_hostile_fec_offset_unaligned => "fec-offset-unaligned",
    needs_root_loop_hostile_fec_offset_without_device => "fec-offset-without-device",
    needs_root_loop_hostile_sig_json_10mib => "sig-json-10mib",
    needs_root_loop_hostile_sig_json_not_utf8 => "sig-json-not-utf8",
    needs_root_loop_hostile_sig_roothash_not_hex => "sig-roothash-not-hex",
    needs_root_loop_hostile_sig_json_nested_100000 => "sig-json-nested-100000",
    needs_root_loop_hostile_sig_json_nested_30000 => "sig-json-nested-30000",
    needs_root_loop_hostile_cmdline_1mb => "cmdline-1mb",
    needs_root_loop_hostile_cmdline_128k_argument => "cmdline-128k-argument",
    needs_root_loop_hostile_cmdline_100000_rd_lvm_lv => "cmdline-100000-rd-lvm-lv",
}

/// The generator's cases and the tests above are the same list: a case added to
/// make-hostile without a test (or a test whose case was renamed) fails here.
#[test]
fn hostile_every_case_has_a_test() {
    let listed: Vec<&str> = hostile::list().iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(
        listed, CASES,
        "make-hostile --list and the tests of tests/hostile_disks.rs differ"
    );
}
