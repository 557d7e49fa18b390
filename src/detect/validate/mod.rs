//! Checksum and structure validators for numeric identifiers.
//!
//! Each validator takes the bare digits (separators already removed) and says
//! whether the value is well formed, and if not, why: the reason appears in
//! explanations as a near miss, never as a finding.

pub mod luhn;
pub mod phone;
pub mod resident_id;

/// Outcome of validating a candidate value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Validation {
    /// The value is well formed; the string says what was checked.
    Valid(&'static str),
    /// The value has the shape but fails a check (a near miss).
    Invalid(&'static str),
}

impl Validation {
    /// True for `Valid`.
    pub fn is_valid(&self) -> bool {
        matches!(self, Validation::Valid(_))
    }
}
