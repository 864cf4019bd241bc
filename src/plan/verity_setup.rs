//! From a matched data volume to checked dm-verity parameters: where the hash tree is,
//! what its superblock (or the command line) says, and whether all of it fits.
//!
//! The hash tree is looked for, in this order:
//!   1. the volume `systemd.verity_root_hash=` names;
//!   2. inside the data volume at `hash-offset=` from `systemd.verity_root_options=`;
//!   3. in a disk image: the partition whose UUID is the last half of the root hash,
//!      else the image's only root-verity partition;
//!   4. next to a data LV: the LV `<LV>-verity` or `<LV>_verity` in the same VG;
//!   5. appended to the data volume, right after the filesystem it starts with
//!      (squashfs, erofs or ext4 record their size), at that size rounded up to 512
//!      or 4096 bytes, when a verity superblock is found there.

use crate::cmdline::VerityOptions;
use crate::disk::fs_probe::{self, Filesystem};
use crate::id::RootHash;
use crate::plan::fec_setup::{fec_setup, FecSetup};
use crate::plan::search::{Match, Search};
use crate::plan::signing::{root_hash_and_signature, Signing};
use crate::plan::volume::{self, Volume};
use crate::verity::params::{hash_start_block, HashAlgorithm, VerityParams};
use crate::verity::sig::RootSignature;
use crate::verity::superblock::read_superblock;
use crate::verity::tree;

/// A root that could be booted: data, hash tree and checked parameters.
#[derive(Clone)]
pub struct Candidate {
    pub data: Volume,
    pub hash: Volume,
    /// Byte offset of the verity area (superblock, or tree without one) in `hash`.
    pub hash_offset: u64,
    pub superblock: bool,
    pub params: VerityParams,
    pub root_hash: RootHash,
    /// Where the root hash came from: the command line, or the signature.
    pub root_hash_from: RootHashFrom,
    /// The signature found (the partition's label, or `root-hash-signature=`).
    pub signature: Option<(String, RootSignature)>,
    /// Whether the verity table passes the signature for the kernel to check: when the
    /// root hash came from it, when `dm_verity.require_signatures=1`, or when the command
    /// line gave it.
    pub signature_to_kernel: bool,
    pub filesystem: Option<Filesystem>,
    pub found_by: String,
    pub hash_found_by: String,
    /// Whether the top of the hash tree hashes to the root hash (one block read), and
    /// if not, why.
    pub root_check: Result<(), String>,
    /// Forward error correction: from the options, a footer, or none.
    pub fec: FecSetup,
}

/// Where a candidate's root hash came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootHashFrom {
    /// `roothash=` or `rd.ddi.roothash=`, as written.
    CommandLine(String),
    /// The `rootHash` of this signature partition.
    Signature(String),
}

impl Candidate {
    /// Candidates that carry the same key are the same verified image: the same root
    /// hash and the same verity parameters, so the same table. Whether a copy's tree
    /// matches (`root_check`) and what its signature partition holds are the copy's own
    /// state, not the image's: a damaged copy is still a copy, and is never booted.
    pub fn image_key(&self) -> String {
        let p = &self.params;
        format!(
            "{} {} {} {} {} {} {}",
            self.root_hash,
            p.hash_type,
            p.algorithm,
            p.data_block_size,
            p.hash_block_size,
            p.data_blocks,
            crate::id::encode_hex(&p.salt),
        )
    }
}

/// Builds the candidate for one match, or says why it is not one.
pub fn candidate(
    search: &mut Search<'_>,
    m: &Match,
    cmdline_sig: Option<&RootSignature>,
) -> Result<Candidate, String> {
    let scan = search.scan;
    let opts = &search.args.verity_options;
    let Signing {
        root_hash,
        from: root_hash_from,
        signature,
        to_kernel: signature_to_kernel,
    } = root_hash_and_signature(search, m, cmdline_sig)?;
    let root_hash = &root_hash;
    let data_reader = m.data.reader(scan);
    let filesystem = fs_probe::probe_filesystem(data_reader.as_ref()).map_err(|e| e.to_string())?;

    let (hash, hash_offset, hash_found_by) = find_hash(search, m, filesystem.as_ref())?;
    let superblock = opts.superblock.unwrap_or(true);
    let hash_reader = hash.reader(scan);
    let same = hash.layout == m.data.layout;

    let params = if superblock {
        let sb = read_superblock(hash_reader.as_ref(), hash_offset)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "no dm-verity superblock at offset {hash_offset} of {} ({hash_found_by}); \
                     is it the hash device? for a tree made with --no-superblock give \
                     systemd.verity_root_options=superblock=false,data-blocks=...,hash-offset=...,salt=...",
                    hash.label
                )
            })?;
        let start = hash_start_block(hash_offset, sb.hash_block_size, true)
            .ok_or("hash block size 0 in the superblock")?;
        let params = VerityParams::from_superblock(&sb, start).map_err(|e| e.to_string())?;
        agree_with_options(&params, opts, &hash.label)?;
        params
    } else {
        explicit_params(opts, &m.data, same.then_some(hash_offset))?
    };

    if same {
        params
            .check_same_device(root_hash, volume::volume_bytes(&m.data))
            .map_err(|e| format!("{}: {e}", m.data.label))?;
    } else {
        params
            .check(
                root_hash,
                volume::volume_bytes(&m.data),
                volume::volume_bytes(&hash),
            )
            .map_err(|e| format!("{} with hash device {}: {e}", m.data.label, hash.label))?;
    }

    let fec = fec_setup(search, &m.data, &hash, &params)?;
    let root_check = tree::check_root(
        data_reader.as_ref(),
        hash_reader.as_ref(),
        &params,
        root_hash,
    )
    .map_err(|e| e.to_string());
    Ok(Candidate {
        data: m.data.clone(),
        hash,
        hash_offset,
        superblock,
        params,
        root_hash: root_hash.clone(),
        root_hash_from,
        signature,
        signature_to_kernel,
        filesystem,
        found_by: m.why.clone(),
        hash_found_by,
        root_check,
        fec,
    })
}

fn find_hash(
    search: &mut Search<'_>,
    m: &Match,
    fs: Option<&Filesystem>,
) -> Result<(Volume, u64, String), String> {
    let args = search.args;
    let opts = &args.verity_options;
    let offset = opts.hash_offset.unwrap_or(0);
    if let Some(spec) = &args.verity_hash {
        let found = search.resolve(spec, false, "systemd.verity_root_hash=");
        return match found.as_slice() {
            [one] => Ok((
                one.data.clone(),
                offset,
                format!("systemd.verity_root_hash={spec}"),
            )),
            [] => Err(format!(
                "systemd.verity_root_hash={spec} matches no volume; check the name"
            )),
            many => Err(format!(
                "systemd.verity_root_hash={spec} matches several volumes: {}",
                many.iter()
                    .map(|x| x.data.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
    }
    if let Some(off) = opts.hash_offset {
        return Ok((
            m.data.clone(),
            off,
            format!("hash-offset={off} in the data volume"),
        ));
    }
    if let Some(image) = &m.image {
        if let Some((hash, how)) = search.image_hash(image) {
            return Ok((hash.clone(), 0, format!("{} ({how})", hash.label)));
        }
    }
    if let Some(hash) = search.sibling_hash_lv(&m.data)? {
        let how = format!("{} (named after the data LV)", hash.label);
        return Ok((hash, 0, how));
    }
    if let Some(fs) = fs {
        let reader = m.data.reader(search.scan);
        let mut tried = Vec::new();
        for align in [512u64, 4096] {
            let Some(off) = fs.size.0.checked_next_multiple_of(align) else {
                continue;
            };
            if tried.contains(&off) {
                continue;
            }
            tried.push(off);
            if let Ok(Some(_)) = read_superblock(reader.as_ref(), off) {
                return Ok((
                    m.data.clone(),
                    off,
                    format!(
                        "appended to {} at offset {off}, after its {} filesystem",
                        m.data.label,
                        fs.kind.name()
                    ),
                ));
            }
        }
    }
    Err(format!(
        "no hash tree found for {}: looked for {}; name it with systemd.verity_root_hash= or \
         give hash-offset= in systemd.verity_root_options=",
        m.data.label,
        if m.image.is_some() {
            "a root-verity partition in its image"
        } else {
            "an LV named <LV>-verity or <LV>_verity and a superblock after its filesystem"
        }
    ))
}

/// A superblock's values win, but a value the command line also gives must agree.
fn agree_with_options(p: &VerityParams, o: &VerityOptions, hash: &str) -> Result<(), String> {
    let mut bad = Vec::new();
    let mut cmp = |name: &str, given: Option<String>, on_disk: String| {
        if let Some(given) = given {
            if given != on_disk {
                bad.push(format!("{name}={given} but the superblock says {on_disk}"));
            }
        }
    };
    cmp("hash", o.hash.clone(), p.algorithm.name().to_string());
    cmp(
        "data-block-size",
        o.data_block_size.map(|v| v.to_string()),
        p.data_block_size.to_string(),
    );
    cmp(
        "hash-block-size",
        o.hash_block_size.map(|v| v.to_string()),
        p.hash_block_size.to_string(),
    );
    cmp(
        "data-blocks",
        o.data_blocks.map(|v| v.to_string()),
        p.data_blocks.to_string(),
    );
    cmp(
        "format",
        o.format.map(|v| v.to_string()),
        p.hash_type.to_string(),
    );
    cmp(
        "salt",
        o.salt.as_ref().map(|s| crate::id::encode_hex(s)),
        crate::id::encode_hex(&p.salt),
    );
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "systemd.verity_root_options= disagrees with the verity superblock on {hash}: {}",
            bad.join("; ")
        ))
    }
}

/// Parameters with no superblock: from the options, with cryptsetup's defaults.
fn explicit_params(
    o: &VerityOptions,
    data: &Volume,
    same_offset: Option<u64>,
) -> Result<VerityParams, String> {
    let algorithm =
        HashAlgorithm::parse(o.hash.as_deref().unwrap_or("sha256")).map_err(|e| e.to_string())?;
    let dbs = o.data_block_size.unwrap_or(4096);
    let hbs = o.hash_block_size.unwrap_or(4096);
    let data_blocks = match (o.data_blocks, same_offset) {
        (Some(n), _) => n,
        (None, Some(off)) => off / u64::from(dbs),
        (None, None) => volume::volume_bytes(data) / u64::from(dbs),
    };
    let offset = o.hash_offset.unwrap_or(0);
    Ok(VerityParams {
        hash_type: o.format.unwrap_or(1),
        algorithm,
        data_block_size: dbs,
        hash_block_size: hbs,
        data_blocks,
        hash_start_block: hash_start_block(offset, hbs, false).ok_or("hash block size 0")?,
        salt: o.salt.clone().unwrap_or_default(),
    })
}
