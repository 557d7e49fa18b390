//! SARIF 2.1.0 (typed with serde-sarif), for code-scanning UIs.
//!
//! - `tool.driver.rules`: one entry per rule of the pack — `id`, `name` (the
//!   kind), `shortDescription` (the rule's description), `fullDescription`
//!   (description and legal basis), `help` (what to do), and `properties`
//!   (`category`, `kind`, `action`, `basis`) — plus `mishen.unreadable` for
//!   documents that could not be screened.
//! - `results`: one per finding; `level` is `error` for withhold, `warning` for
//!   redact, `note` for allow; the message holds the kind, the action and the
//!   masked excerpt, never the value. Each carries a physical location:
//!   `artifactLocation.uri` (the path as reported, `a.zip!/dir/f.docx` inside
//!   archives) and a `region` with `startLine`, `startColumn`, `charOffset`,
//!   `charLength` (`run.columnKind` is `unicodeCodePoints`: columns count
//!   characters, like the JSON Lines output). `partialFingerprints["mishen/v1"]`
//!   is the baseline fingerprint when a key is set.
//! - A finding a baseline or allow-list covers keeps its level and carries
//!   `suppressions: [{"kind": "external", "justification": "mishen baseline"}]`
//!   (or `"mishen allow-list"`; one entry each when both cover it), so code-scanning
//!   UIs list it as suppressed; `properties.document_verdict` is still the
//!   screening's verdict.
//! - An unreadable document is one `error` result of `mishen.unreadable` on the file.
//!
//! [`log`] builds the whole log in memory; [`StreamWriter`] writes the same JSON
//! document by document (what `mishen screen --format sarif` uses, so memory
//! does not grow with the number of findings).

use super::jsonl::DocumentRecord;
use crate::rules::RulePack;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag, Region, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The id of the pseudo-rule for unreadable documents.
pub const UNREADABLE_RULE: &str = "mishen.unreadable";

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

fn props(pairs: &[(&str, serde_json::Value)]) -> PropertyBag {
    let mut m = BTreeMap::new();
    for (k, v) in pairs {
        m.insert((*k).to_owned(), v.clone());
    }
    PropertyBag::builder().additional_properties(m).build()
}

fn level(action: &str) -> ResultLevel {
    match action {
        "withhold" => ResultLevel::Error,
        "redact" => ResultLevel::Warning,
        _ => ResultLevel::Note,
    }
}

/// The rule entries: one per rule of the pack, then [`UNREADABLE_RULE`].
pub fn rules(pack: &RulePack) -> Vec<ReportingDescriptor> {
    let mut rules: Vec<ReportingDescriptor> = pack
        .rules
        .iter()
        .map(|r| {
            ReportingDescriptor::builder()
                .id(r.id.to_string())
                .name(r.kind.as_str().to_owned())
                .short_description(text(r.description.clone()))
                .full_description(text(format!("{} Basis: {}", r.description, r.basis)))
                .help(text(format!(
                    "{} finding ({}): {}. Review the passage; policy action: {}. Legal basis: {}.",
                    r.kind.as_str(),
                    r.category.as_str(),
                    r.description,
                    r.action.as_str(),
                    r.basis
                )))
                .properties(props(&[
                    ("category", r.category.as_str().into()),
                    ("kind", r.kind.as_str().into()),
                    ("action", r.action.as_str().into()),
                    ("basis", r.basis.to_string().into()),
                ]))
                .build()
        })
        .collect();
    rules.push(
        ReportingDescriptor::builder()
            .id(UNREADABLE_RULE.to_owned())
            .name("unreadable".to_owned())
            .short_description(text("The document could not be screened and is withheld"))
            .full_description(text(
                "Unsupported type, encrypted, scanned without a text layer, corrupt, or over a size limit. Basis: 《中华人民共和国政府信息公开条例》第十七条（先审查、后公开）",
            ))
            .help(text("Convert the document to a supported format (or provide its text layer) and screen it again, or review it by hand."))
            .properties(props(&[("action", "withhold".into())]))
            .build(),
    );
    rules
}

/// Rule id → index in [`rules`].
pub fn rule_index(rules: &[ReportingDescriptor]) -> BTreeMap<String, i64> {
    rules.iter().enumerate().map(|(i, r)| (r.id.clone(), i as i64)).collect()
}

fn artifact(path: &str) -> ArtifactLocation {
    ArtifactLocation::builder().uri(path.to_owned()).build()
}

/// The results of one document.
pub fn results(d: &DocumentRecord, index: &BTreeMap<String, i64>) -> Vec<SarifResult> {
    let mut results = Vec::new();
    if let Some(u) = &d.unreadable {
        let loc = Location::builder().physical_location(PhysicalLocation::builder().artifact_location(artifact(&d.path)).build()).build();
        let mut r = SarifResult::builder()
            .rule_id(UNREADABLE_RULE.to_owned())
            .level(ResultLevel::Error)
            .message(Message::builder().text(u.clone()).build())
            .locations(vec![loc])
            .properties(props(&[("verdict", d.verdict.clone().into()), ("content_sha256", d.content_sha256.clone().into())]))
            .build();
        r.rule_index = index.get(UNREADABLE_RULE).copied();
        results.push(r);
        return results;
    }
    for f in &d.findings {
        let region = Region::builder()
            .start_line(f.line as i64)
            .start_column(f.column as i64)
            .char_offset(f.start as i64)
            .char_length((f.end - f.start) as i64)
            .build();
        let loc = Location::builder()
            .physical_location(PhysicalLocation::builder().artifact_location(artifact(&d.path)).region(region).build())
            .build();
        let mut p = vec![
            ("category", serde_json::Value::from(f.category.clone())),
            ("kind", f.kind.clone().into()),
            ("action", f.action.clone().into()),
            ("confidence", f.confidence.into()),
            ("basis", f.basis.clone().into()),
            ("document_verdict", d.verdict.clone().into()),
        ];
        if let Some(s) = &f.source {
            p.push(("source", serde_json::to_value(s).unwrap_or_default()));
        }
        let mut r = SarifResult::builder()
            .rule_id(f.rule.clone())
            .level(level(&f.action))
            .message(Message::builder().text(format!("{} ({}): {}", f.kind, f.action, f.excerpt)).build())
            .locations(vec![loc])
            .properties(props(&p))
            .build();
        r.partial_fingerprints = f.fingerprint.as_ref().map(|fp| BTreeMap::from([("mishen/v1".to_owned(), fp.clone())]));
        r.rule_index = index.get(f.rule.as_str()).copied();
        let by = [(f.baselined, "mishen baseline"), (f.allow_listed, "mishen allow-list")];
        let suppressions: Vec<Suppression> = by
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, why)| Suppression::builder().kind(serde_json::Value::from("external")).justification(*why).build())
            .collect();
        if !suppressions.is_empty() {
            r.suppressions = Some(suppressions);
        }
        results.push(r);
    }
    results
}

fn tool(rules: Vec<ReportingDescriptor>) -> Tool {
    let driver = ToolComponent::builder()
        .name("mishen".to_owned())
        .full_name("密审 mishen: pre-publication confidentiality screener".to_owned())
        .version(env!("CARGO_PKG_VERSION").to_owned())
        .semantic_version(env!("CARGO_PKG_VERSION").to_owned())
        .rules(rules)
        .build();
    Tool::builder().driver(driver).build()
}

/// The SARIF log of one run over `docs`, built in memory.
pub fn log(pack: &RulePack, docs: &[DocumentRecord], secs: f64) -> Sarif {
    let rules = rules(pack);
    let index = rule_index(&rules);
    let results: Vec<SarifResult> = docs.iter().flat_map(|d| results(d, &index)).collect();
    let run = Run::builder()
        .tool(tool(rules))
        .results(results)
        .column_kind(serde_json::Value::from("unicodeCodePoints"))
        .properties(props(&[("rules_sha256", pack.sha256.clone().into()), ("seconds", secs.into())]))
        .build();
    Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL.to_owned())
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build()
}

/// Writes the same log as [`log`] as documents arrive, holding one document's
/// results at a time (a large archive's findings would not fit in memory).
pub struct StreamWriter<W: Write> {
    w: W,
    index: BTreeMap<String, i64>,
    first: bool,
}

impl<W: Write> StreamWriter<W> {
    /// Writes the head of the log: schema, version, the tool and its rules.
    pub fn begin(mut w: W, pack: &RulePack) -> io::Result<StreamWriter<W>> {
        let rules = rules(pack);
        let index = rule_index(&rules);
        write!(w, "{{\"$schema\":{},\"version\":\"2.1.0\",\"runs\":[{{\"tool\":", serde_json::to_string(serde_sarif::sarif::SCHEMA_URL)?)?;
        serde_json::to_writer(&mut w, &tool(rules))?;
        w.write_all(b",\"columnKind\":\"unicodeCodePoints\",\"results\":[")?;
        Ok(StreamWriter { w, index, first: true })
    }

    /// Writes one document's results.
    pub fn document(&mut self, d: &DocumentRecord) -> io::Result<()> {
        for r in results(d, &self.index) {
            if !self.first {
                self.w.write_all(b",")?;
            }
            self.first = false;
            self.w.write_all(b"\n")?;
            serde_json::to_writer(&mut self.w, &r)?;
        }
        Ok(())
    }

    /// The underlying writer (the CLI drains a `Vec<u8>` into its output).
    pub fn buffer(&mut self) -> &mut W {
        &mut self.w
    }

    /// Closes the log; returns the writer.
    pub fn finish(mut self, rules_sha256: &str, secs: f64) -> io::Result<W> {
        let p = props(&[("rules_sha256", rules_sha256.into()), ("seconds", secs.into())]);
        self.w.write_all(b"\n],\"properties\":")?;
        serde_json::to_writer(&mut self.w, &p)?;
        self.w.write_all(b"}]}\n")?;
        Ok(self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Screener;
    use crate::report::jsonl::document_record;

    #[test]
    fn streamed_log_equals_the_built_one() {
        let s = Screener::embedded().unwrap();
        let texts = ["申请人联系电话：13912345678。", "机密★5年\n通知\n", "无敏感信息。"];
        let mut docs: Vec<DocumentRecord> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| document_record(&format!("d{i}.txt"), Some(t), &s.screen(t), s.rules_sha256(), '■'))
            .collect();
        docs.push(document_record("x.pdf", None, &s.unreadable(b"", "scanned"), s.rules_sha256(), '■'));
        let built = serde_json::to_value(log(s.pack(), &docs, 1.5)).unwrap();
        let mut w = StreamWriter::begin(Vec::new(), s.pack()).unwrap();
        for d in &docs {
            w.document(d).unwrap();
        }
        let streamed: serde_json::Value = serde_json::from_slice(&w.finish(s.rules_sha256(), 1.5).unwrap()).unwrap();
        assert_eq!(streamed, built);
        assert_eq!(built["runs"][0]["results"].as_array().unwrap().len(), docs[..3].iter().map(|d| d.findings.len()).sum::<usize>() + 1);
    }
}
