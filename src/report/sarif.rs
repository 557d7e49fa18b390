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
//! - An unreadable document is one `error` result of `mishen.unreadable` on the file.

use super::jsonl::DocumentRecord;
use crate::rules::RulePack;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag, Region, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;

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

/// The SARIF log of one run over `docs`.
pub fn log(pack: &RulePack, docs: &[DocumentRecord], secs: f64) -> Sarif {
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
    let index: BTreeMap<&str, i64> = rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i as i64)).collect();
    let artifact = |path: &str| ArtifactLocation::builder().uri(path.to_owned()).build();
    let mut results = Vec::new();
    for d in docs {
        if let Some(u) = &d.unreadable {
            let loc = Location::builder().physical_location(PhysicalLocation::builder().artifact_location(artifact(&d.path)).build()).build();
            results.push(
                SarifResult::builder()
                    .rule_id(UNREADABLE_RULE.to_owned())
                    .rule_index(index[UNREADABLE_RULE])
                    .level(ResultLevel::Error)
                    .message(Message::builder().text(u.clone()).build())
                    .locations(vec![loc])
                    .properties(props(&[("verdict", d.verdict.clone().into()), ("content_sha256", d.content_sha256.clone().into())]))
                    .build(),
            );
            continue;
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
            results.push(r);
        }
    }
    let driver = ToolComponent::builder()
        .name("mishen".to_owned())
        .full_name("密审 mishen: pre-publication confidentiality screener".to_owned())
        .version(env!("CARGO_PKG_VERSION").to_owned())
        .semantic_version(env!("CARGO_PKG_VERSION").to_owned())
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
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
