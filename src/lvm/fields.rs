//! Typed reading of one section of the metadata text: each getter checks the value's
//! type and range and names the section's path and the key when it fails.

use crate::id::LvmId;
use crate::lvm::metadata_error::{MetadataError, MetadataProblem};
use crate::lvm::text::{Section, Value};

/// Typed access to one section's fields, with its path for errors.
pub struct Fields<'a> {
    section: &'a Section<'a>,
    pub path: String,
}

impl<'a> Fields<'a> {
    pub fn new(section: &'a Section<'a>, path: String) -> Fields<'a> {
        Fields { section, path }
    }

    pub fn fail(&self, problem: MetadataProblem) -> MetadataError {
        MetadataError {
            path: self.path.clone(),
            problem,
        }
    }

    fn required(
        &self,
        key: &'static str,
        expected: &'static str,
    ) -> Result<&'a Value<'a>, MetadataError> {
        self.section
            .get(key)
            .ok_or_else(|| self.fail(MetadataProblem::Missing { key, expected }))
    }

    fn wrong(&self, key: &'static str, expected: &'static str, found: &Value<'_>) -> MetadataError {
        self.fail(MetadataProblem::WrongType {
            key,
            expected,
            found: found.kind(),
        })
    }

    /// An integer from 0 to `max`; `None` when absent.
    pub fn optional_uint(&self, key: &'static str, max: u64) -> Result<Option<u64>, MetadataError> {
        match self.section.get(key) {
            None => Ok(None),
            Some(Value::Int(i)) => u64::try_from(*i)
                .ok()
                .filter(|&u| u <= max)
                .map(Some)
                .ok_or_else(|| {
                    self.fail(MetadataProblem::OutOfRange {
                        key,
                        value: *i,
                        max,
                    })
                }),
            Some(other) => Err(self.wrong(key, "an integer", other)),
        }
    }

    pub fn uint(&self, key: &'static str, max: u64) -> Result<u64, MetadataError> {
        self.optional_uint(key, max)?.ok_or_else(|| {
            self.fail(MetadataProblem::Missing {
                key,
                expected: "an integer",
            })
        })
    }

    /// A number lvm2 reads into 32 bits.
    pub fn u32(&self, key: &'static str) -> Result<u64, MetadataError> {
        self.uint(key, u64::from(u32::MAX))
    }

    pub fn u64(&self, key: &'static str) -> Result<u64, MetadataError> {
        self.uint(key, i64::MAX as u64)
    }

    pub fn string(&self, key: &'static str) -> Result<&'a str, MetadataError> {
        match self.required(key, "a string")? {
            Value::Str(s) => Ok(s.as_ref()),
            other => Err(self.wrong(key, "a string", other)),
        }
    }

    pub fn optional_string(&self, key: &'static str) -> Result<Option<&'a str>, MetadataError> {
        match self.section.get(key) {
            None => Ok(None),
            Some(_) => self.string(key).map(Some),
        }
    }

    pub fn id(&self) -> Result<LvmId, MetadataError> {
        let text = self.string("id")?;
        LvmId::parse(text).map_err(|e| self.fail(MetadataProblem::BadId(format!("id: {e}"))))
    }

    pub fn array(&self, key: &'static str) -> Result<&'a [Value<'a>], MetadataError> {
        match self.required(key, "an array")? {
            Value::Array(a) => Ok(a),
            other => Err(self.wrong(key, "an array", other)),
        }
    }

    /// A status or flags array: its strings (lvm2 ignores words it does not know, and so
    /// do we); absent is empty when not `required`.
    pub fn words(&self, key: &'static str, required: bool) -> Result<Vec<String>, MetadataError> {
        if !required && self.section.get(key).is_none() {
            return Ok(Vec::new());
        }
        self.array(key)?
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.to_string()),
                other => Err(self.wrong(key, "an array of strings", other)),
            })
            .collect()
    }

    pub fn subsection(&self, key: &'static str) -> Result<Option<&'a Section<'a>>, MetadataError> {
        match self.section.get(key) {
            None => Ok(None),
            Some(Value::Section(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(key, "a section", other)),
        }
    }

    /// The entries of this section, which must all be sections, at most `limit`.
    pub fn children(
        &self,
        what: &'static str,
        limit: usize,
    ) -> Result<Vec<(&'a str, &'a Section<'a>)>, MetadataError> {
        if self.section.entries.len() > limit {
            return Err(self.fail(MetadataProblem::TooMany { what, limit }));
        }
        self.section
            .entries
            .iter()
            .map(|(key, value)| match value {
                Value::Section(s) => Ok((key.as_ref(), s)),
                other => Err(self.fail(MetadataProblem::NotASection {
                    key: key.to_string(),
                    found: other.kind(),
                })),
            })
            .collect()
    }
}
