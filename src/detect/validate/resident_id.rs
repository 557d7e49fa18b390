//! 居民身份证号码 (GB 11643-1999): region, birth date and ISO 7064 MOD 11-2 check.
//!
//! The region check is deliberately lenient: real numbers carry retired county
//! codes, so only the province prefix is checked, not the county table.

use super::Validation;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// Province-level prefixes (GB/T 2260), including 71 台湾, 81 香港, 82 澳门, 83 (港澳台居民居住证).
fn province_ok(p: &[u8]) -> bool {
    matches!(
        (p[0], p[1]),
        (b'1', b'1'..=b'5')
            | (b'2', b'1'..=b'3')
            | (b'3', b'1'..=b'7')
            | (b'4', b'1'..=b'6')
            | (b'5', b'0'..=b'4')
            | (b'6', b'1'..=b'5')
            | (b'7', b'1')
            | (b'8', b'1'..=b'3')
    )
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |a, &c| a * 10 + u32::from(c - b'0'))
}

/// True when year/month/day form a real calendar date in a plausible range.
pub fn date_ok(y: u32, m: u32, d: u32) -> bool {
    if !(1880..=2100).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

/// The GB 11643 check character for the first 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// Validates an 18-character ID (17 digits and a digit or `X`/`x`).
pub fn validate18(v: &[u8]) -> Validation {
    if v.len() != 18 || !v[..17].iter().all(u8::is_ascii_digit) {
        return Validation::Invalid("not 17 digits and a check character");
    }
    let last = v[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == b'X') {
        return Validation::Invalid("bad check character");
    }
    if !province_ok(&v[..2]) {
        return Validation::Invalid("unknown province prefix");
    }
    if !date_ok(num(&v[6..10]), num(&v[10..12]), num(&v[12..14])) {
        return Validation::Invalid("invalid birth date");
    }
    if check_char(&v[..17]) != last {
        return Validation::Invalid("GB 11643 check digit fails");
    }
    Validation::Valid("GB 11643 check digit, birth date and province prefix valid")
}

/// Validates a 15-digit first-generation ID (no check digit: region and date).
pub fn validate15(v: &[u8]) -> Validation {
    if v.len() != 15 || !v.iter().all(u8::is_ascii_digit) {
        return Validation::Invalid("not 15 digits");
    }
    if !province_ok(&v[..2]) {
        return Validation::Invalid("unknown province prefix");
    }
    if !date_ok(1900 + num(&v[6..8]), num(&v[8..10]), num(&v[10..12])) {
        return Validation::Invalid("invalid birth date");
    }
    Validation::Valid("15-digit first-generation ID: province prefix and birth date valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdnum_vectors() {
        assert!(validate18(b"360426199101010071").is_valid());
        assert!(validate18(b"44011320141005001x").is_valid());
        assert!(!validate18(b"T60426199101010078").is_valid());
        assert!(!validate18(b"360426199113010079").is_valid());
        assert!(!validate18(b"36042619910102009X").is_valid());
        assert!(!validate18(b"990426199112010074").is_valid());
        // Retired county codes are accepted (region leniency).
        assert!(validate18(b"110111198012010078").is_valid());
        assert!(validate18(b"110201199312010077").is_valid());
    }

    #[test]
    fn dates() {
        assert!(date_ok(2000, 2, 29));
        assert!(!date_ok(1900, 2, 29));
        assert!(!date_ok(2023, 4, 31));
    }

    #[test]
    fn fifteen_digits() {
        assert!(validate15(b"110105710923582").is_valid());
        assert!(!validate15(b"110105711323582").is_valid());
    }
}
