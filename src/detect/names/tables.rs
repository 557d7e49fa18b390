//! The detector's tables: `lexicons/name_tables.txt` (overridable with
//! `--rules`, inside `rules_sha256`). Each table is a line `name entries`;
//! character tables list characters without separators, word tables list
//! words separated by spaces; a table may continue on further lines. Every
//! table must be present (an empty line of its name makes it empty).

use super::Role;

/// The character and word tables of the person-name detector.
#[derive(Clone, Debug, Default)]
pub struct NameTables {
    /// Characters of transliterated foreign names.
    pub translit: String,
    /// Words after an organization's name, never a person's (公司, 集团).
    pub org_suffix: Vec<String>,
    /// The hundred most common surnames.
    pub common_surname: String,
    /// Last characters of places and things jieba tags `nr` (黄鹤楼).
    pub place_or_thing_last: String,
    /// Endings of transliterated place and people names (斯坦, 堡).
    pub place_ending: Vec<String>,
    /// Honorifics and titles after a bare surname, with the role they give.
    pub bare_title: Vec<(String, Role)>,
    /// Characters after which a bare surname may start.
    pub bare_before: String,
    /// Surnames that are far more often function words (任, 于, 向).
    pub ambiguous_surname: String,
    /// Honorifics after a foreign name (女士, 先生).
    pub honorific: Vec<String>,
    /// Surnames that are also measure words (张, 项).
    pub measure_surname: String,
    /// Numerals and demonstratives before a measure word.
    pub numeral_or_demonstrative: String,
    /// Words that make a name a doctrine's (主义, 思想, 理论).
    pub doctrine_suffix: Vec<String>,
    /// Last characters of bodies named after a title (委员会, 代表团).
    pub body_ending: String,
    /// One-character short names of countries (中, 美).
    pub country_short: String,
    /// Chinese numerals.
    pub numeral: String,
}

/// Every table name, for the check that all are present.
const TABLES: &[&str] = &[
    "translit", "org_suffix", "common_surname", "place_or_thing_last", "place_ending", "bare_title.unknown",
    "bare_title.private", "bare_title.official", "bare_before", "ambiguous_surname", "honorific", "measure_surname",
    "numeral_or_demonstrative", "doctrine_suffix", "body_ending", "country_short", "numeral",
];

impl NameTables {
    /// Ends with a character of `place_or_thing_last` (黄鹤楼, 吉普车): a
    /// dictionary "name" that is a place or a thing.
    pub fn ends_like_place_or_thing(&self, name: &str) -> bool {
        name.chars().next_back().is_some_and(|c| self.place_or_thing_last.contains(c))
    }

    /// Ends like a transliterated place or people name (哈萨克斯坦, 汉堡,
    /// 哈萨克人): `place_ending`.
    pub fn ends_like_place(&self, name: &str) -> bool {
        self.place_ending.iter().any(|e| name.ends_with(e.as_str()))
    }

    /// Parses the lines of `lexicons/name_tables.txt` (comments and blanks
    /// already removed); the error names unknown and missing tables.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<NameTables, String> {
        let mut t = NameTables::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        for line in lines {
            let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let words = || rest.split_whitespace().map(str::to_owned);
            let chars = |s: &mut String| s.extend(rest.chars().filter(|c| !c.is_whitespace()));
            match name {
                "translit" => chars(&mut t.translit),
                "org_suffix" => t.org_suffix.extend(words()),
                "common_surname" => chars(&mut t.common_surname),
                "place_or_thing_last" => chars(&mut t.place_or_thing_last),
                "place_ending" => t.place_ending.extend(words()),
                "bare_title.unknown" => t.bare_title.extend(words().map(|w| (w, Role::Unknown))),
                "bare_title.private" => t.bare_title.extend(words().map(|w| (w, Role::Private))),
                "bare_title.official" => t.bare_title.extend(words().map(|w| (w, Role::Official))),
                "bare_before" => chars(&mut t.bare_before),
                "ambiguous_surname" => chars(&mut t.ambiguous_surname),
                "honorific" => t.honorific.extend(words()),
                "measure_surname" => chars(&mut t.measure_surname),
                "numeral_or_demonstrative" => chars(&mut t.numeral_or_demonstrative),
                "doctrine_suffix" => t.doctrine_suffix.extend(words()),
                "body_ending" => chars(&mut t.body_ending),
                "country_short" => chars(&mut t.country_short),
                "numeral" => chars(&mut t.numeral),
                other => {
                    errors.push(format!("unknown table {other:?}"));
                    continue;
                }
            }
            if let Some(n) = TABLES.iter().find(|n| **n == name) {
                seen.push(n);
            }
        }
        for n in TABLES {
            if !seen.contains(n) {
                errors.push(format!("missing table {n:?}"));
            }
        }
        if errors.is_empty() { Ok(t) } else { Err(errors.join("; ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse() {
        let t = NameTables::parse(crate::rules::lexicon_lines(include_str!("../../../rules/lexicons/name_tables.txt"))).unwrap();
        assert!(t.translit.contains('斯'));
        assert!(t.bare_title.contains(&("局长".to_owned(), Role::Official)));
        assert!(t.bare_title.contains(&("女士".to_owned(), Role::Unknown)));
        assert_eq!(t.doctrine_suffix, ["主义", "思想", "理论"]);
        assert_eq!(t.common_surname.chars().count(), 100);
    }

    #[test]
    fn unknown_and_missing_tables_are_errors() {
        let e = NameTables::parse(["translit 阿", "honorifics 女士"]).unwrap_err();
        assert!(e.contains("unknown table \"honorifics\""), "{e}");
        assert!(e.contains("missing table \"org_suffix\""), "{e}");
    }
}
