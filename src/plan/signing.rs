//! Where a candidate's root hash comes from, and its signature: `roothash=` on the command
//! line, else the `rootHash` of the image's root-verity-sig partition; the signature from
//! `root-hash-signature=`, else that partition. Both must agree, and
//! `dm_verity.require_signatures=1` asks for a signature. The kernel checks a signature it
//! is given; verinit only reads its structure.
//!
//! A signature partition that cannot be used refuses the candidate when the signature is
//! needed, and is a warning when it is not (`unneeded_signature`).

use crate::cmdline::BootArgs;
use crate::id::RootHash;
use crate::plan::image::ImageSignature;
use crate::plan::search::{Match, Search};
use crate::plan::verity_setup::RootHashFrom;
use crate::verity::sig::RootSignature;

/// A candidate's root hash and signature, and whether the kernel is to check it.
pub(super) struct Signing {
    pub root_hash: RootHash,
    pub from: RootHashFrom,
    pub signature: Option<(String, RootSignature)>,
    pub to_kernel: bool,
}

/// Whether a signature partition that cannot be used may be passed over, with a
/// warning: when the command line gives the root hash (`Some(how it was written)`) and
/// neither `dm_verity.require_signatures=1` nor `root-hash-signature=` asks for a
/// signature. Then verity already binds every block to the root hash the boot loader
/// vouched for, and refusing would turn bit rot in an unused partition into a machine
/// that does not boot. `None`: the signature is needed, and its damage is a refusal.
fn unneeded_signature<'a>(
    args: &BootArgs,
    given: Option<&'a (RootHash, String)>,
) -> Option<&'a str> {
    let asked = args.require_signatures || args.verity_options.root_hash_signature.is_some();
    // `roothash=` of `roothash=<hex>`: the option, not the 64 digits again.
    given
        .filter(|_| !asked)
        .map(|(_, written)| written.split_inclusive('=').next().unwrap_or(written))
}

/// The signature to use for a match and the root hash, checked against each other and
/// against `dm_verity.require_signatures=`. `cmdline_sig` is `root-hash-signature=`. A
/// damaged signature partition that is not needed (`unneeded_signature`) is a warning.
pub(super) fn root_hash_and_signature(
    search: &mut Search<'_>,
    m: &Match,
    cmdline_sig: Option<&RootSignature>,
) -> Result<Signing, String> {
    let args = search.args;
    let given = args.root_hash.as_ref().map(|h| {
        let written = args.source("root_hash").unwrap_or("roothash=").to_string();
        (h.clone(), written)
    });
    let on_disk = match m
        .image
        .as_ref()
        .map(|i| i.signature(search.scan, search.arch))
    {
        Some(ImageSignature::Signed { partition, sig }) => Some((partition.clone(), sig.clone())),
        Some(ImageSignature::Bad(why)) => match unneeded_signature(args, given.as_ref()) {
            Some(written) => {
                search.warn(format!(
                    "{why}; booting on without it: the root hash comes from {written} on the \
                     command line and no signature is required, and dm-verity checks every \
                     block against that root hash. verinit never writes to a disk: write the \
                     image again to repair its signature partition"
                ));
                None
            }
            None => return Err(why.clone()),
        },
        Some(ImageSignature::Unsigned) | None => None,
    };
    let signature = match cmdline_sig {
        Some(sig) => Some(("root-hash-signature=".to_string(), sig.clone())),
        None => on_disk,
    };
    let where_sig = || match &m.image {
        Some(image) => format!("{} has no root-verity-sig partition", image.label),
        None => format!(
            "{} is not a disk image, so it has no signature partition",
            m.data.label
        ),
    };
    let (root_hash, from) = match (given, &signature) {
        (Some((h, written)), Some((part, sig))) if sig.root_hash != h => {
            return Err(format!(
                "the signature partition {part} is for root hash {}, not {h} from {written}: \
                 the image and the boot entry are from different builds",
                sig.root_hash
            ))
        }
        (Some((h, written)), _) => (h, RootHashFrom::CommandLine(written)),
        (None, Some((part, sig))) => (sig.root_hash.clone(), RootHashFrom::Signature(part.clone())),
        (None, None) => {
            return Err(format!(
                "no root hash: roothash= is not on the command line and {}; give \
                 roothash=<hex> or boot a signed image",
                where_sig()
            ))
        }
    };
    if args.require_signatures && signature.is_none() {
        return Err(format!(
            "dm_verity.require_signatures=1 asks for a signed root hash, and {}: sign the \
             image (a root-verity-sig partition), or give root-hash-signature=base64:<PKCS#7> \
             in systemd.verity_root_options=",
            where_sig()
        ));
    }
    let to_kernel = signature.is_some()
        && (matches!(from, RootHashFrom::Signature(_))
            || args.require_signatures
            || cmdline_sig.is_some());
    Ok(Signing {
        root_hash,
        from,
        signature,
        to_kernel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signature_is_needed_only_when_asked_for_or_the_root_hash_comes_from_it() {
        // (command line, Some(the option named in the warning) when the damage may be
        // passed over, None when it is a refusal)
        let cases: &[(String, Option<&str>)] = &[
            (format!("roothash={HASH}"), Some("roothash=")),
            (format!("rd.ddi.roothash={HASH}"), Some("rd.ddi.roothash=")),
            (
                format!("roothash={HASH} dm_verity.require_signatures=0"),
                Some("roothash="),
            ),
            // Near misses: the signature is needed.
            (
                format!("roothash={HASH} dm_verity.require_signatures=1"),
                None,
            ),
            (
                format!(
                    "roothash={HASH} systemd.verity_root_options=root-hash-signature=base64:AAAA"
                ),
                None,
            ),
            ("root=/dev/vg0/root".to_string(), None),
        ];
        for (text, want) in cases {
            let args = crate::cmdline::parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let given = args.root_hash.clone().map(|h| {
                let written = args.source("root_hash").unwrap_or("roothash=").to_string();
                (h, written)
            });
            assert_eq!(unneeded_signature(&args, given.as_ref()), *want, "{text}");
        }
    }
}
