//! The number scanner: digit runs, bridged over separators, classified by validators.
//!
//! A *run* is a sequence of digit groups joined by a separator (one or two spaces,
//! a hyphen with optional spaces, or the `)` closing a parenthesized area code).
//! The scanner tries the longest stretch of consecutive groups first and takes the
//! first one that validates as a resident ID, bank card or phone number, so
//! `138 0013 8000`, `138-0013-8000` and `(0574)87668745` are found while
//! `010-12345678 13800138000` still gives two numbers.
//!
//! A value never starts or ends inside a group: an 18-digit number that is not an
//! ID never yields a phone number. A run touching letters, a decimal point, `@`
//! or a unit of quantity (`13800000000元`, `…号`) yields nothing.

use crate::budget::{Budget, Stopped};
use super::validate::{Validation, luhn, phone::PhoneTables, resident_id};

/// What a numeric candidate validated as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumKind {
    /// 18-character resident ID.
    ResidentId,
    /// 15-digit first-generation resident ID.
    ResidentId15,
    /// Mobile number.
    Mobile,
    /// Fixed-line number.
    Landline,
    /// Bank card number.
    BankCard,
}

/// One classified number, in normalized-text byte offsets.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberCandidate {
    /// Start (normalized bytes).
    pub start: usize,
    /// End (normalized bytes).
    pub end: usize,
    /// What it is.
    pub kind: NumKind,
    /// Base confidence from the validator alone.
    pub confidence: f64,
    /// What the validator checked.
    pub detail: String,
}

/// A value with the shape of an identifier that failed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct NearMiss {
    /// Start (normalized bytes).
    pub start: usize,
    /// End (normalized bytes).
    pub end: usize,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// Characters that make a preceding number a quantity, not an identifier.
fn is_unit(c: char) -> bool {
    "元万亿千百%‰吨个人次件户辆台套米亩克斤岁天倍余多笔家所项号年月日册页份名位届期条款章节层楼栋座室".contains(c)
}

fn sep_len(b: &[u8], i: usize, paren_open: bool) -> Option<usize> {
    let mut j = i;
    if paren_open && b.get(j) == Some(&b')') {
        j += 1;
        while b.get(j) == Some(&b' ') && j - i < 3 {
            j += 1;
        }
    } else {
        let mut spaces = 0;
        while b.get(j) == Some(&b' ') && spaces < 2 {
            j += 1;
            spaces += 1;
        }
        if b.get(j) == Some(&b'-') {
            j += 1;
            while b.get(j) == Some(&b' ') && j - i < 4 {
                j += 1;
            }
        }
    }
    (j > i && b.get(j).is_some_and(u8::is_ascii_digit)).then_some(j - i)
}

fn touches_left(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    if at == 0 {
        return false;
    }
    let p = b[at - 1];
    if p.is_ascii_alphanumeric() || matches!(p, b'@' | b'_' | b'/' | b'#' | b'=' | b'&') {
        return true;
    }
    if p == b'.' && at >= 2 && b[at - 2].is_ascii_digit() {
        return true;
    }
    let prev = text[..at].chars().next_back();
    matches!(prev, Some('第' | '¥' | '￥' | '$' | '№'))
}

fn touches_right(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    if at >= b.len() {
        return false;
    }
    let n = b[at];
    if n.is_ascii_alphanumeric() || matches!(n, b'@' | b'_' | b'%' | b'/') {
        return true;
    }
    if n == b'.' && b.get(at + 1).is_some_and(u8::is_ascii_digit) {
        return true;
    }
    let rest = text[at..].trim_start_matches(' ');
    rest.chars().next().is_some_and(is_unit)
}

/// Scans normalized text for identifier-like numbers.
pub fn scan(text: &str, tables: &PhoneTables) -> (Vec<NumberCandidate>, Vec<NearMiss>) {
    match scan_within(text, tables, &Budget::unlimited()) {
        Ok(r) => r,
        Err(Stopped) => unreachable!("an unlimited budget never stops"),
    }
}

/// [`scan`] within `budget` (checked every few thousand bytes).
pub fn scan_within(text: &str, tables: &PhoneTables, budget: &Budget) -> Result<(Vec<NumberCandidate>, Vec<NearMiss>), Stopped> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut near = Vec::new();
    let mut i = 0;
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut meter = budget.meter();
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // At the start of each digit run, not per byte.
        meter.at(i)?;
        groups.clear();
        loop {
            let gs = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits_so_far: usize = groups.iter().map(|g| g.1 - g.0).sum::<usize>() + (i - gs);
            if i < b.len()
                && (b[i] | 0x20) == b'x'
                && digits_so_far == 17
                && !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
            {
                i += 1;
            }
            groups.push((gs, i));
            let paren = gs > 0 && b[gs - 1] == b'(';
            match sep_len(b, i, paren) {
                Some(n) if groups.len() < 8 => i += n,
                _ => break,
            }
        }
        classify_run(text, &groups, tables, &mut out, &mut near);
    }
    Ok((out, near))
}

fn collect(b: &[u8], groups: &[(usize, usize)], buf: &mut Vec<u8>) {
    buf.clear();
    for &(s, e) in groups {
        buf.extend_from_slice(&b[s..e]);
    }
}

fn classify_run(
    text: &str,
    groups: &[(usize, usize)],
    t: &PhoneTables,
    out: &mut Vec<NumberCandidate>,
    near: &mut Vec<NearMiss>,
) {
    let b = text.as_bytes();
    let n = groups.len();
    let mut buf = Vec::with_capacity(24);
    let mut gi = 0;
    while gi < n {
        let mut taken = None;
        let start = groups[gi].0;
        let plus = start > 0 && b[start - 1] == b'+';
        if touches_left(text, start) {
            gi += 1;
            continue;
        }
        for gj in (gi + 1..=n).rev() {
            let end = groups[gj - 1].1;
            collect(b, &groups[gi..gj], &mut buf);
            if buf.len() > 19 || buf.len() < 7 {
                continue;
            }
            if touches_right(text, end) {
                continue;
            }
            if let Some((kind, conf, detail)) = classify(&buf, t, near, start, end) {
                let mut end = end;
                if matches!(kind, NumKind::Landline) {
                    end = extension(text, end, groups.get(gj));
                }
                let start = if plus {
                    start - 1
                } else if kind == NumKind::Landline
                    && start > 0
                    && b[start - 1] == b'('
                    && b.get(groups[gi].1) == Some(&b')')
                {
                    // A parenthesized area code starts at its `(`: (0574)87668745.
                    start - 1
                } else {
                    start
                };
                out.push(NumberCandidate {
                    start,
                    end,
                    kind,
                    confidence: conf,
                    detail,
                });
                taken = Some(gj);
                break;
            }
        }
        gi = taken.unwrap_or(gi + 1);
    }
}

/// Extends a landline over an extension: `-123`, `转123`, `转 123`.
fn extension(text: &str, end: usize, next_group: Option<&(usize, usize)>) -> usize {
    let b = text.as_bytes();
    if let Some(&(s, e)) = next_group
        && (1..=5).contains(&(e - s)) && text[end..s].trim() == "-" {
            return e;
        }
    for pre in ["转", "分机", "ext.", "ext"] {
        if let Some(rest) = text[end..].strip_prefix(pre) {
            let off = end + pre.len() + (rest.len() - rest.trim_start_matches(' ').len());
            let digits = b[off..].iter().take_while(|c| c.is_ascii_digit()).count();
            if (1..=5).contains(&digits)
                && !b.get(off + digits).is_some_and(u8::is_ascii_alphanumeric)
            {
                return off + digits;
            }
        }
    }
    end
}

fn classify(
    d: &[u8],
    t: &PhoneTables,
    near: &mut Vec<NearMiss>,
    start: usize,
    end: usize,
) -> Option<(NumKind, f64, String)> {
    let all_digits = d.iter().all(u8::is_ascii_digit);
    match d.len() {
        18 => match resident_id::validate18(d) {
            Validation::Valid(why) => return Some((NumKind::ResidentId, 0.97, why.to_owned())),
            Validation::Invalid(why) => {
                if all_digits
                    && let Some(c) = card(d) {
                        return Some(c);
                    }
                if why.contains("check digit") {
                    near.push(NearMiss {
                        start,
                        end,
                        reason: "18-digit ID shape, GB 11643 check digit fails",
                    });
                }
                return None;
            }
        },
        _ if !all_digits => return None,
        15 => {
            if d.starts_with(b"0086") && t.mobile(&d[4..]).is_valid() {
                return Some((
                    NumKind::Mobile,
                    0.9,
                    "0086 + allocated mobile prefix".into(),
                ));
            }
            if let Validation::Valid(why) = resident_id::validate15(d) {
                return Some((NumKind::ResidentId15, 0.5, why.to_owned()));
            }
        }
        13 if d.starts_with(b"86") && t.mobile(&d[2..]).is_valid() => {
            return Some((NumKind::Mobile, 0.9, "+86 + allocated mobile prefix".into()));
        }
        11 if d[0] == b'1' => {
            return match t.mobile(d) {
                Validation::Valid(why) => Some((NumKind::Mobile, 0.9, why.to_owned())),
                Validation::Invalid(_) => None,
            };
        }
        _ => {}
    }
    if (16..=19).contains(&d.len())
        && let Some(c) = card(d) {
            return Some(c);
        }
    if (10..=12).contains(&d.len()) && d[0] == b'0'
        && let Validation::Valid(why) = t.landline(d) {
            return Some((NumKind::Landline, 0.85, why.to_owned()));
        }
    None
}

fn card(d: &[u8]) -> Option<(NumKind, f64, String)> {
    if !(16..=19).contains(&d.len()) || !luhn::luhn_ok(d) {
        return None;
    }
    let issuer = luhn::card_issuer(d)?;
    let conf = if issuer == "UnionPay" { 0.7 } else { 0.55 };
    Some((
        NumKind::BankCard,
        conf,
        format!("Luhn valid, {issuer} issuer prefix"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> PhoneTables {
        PhoneTables::new(
            ["138", "139", "186"].into_iter(),
            ["010", "020", "0574", "0591"].into_iter(),
        )
    }

    fn kinds(t: &str) -> Vec<(NumKind, &str)> {
        scan(t, &tables())
            .0
            .into_iter()
            .map(|c| (c.kind, &t[c.start..c.end]))
            .collect()
    }

    #[test]
    fn bridges_separators() {
        assert_eq!(
            kinds("电话138 0013 8000。"),
            vec![(NumKind::Mobile, "138 0013 8000")]
        );
        assert_eq!(
            kinds("电话138-0013-8000"),
            vec![(NumKind::Mobile, "138-0013-8000")]
        );
        assert_eq!(
            kinds("+86 138 0013 8000"),
            vec![(NumKind::Mobile, "+86 138 0013 8000")]
        );
        assert_eq!(
            kinds("008613800138000"),
            vec![(NumKind::Mobile, "008613800138000")]
        );
    }

    #[test]
    fn landline_forms() {
        assert_eq!(
            kinds("0574-87668745"),
            vec![(NumKind::Landline, "0574-87668745")]
        );
        assert_eq!(
            kinds("(0574)87668745"),
            vec![(NumKind::Landline, "(0574)87668745")]
        );
        assert_eq!(
            kinds("电话(13800138000)"),
            vec![(NumKind::Mobile, "13800138000")]
        );
        assert_eq!(
            kinds("0574 87668745转123"),
            vec![(NumKind::Landline, "0574 87668745转123")]
        );
        assert_eq!(
            kinds("010-12345678-8001"),
            vec![(NumKind::Landline, "010-12345678-8001")]
        );
    }

    #[test]
    fn two_numbers_in_one_run() {
        assert_eq!(
            kinds("010-62345678 13800138000"),
            vec![
                (NumKind::Landline, "010-62345678"),
                (NumKind::Mobile, "13800138000")
            ]
        );
    }

    #[test]
    fn numeric_traps() {
        assert!(kinds("13800000000元").is_empty());
        assert!(kinds("投资13800000000 元").is_empty());
        assert!(kinds("113800138000123456").is_empty());
        assert!(kinds("邮编:315020").is_empty());
        assert!(kinds("9864.13800138000").is_empty());
        assert!(kinds("ABC13800138000").is_empty());
        assert!(kinds("13800138000@163.com").is_empty());
    }

    #[test]
    fn ids_and_cards() {
        assert_eq!(
            kinds("身份证360426199101010071"),
            vec![(NumKind::ResidentId, "360426199101010071")]
        );
        assert_eq!(
            kinds("44011320141005001x。"),
            vec![(NumKind::ResidentId, "44011320141005001x")]
        );
        assert_eq!(
            kinds("360426 19910101 0071"),
            vec![(NumKind::ResidentId, "360426 19910101 0071")]
        );
        assert_eq!(
            kinds("卡号4111 1111 1111 1111"),
            vec![(NumKind::BankCard, "4111 1111 1111 1111")]
        );
        let (c, near) = scan("36042619910102009X", &tables());
        assert!(c.is_empty());
        assert_eq!(near.len(), 1);
    }
}
