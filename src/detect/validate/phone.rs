//! Mainland phone numbers: mobile prefixes and fixed-line area codes.
//!
//! The tables come from the rule pack's lexicons (`lexicons/mobile_prefixes.txt`,
//! `lexicons/area_codes.txt`), so they can be updated without a release.

use super::Validation;
use std::collections::HashSet;

/// Prefix tables for phone validation.
#[derive(Debug, Clone, Default)]
pub struct PhoneTables {
    /// Three- or four-digit mobile prefixes.
    mobile: HashSet<String>,
    /// Area codes with trunk 0 (`010`, `0591`), and three-digit stems of four-digit codes.
    area: HashSet<String>,
}

impl PhoneTables {
    /// Builds the tables from lexicon lines.
    pub fn new<'a>(
        mobile: impl Iterator<Item = &'a str>,
        area: impl Iterator<Item = &'a str>,
    ) -> PhoneTables {
        PhoneTables {
            mobile: mobile.map(str::to_owned).collect(),
            area: area.map(str::to_owned).collect(),
        }
    }

    /// Validates 11 digits as a mobile number.
    pub fn mobile(&self, d: &[u8]) -> Validation {
        if d.len() != 11 || d[0] != b'1' {
            return Validation::Invalid("not 11 digits starting with 1");
        }
        let s = std::str::from_utf8(d).unwrap_or("");
        if self.mobile.contains(&s[..3]) || self.mobile.contains(&s[..4]) {
            Validation::Valid("mobile prefix allocated")
        } else {
            Validation::Invalid("unallocated mobile prefix")
        }
    }

    /// Length of the area code (with trunk 0) if `d` starts with a known one.
    pub fn area_code_len(&self, d: &[u8]) -> Option<usize> {
        if d.len() < 3 || d[0] != b'0' {
            return None;
        }
        let s = std::str::from_utf8(d).ok()?;
        if matches!(&s[1..2], "1" | "2") {
            return self.area.contains(&s[..3]).then_some(3);
        }
        if s.len() >= 4 && (self.area.contains(&s[..4]) || self.area.contains(&s[..3])) {
            return Some(4);
        }
        None
    }

    /// Validates area code + subscriber number (10–12 digits, no extension).
    pub fn landline(&self, d: &[u8]) -> Validation {
        let Some(a) = self.area_code_len(d) else {
            return Validation::Invalid("unknown area code");
        };
        let sub = &d[a..];
        if !(7..=8).contains(&sub.len()) {
            return Validation::Invalid("subscriber number not 7 or 8 digits");
        }
        if sub[0] == b'0' {
            return Validation::Invalid("subscriber number starts with 0");
        }
        Validation::Valid("area code known, subscriber number well formed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> PhoneTables {
        PhoneTables::new(
            ["138", "199", "1740"].into_iter(),
            ["010", "020", "0591", "033"].into_iter(),
        )
    }

    #[test]
    fn mobiles() {
        let t = tables();
        assert!(t.mobile(b"13800138000").is_valid());
        assert!(t.mobile(b"17400012345").is_valid());
        assert!(!t.mobile(b"17410012345").is_valid());
        assert!(!t.mobile(b"12345678901").is_valid());
    }

    #[test]
    fn landlines() {
        let t = tables();
        assert!(t.landline(b"01012345678").is_valid());
        assert!(t.landline(b"059123165385").is_valid());
        assert!(t.landline(b"03355551234").is_valid());
        assert!(!t.landline(b"05991234567").is_valid());
        assert!(!t.landline(b"01002345678").is_valid());
        assert!(!t.landline(b"0591123").is_valid());
    }
}
