//! The rule-pack file format: plain serde structs, parsed and then compiled.
//!
//! `rules/README.md` documents every field; keep the two in step.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a finding is about; decides the legal basis family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 国家秘密.
    StateSecret,
    /// 商业秘密.
    TradeSecret,
    /// 个人信息 / 个人隐私.
    PersonalData,
    /// 内部事务信息 and 过程性信息 (《政府信息公开条例》第十六条): internal
    /// markings (`内部资料`) and process drafts (`征求意见稿`), which an agency
    /// may decline to publish.
    InternalAffairs,
}

/// The closed set of finding kinds (the CLI and gRPC contracts name them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Name of a natural person.
    PersonName,
    /// 居民身份证号码.
    ResidentId,
    /// Mobile or fixed-line phone number.
    Phone,
    /// E-mail address.
    Email,
    /// Bank card number.
    BankCard,
    /// Passport number.
    Passport,
    /// Another identifier of a person, known by its label: certificate,
    /// registration, licence, exam-ticket, student or employee number.
    OtherId,
    /// A private person's street address.
    Address,
    /// 密级标志 (classification marking).
    ClassificationMark,
    /// A user-listed classified term (e.g. a project codename).
    SecretTerm,
    /// Document-level 商业秘密 marking.
    TradeSecretMark,
    /// 标底 / 底价 / 控制价 amount.
    TenderSecret,
    /// Formula, process parameter, source code or customer list with values.
    TradeSecretTerm,
    /// Internal-use marking in the header (`内部资料`, `内部文件　注意保存`, `内部使用`).
    InternalMarking,
    /// Process draft named in the header or title (`讨论稿`, `送审稿`, `（征求意见稿）`).
    ProcessDraft,
}

impl Kind {
    /// All kinds, in contract order.
    pub const ALL: [Kind; 15] = [
        Kind::PersonName,
        Kind::ResidentId,
        Kind::Phone,
        Kind::Email,
        Kind::BankCard,
        Kind::Passport,
        Kind::OtherId,
        Kind::Address,
        Kind::ClassificationMark,
        Kind::SecretTerm,
        Kind::TradeSecretMark,
        Kind::TenderSecret,
        Kind::TradeSecretTerm,
        Kind::InternalMarking,
        Kind::ProcessDraft,
    ];

    /// The snake_case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PersonName => "person_name",
            Kind::ResidentId => "resident_id",
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::BankCard => "bank_card",
            Kind::Passport => "passport",
            Kind::OtherId => "other_id",
            Kind::Address => "address",
            Kind::ClassificationMark => "classification_mark",
            Kind::SecretTerm => "secret_term",
            Kind::TradeSecretMark => "trade_secret_mark",
            Kind::TenderSecret => "tender_secret",
            Kind::TradeSecretTerm => "trade_secret_term",
            Kind::InternalMarking => "internal_marking",
            Kind::ProcessDraft => "process_draft",
        }
    }

    /// Whether the matched value itself is sensitive (and so masked in excerpts).
    /// A marking such as `机密★5年` is not: it is the reason, not the secret.
    pub fn value_is_sensitive(self) -> bool {
        !self.is_marking()
    }

    /// Whether the kind is a document-level marking (`机密★5年`, `商业秘密`,
    /// `内部资料`, `（征求意见稿）`): it states what the document is, and is
    /// never redacted away from it nor dropped for an overlapping value.
    pub fn is_marking(self) -> bool {
        matches!(self, Kind::ClassificationMark | Kind::TradeSecretMark | Kind::InternalMarking | Kind::ProcessDraft)
    }
}

impl Category {
    /// All categories, in contract order.
    pub const ALL: [Category; 4] = [Category::StateSecret, Category::TradeSecret, Category::PersonalData, Category::InternalAffairs];

    /// The snake_case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::StateSecret => "state_secret",
            Category::TradeSecret => "trade_secret",
            Category::PersonalData => "personal_data",
            Category::InternalAffairs => "internal_affairs",
        }
    }
}

/// What the policy does with a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Reported, but publishing it is permitted (e.g. an official acting in office).
    Allow,
    /// Removed from the published text (区分处理).
    Redact,
    /// The whole document is not published.
    Withhold,
}

impl Action {
    /// The snake_case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Redact => "redact",
            Action::Withhold => "withhold",
        }
    }
}

/// Builtin detectors: code that a regex cannot express (checksums, names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    /// 18-digit resident ID: GB 11643 check digit, birth date, region.
    ResidentId,
    /// 15-digit first-generation resident ID (needs context).
    ResidentId15,
    /// Mobile number (current prefixes, +86/0086, grouped).
    Mobile,
    /// Fixed-line number with area code and optional extension.
    Landline,
    /// Bank card: 16–19 digits, Luhn, issuer prefix.
    BankCard,
    /// Chinese person names.
    PersonName,
    /// Cells of an identifier column (准考证号, 学号, 证书编号) in a flattened table.
    IdColumn,
    /// A private address: gazetteer divisions down to a road, village, group
    /// or room, after a residence word or in an address column of persons.
    Address,
}

/// Validators a regex match can be checked with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Luhn mod-10.
    Luhn,
    /// GB 11643 resident ID.
    ResidentId,
}

/// How a rule finds candidates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MatcherSpec {
    /// A builtin detector.
    Builtin {
        /// Which one.
        builtin: Builtin,
    },
    /// A regular expression over the normalized text. A group named `v`, when
    /// present, is the reported (and redacted) value; a match in which a group
    /// named `x` took part is discarded (an exception written as an alternative).
    Regex {
        /// The pattern (Rust `regex` syntax).
        regex: String,
        /// Optional validator applied to the value.
        #[serde(default)]
        validator: Option<Validator>,
    },
    /// Literal keywords (one aho-corasick automaton for all keyword rules).
    Keywords {
        /// The words.
        keywords: Vec<String>,
    },
    /// A lexicon file of literal terms, one a line (`#` comments).
    Lexicon {
        /// Path relative to the pack directory.
        lexicon: String,
    },
}

/// Where in the document a match counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Anywhere.
    #[default]
    Anywhere,
    /// Only in the header (版头): each page-header part, and the lines and
    /// cells before the title or the 发文机关标志, at most `header_lines`
    /// non-blank lines (see [`crate::detect::Prepared`]).
    Header,
    /// Only at the start of a line (after blanks), or at the start of a cell or
    /// field of a header line (after a tab, `|` or a space): markings such as
    /// `机密★5年`, also in `000027 | 机密★5年 | 特急`. Cheaper and clearer than
    /// `(?m)^` in the pattern, which hides the pattern's literal prefix from the
    /// regex engine's prefilter.
    LineStart,
    /// Only as a whole cell or field of a header line: the match starts at a
    /// line or field start and ends at a line or field end (a bare `机密` on
    /// its own, never a word inside a sentence).
    HeaderField,
    /// Only in the title: the first line after the header that reads as a
    /// title (`关于…的通知`, a line ending in a document type, a Markdown
    /// heading), and its continuation line.
    Title,
}

/// Restricts a regex to windows around literal anchors: for patterns with no
/// literal prefix (addresses), the regex then runs on a few dozen characters
/// around each anchor instead of the whole text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearSpec {
    /// Literal anchors that every match contains.
    pub words: Vec<String>,
    /// Characters searched before an anchor (and after it).
    #[serde(default = "default_near_window")]
    pub window: usize,
}

fn default_near_window() -> usize {
    48
}

/// Context words that raise (or are required for) a match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    /// Words looked for around the match.
    pub words: Vec<String>,
    /// Characters before and after the match that are searched.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Drop the match when no word is found.
    #[serde(default)]
    pub required: bool,
    /// Confidence added when a word is found.
    #[serde(default = "default_boost")]
    pub boost: f64,
}

fn default_window() -> usize {
    12
}
fn default_boost() -> f64 {
    0.1
}

/// One rule as written in a pack file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id, e.g. `pd.resident_id`.
    pub id: String,
    /// Category.
    pub category: Category,
    /// Kind.
    pub kind: Kind,
    /// Default action (the policy may override it per kind).
    pub action: Action,
    /// Legal basis cited with every finding.
    pub basis: String,
    /// What the rule finds and why.
    pub description: String,
    /// Base confidence of a match, 0–1.
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// How candidates are found.
    pub matcher: MatcherSpec,
    /// Optional context words.
    #[serde(default)]
    pub context: Option<ContextSpec>,
    /// Where a match counts.
    #[serde(default)]
    pub scope: Scope,
    /// Run the regex only around these anchors (see [`NearSpec`]).
    #[serde(default)]
    pub near: Option<NearSpec>,
    /// A sentence appended to every finding's explanation: what the match
    /// means that the matched text does not say (`no period marked: …`).
    #[serde(default)]
    pub explain: Option<String>,
    /// Texts on which the rule must fire.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Texts on which it must not.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_confidence() -> f64 {
    0.9
}

/// One pack file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    /// The rules.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// `policy.toml`: kind → action, thresholds and masks.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Mask character for redaction (one character).
    #[serde(default = "default_mask")]
    pub mask: String,
    /// How many non-blank lines count as the header (版头).
    #[serde(default = "default_header_lines")]
    pub header_lines: usize,
    /// Kind → action; overrides the rules' own action.
    #[serde(default)]
    pub actions: BTreeMap<Kind, Action>,
    /// Action for person names found in an official-in-office context.
    #[serde(default = "default_official")]
    pub official_person_name: Action,
    /// Minimum confidence per kind; `default` for the rest.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Kind → partial mask style (`keep_first`, `keep_last4`); full mask otherwise.
    #[serde(default)]
    pub partial_masks: BTreeMap<Kind, PartialMask>,
    /// What the trained person-name model adds to the rule detector.
    #[serde(default)]
    pub name_model: NameModelUse,
}

/// How the person-name model (`models/person_name.crfsuite`) takes part in screening.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameModelUse {
    /// Not at all: the rule detector alone (the model is still loaded and
    /// checked by `rules check`).
    Off,
    /// Experimental: the model's spans at or above the `person_name` threshold
    /// that no rule hypothesis overlaps are added as names of unknown role.
    Add,
    /// The default: the model weighs every rule hypothesis without context
    /// and proposes its own names around them; rules with context (labels,
    /// titles, tables) keep theirs (see `detect::names::combine`).
    #[default]
    Core,
}

/// A partial mask: which characters of a value stay readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartialMask {
    /// Every character masked.
    Full,
    /// The first character kept (`张**`).
    KeepFirst,
    /// The last four alphanumerics kept.
    KeepLast4,
}

fn default_mask() -> String {
    "■".into()
}
fn default_header_lines() -> usize {
    6
}
fn default_official() -> Action {
    Action::Allow
}
