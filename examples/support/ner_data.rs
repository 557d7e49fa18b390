//! Readers for the NER corpora (training in `../shared/data/ner-train`, dev in
//! `../shared/data/ner`): every format becomes sentences with their person-name
//! spans in character offsets. Other entity types are plain text (`O`).

use std::path::Path;

/// One sentence and its person names `[start, end)` in characters.
#[derive(Debug, Clone)]
pub struct Sentence {
    pub text: String,
    pub names: Vec<(usize, usize)>,
}

/// Tags of person names in the corpora: People's Daily and MSRA `PER`, Resume
/// `NAME`, Weibo `PER.NAM` (`PER.NOM` are nominal mentions, not names).
fn person_type(t: &str) -> bool {
    matches!(t, "PER" | "NAME" | "PER.NAM")
}

/// `char TAG` lines (BIO or BMES), blank lines between sentences; the Weibo dev
/// file has `char+segment-digit<TAB>TAG`, the digit is dropped.
pub fn read_char_tags(path: &Path) -> std::io::Result<Vec<Sentence>> {
    let data = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    let mut text = String::new();
    let mut names = Vec::new();
    let mut n = 0usize;
    let mut open: Option<usize> = None;
    let mut flush = |text: &mut String, names: &mut Vec<(usize, usize)>, n: &mut usize, open: &mut Option<usize>| {
        if let Some(s) = open.take() {
            names.push((s, *n));
        }
        if !text.is_empty() {
            out.push(Sentence { text: std::mem::take(text), names: std::mem::take(names) });
        }
        *n = 0;
    };
    for line in data.lines() {
        let line = line.trim_end_matches('\r');
        let mut parts = line.split_whitespace();
        let (Some(tok), Some(tag)) = (parts.next(), parts.next_back()) else {
            flush(&mut text, &mut names, &mut n, &mut open);
            continue;
        };
        let Some(c) = tok.chars().next() else { continue };
        let (prefix, ty) = tag.split_once('-').unwrap_or((tag, ""));
        let per = person_type(ty);
        let begins = per && matches!(prefix, "B" | "S");
        let inside = per && matches!(prefix, "I" | "M" | "E");
        if !inside || open.is_none() {
            if let Some(s) = open.take() {
                names.push((s, n));
            }
        }
        if begins || (inside && open.is_none()) {
            open = Some(n);
        }
        text.push(c);
        n += 1;
        if per && prefix == "S" || per && prefix == "E" {
            if let Some(s) = open.take() {
                names.push((s, n));
            }
        }
    }
    flush(&mut text, &mut names, &mut n, &mut open);
    Ok(out)
}

/// CLUENER JSON lines: `{"text", "label": {type: {surface: [[start, end_inclusive]]}}}`,
/// person names are type `name`.
pub fn read_cluener(path: &Path) -> std::io::Result<Vec<Sentence>> {
    let data = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(std::io::Error::other)?;
        let text = v["text"].as_str().unwrap_or_default().to_owned();
        let mut names = Vec::new();
        if let Some(m) = v["label"]["name"].as_object() {
            for spans in m.values() {
                for s in spans.as_array().into_iter().flatten() {
                    if let (Some(a), Some(b)) = (s[0].as_u64(), s[1].as_u64()) {
                        names.push((a as usize, b as usize + 1));
                    }
                }
            }
        }
        names.sort();
        names.dedup();
        out.push(Sentence { text, names });
    }
    Ok(out)
}

/// BIO labels of a sentence, one per character.
#[allow(dead_code)]
pub fn bio(s: &Sentence) -> Vec<&'static str> {
    let n = s.text.chars().count();
    let mut y = vec!["O"; n];
    for &(a, b) in &s.names {
        for (k, l) in y.iter_mut().enumerate().take(b.min(n)).skip(a) {
            *l = if k == a { "B" } else { "I" };
        }
    }
    y
}
