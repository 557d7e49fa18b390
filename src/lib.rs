//! # mishen (密审): pre-publication confidentiality screening for Chinese documents
//!
//! Before the pipeline, [`ingest`] turns document bytes (text in UTF-8/16,
//! GB18030 or Big5; docx, xlsx, pptx, HTML, PDF, JSON, XML; entries of zip and
//! tar archives) into one text with provenance, or an `unreadable` reason that
//! makes the verdict `withhold`. After it, [`report`] writes JSON Lines, SARIF,
//! HTML or a table, and [`baseline`] marks the findings a previous run accepted
//! (for the CI gate only: it never changes a verdict, a redaction or a record).
//!
//! The pipeline, in the order [`Screener::screen`] runs it:
//!
//! 1. [`normalize`]: fold full-width forms, drop zero-width and bidi characters,
//!    keep a map from every folded byte to the original text.
//! 2. [`detect`]: one aho-corasick automaton for keyword and lexicon rules, the
//!    regex rules, the number scanner with its validators (resident ID, phone,
//!    bank card), and the person-name detector, which runs jieba ([`tokenize`])
//!    only on clauses that hold a name candidate.
//! 3. Scope, context words and the policy threshold filter the candidates; spans
//!    map back to the ORIGINAL text; overlaps are resolved.
//! 4. [`verdict::decide`]: withhold, redact or publish, with reasons and legal basis.
//! 5. [`redact`]: length-preserving masks, so every offset stays valid.
//!
//! Rules are data ([`rules`]): TOML packs with their own examples, embedded in the
//! binary and identified by the SHA-256 of their sources.
#![deny(missing_docs)]

pub mod audit;
pub mod baseline;
pub mod budget;
pub mod detect;
pub mod ingest;
pub mod normalize;
pub mod redact;
pub mod report;
pub mod rules;
pub mod screen;
pub mod service;
pub mod span;
pub mod tokenize;
pub mod verdict;

pub use budget::{Budget, Stopped};
pub use detect::Finding;
pub use rules::RulePack;
pub use rules::model::{Action, Category, Kind};
pub use screen::{Screener, ScreenerBuilder, Screening};
pub use span::Span;
pub use verdict::{Decision, Reason, Verdict};
