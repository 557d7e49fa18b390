//! Luhn (mod 10) and bank-card issuer prefixes.

/// True when `digits` (ASCII digits only) passes the Luhn check.
pub fn luhn_ok(digits: &[u8]) -> bool {
    if digits.len() < 2 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Issuer family of a card number by its leading digits, if it is a card
/// scheme seen on cards issued in China.
pub fn card_issuer(digits: &[u8]) -> Option<&'static str> {
    let p2 = std::str::from_utf8(digits.get(..2)?).ok()?;
    let p4: u32 = std::str::from_utf8(digits.get(..4)?).ok()?.parse().ok()?;
    match p2 {
        "62" => Some("UnionPay"),
        "60" if digits.starts_with(b"6011") => Some("Discover"),
        "40" | "41" | "42" | "43" | "44" | "45" | "46" | "47" | "48" | "49" => Some("Visa"),
        "51" | "52" | "53" | "54" | "55" => Some("Mastercard"),
        _ if (2221..=2720).contains(&p4) => Some("Mastercard"),
        _ if (3528..=3589).contains(&p4) => Some("JCB"),
        // Domestic debit BINs outside 62 (e.g. 95588 ICBC passbook-linked cards).
        "95" | "94" | "90" | "99" => Some("domestic bank"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_values() {
        assert!(luhn_ok(b"4111111111111111"));
        assert!(!luhn_ok(b"4111111111111112"));
        assert!(luhn_ok(b"79927398713"));
        assert!(!luhn_ok(b"7992739871x"));
    }

    #[test]
    fn issuers() {
        assert_eq!(card_issuer(b"6225880000000000"), Some("UnionPay"));
        assert_eq!(card_issuer(b"4111111111111111"), Some("Visa"));
        assert_eq!(card_issuer(b"1111111111111111"), None);
    }
}
