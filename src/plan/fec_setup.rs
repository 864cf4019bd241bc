//! Forward error correction for a candidate: from `fec-device=`, `fec-offset=` and
//! `fec-roots=` in `systemd.verity_root_options=`, or, with none of them, from an Android
//! `fec_header` footer at the end of the hash volume. Options are checked strictly (a
//! refusal names the option and the fix); a footer that cannot be used is a warning and the
//! boot goes on without FEC, since FEC only helps and the hash tree is the check.

use crate::cmdline::VerityOptions;
use crate::plan::search::Search;
use crate::plan::volume::{volume_bytes, Volume};
use crate::verity::fec::{footer_layout, read_footer, FecLayout, FooterFound};
use crate::verity::params::VerityParams;

/// Where a candidate's FEC was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FecFrom {
    /// `fec-device=` (with `fec-offset=`, `fec-roots=`) on the command line.
    Options,
    /// A `fec_header` footer at the end of the hash volume.
    Footer,
}

/// FEC the verity table gets.
#[derive(Clone, Debug)]
pub struct Fec {
    pub volume: Volume,
    pub layout: FecLayout,
    pub from: FecFrom,
    /// For the report: which option or footer, on which volume.
    pub found_by: String,
}

/// A candidate's FEC: none, found, or a footer that was set aside (the warning says why).
#[derive(Clone, Debug, Default)]
pub enum FecSetup {
    #[default]
    None,
    Found(Box<Fec>),
    Ignored(String),
}

impl FecSetup {
    pub fn fec(&self) -> Option<&Fec> {
        match self {
            FecSetup::Found(f) => Some(f),
            _ => None,
        }
    }
}

/// Whether the command line asks for FEC.
pub fn asks_for_fec(o: &VerityOptions) -> bool {
    o.fec_device.is_some() || o.fec_offset.is_some() || o.fec_roots.is_some()
}

/// The FEC of a candidate with data volume `data`, hash volume `hash` and parameters
/// `params`; an error refuses the candidate.
pub fn fec_setup(
    search: &mut Search<'_>,
    data: &Volume,
    hash: &Volume,
    params: &VerityParams,
) -> Result<FecSetup, String> {
    let opts = &search.args.verity_options;
    if asks_for_fec(opts) {
        return from_options(search, data, hash, params).map(|f| FecSetup::Found(Box::new(f)));
    }
    Ok(from_footer(search, data, hash, params))
}

fn from_options(
    search: &mut Search<'_>,
    data: &Volume,
    hash: &Volume,
    params: &VerityParams,
) -> Result<Fec, String> {
    let opts = search.args.verity_options.clone();
    let Some(spec) = &opts.fec_device else {
        return Err(
            "fec-offset=/fec-roots= in systemd.verity_root_options= need fec-device=: name \
             the volume that holds the parity (it may be the hash volume itself)"
                .into(),
        );
    };
    let found = search.resolve(spec, false, "fec-device=");
    let volume = match found.as_slice() {
        [one] => one.data.clone(),
        [] => {
            return Err(format!(
                "fec-device={spec} matches no volume; check the name (any form \
                 systemd.verity_root_hash= takes works)"
            ))
        }
        many => {
            return Err(format!(
                "fec-device={spec} matches several volumes: {}; name one",
                many.iter()
                    .map(|m| m.data.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    let roots = opts.fec_roots.unwrap_or(2);
    let offset = opts.fec_offset.unwrap_or(0);
    let is_hash = volume.layout == hash.layout;
    let is_data = volume.layout == data.layout;
    let hash_len = volume_bytes(hash);
    let layout = FecLayout::from_options(params, roots, offset, is_hash, hash_len)
        .and_then(|l| {
            l.check(
                params,
                (&volume.label, volume_bytes(&volume)),
                (&hash.label, hash_len),
                is_hash,
                is_data,
            )?;
            Ok(l)
        })
        .map_err(|e| format!("fec-device={spec}: {e}"))?;
    Ok(Fec {
        found_by: format!(
            "fec-device={spec} fec-offset={offset} fec-roots={roots} ({})",
            volume.label
        ),
        volume,
        layout,
        from: FecFrom::Options,
    })
}

fn from_footer(
    search: &Search<'_>,
    data: &Volume,
    hash: &Volume,
    params: &VerityParams,
) -> FecSetup {
    let reader = hash.reader(search.scan);
    let footer = match read_footer(reader.as_ref()) {
        FooterFound::None => return FecSetup::None,
        FooterFound::Bad(why) => {
            return FecSetup::Ignored(format!(
                "{} ends with an FEC footer (magic 0xFECFECFE) that cannot be used: {why}; \
                 booting without FEC (rewrite it with scripts/add-fec)",
                hash.label
            ))
        }
        FooterFound::Footer(f) => f,
    };
    let len = volume_bytes(hash);
    let is_data = hash.layout == data.layout;
    let checked = footer_layout(&footer, params, len).and_then(|l| {
        l.check(
            params,
            (&hash.label, len),
            (&hash.label, len),
            true,
            is_data,
        )
        .map_err(|e| e.to_string())?;
        Ok(l)
    });
    match checked {
        Ok(layout) => FecSetup::Found(Box::new(Fec {
            found_by: format!(
                "the fec_header footer at the end of {}{}",
                hash.label,
                if footer.backup {
                    " (its backup copy)"
                } else {
                    ""
                }
            ),
            volume: hash.clone(),
            layout,
            from: FecFrom::Footer,
        })),
        Err(why) => FecSetup::Ignored(format!(
            "the FEC footer at the end of {} ({footer}) does not fit this image: {why}; \
             booting without FEC (rewrite it with scripts/add-fec)",
            hash.label
        )),
    }
}
