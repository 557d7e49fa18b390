//! Chinese person names: surname lists, given-name plausibility, jieba and context.
//!
//! jieba's `nr` tag alone is not good enough (its dictionary tags 申请人 and 高新区
//! as names, and without context it splits unseen names), so a name is a
//! *hypothesis* scored from several signals:
//!
//! 1. **Anchor**: a single or compound surname from `lexicons/surnames.txt`,
//!    followed by one or two Han characters that are not in the never-a-name set
//!    of `lexicons/name_stop.txt`. Already-anonymized forms (张某, 李某某) never pass.
//! 2. **Cheap prefilter**: jieba runs only on clauses holding an anchor whose
//!    surname + first given character is not a dictionary word, or that touches a
//!    context word. Most prose never reaches the tagger.
//! 3. **Segmentation**: in the tagged clause, the hypothesis must align with token
//!    boundaries: one token tagged `nr` (strong), an out-of-vocabulary token, a
//!    surname token followed by one or two short tokens, or a name written with
//!    inner spaces (`周 安`) as in published lists.
//! 4. **Context** (`lexicons/name_context.txt`): words right before or after the
//!    name: labels (申请人, 联系人), titles (局长, 主任), honorifics (同志, 先生,
//!    女士), the list separator `、`, and appointment phrasing (`任命…为…主任`).
//!    Context also sets the role: an official acting in office or a private person.
//!
//! 5. **Document** ([`NameDetector::propagate`]): a name found with confidence is
//!    a name wherever else it occurs; a name-shaped candidate without context
//!    (江|宏伟) is held below the threshold and taken when the document repeats
//!    it; a weak name the document also uses for an organization (罗威汽车公司)
//!    is dropped. Names inside doctrines (马克思主义) are public figures'.
//!
//! The score is the sum of the segmentation signal, the context and clean clause
//! boundaries; the policy threshold for `person_name` decides.

pub mod combine;
pub mod features;
pub mod model;

use crate::span::{back_chars, fwd_chars};
use crate::budget::{Budget, Stopped};
use crate::tokenize::{Token, Tokenizer};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::HashSet as StdHashSet;

/// Who a name belongs to, as far as context tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An official acting in office (title, appointment, 同志).
    Official,
    /// A private person (applicant, complainant, resident…).
    Private,
    /// Context does not say.
    Unknown,
}

/// A scored name in normalized-text byte offsets.
#[derive(Clone, Debug, PartialEq)]
pub struct NameHit {
    /// Start byte.
    pub start: usize,
    /// End byte.
    pub end: usize,
    /// Score 0–1.
    pub score: f64,
    /// Role from context.
    pub role: Role,
    /// Human explanation of the signals.
    pub why: String,
    /// Shaped like a name but without context (江|宏伟): kept below any
    /// threshold, and a name only when the document repeats it.
    pub held: bool,
    /// A title, label, honorific, list or table cell next to it, or a
    /// transliterated foreign name: evidence the trained model has seen
    /// little of in news text, so it does not overrule it
    /// (see [`combine`]).
    pub context: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Signal {
    Nr,
    DictNr,
    Extend,
    Oov,
    Part,
    SplitDict,
    Translit,
    Split,
    SplitNr,
    Spaced,
    DictWord,
    Titled,
    Compound,
}

impl Signal {
    fn weight(self) -> f64 {
        match self {
            Signal::Nr => 0.45,
            Signal::Oov | Signal::SplitNr => 0.4,
            Signal::DictNr | Signal::Part | Signal::Split | Signal::Spaced | Signal::Extend => 0.3,
            Signal::SplitDict => 0.2,
            Signal::Translit | Signal::Titled | Signal::Compound => 0.3,
            Signal::DictWord => 0.05,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Signal::Nr => "unseen word jieba tags nr",
            Signal::DictNr => "dictionary word tagged nr",
            Signal::Extend => "nr token extended by one character",
            Signal::Oov => "out-of-vocabulary token",
            Signal::Part => "surname + given name inside a merged token",
            Signal::Split => "surname token + given-name token(s)",
            Signal::SplitNr => "surname token + given-name token tagged nr",
            Signal::Spaced => "name written with inner spaces",
            Signal::SplitDict => "surname token + dictionary word",
            Signal::Translit => "transliterated foreign name",
            Signal::DictWord => "dictionary word",
            Signal::Titled => "unseen word or name right after a title",
            Signal::Compound => "two-character surname before a title, or a full name the dictionary knows with one",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CtxRole {
    Official,
    Private,
    /// A strong label that does not tell the role (联系人, 姓名).
    Label,
    Neutral,
}

/// The compiled name detector.
#[derive(Debug)]
pub struct NameDetector {
    single: CharSet,
    compound: HashSet<String>,
    never_given: CharSet,
    common_given: CharSet,
    stop: HashSet<String>,
    before: HashMap<String, CtxRole>,
    after: HashMap<String, CtxRole>,
    titles: Vec<String>,
    titles_ac: Option<aho_corasick::AhoCorasick>,
    /// [`DOCTRINE_SUFFIXES`], in one pass over a document (packed SIMD search).
    doctrine: Option<aho_corasick::packed::Searcher>,
    breaks: CharSet,
    /// Characters of transliterated foreign names (克林顿, 普里马科夫).
    translit: CharSet,
    /// First characters of [`ORG_SUFFIXES`].
    org_first: CharSet,
    /// Before-words by their last character, longest first; after-words by their
    /// first character, longest first: a lookup is one map probe and a few
    /// byte comparisons instead of hashing every suffix or prefix.
    before_by_last: HashMap<char, Vec<(String, CtxRole)>>,
    after_by_first: HashMap<char, Vec<(String, CtxRole)>>,
    /// First characters of compound surnames, last characters of before-words and
    /// first characters of after-words: cheap rejections before any string lookup.
    compound_first: CharSet,
    before_last: CharSet,
    /// Last characters of the titles and labels (official or label before-words).
    title_last: CharSet,
    after_first: CharSet,
    /// [`COMMON_SURNAMES`] but the ambiguous ones, and the first characters of
    /// [`BARE_TITLES`]: a bare surname before a title (王女士, 李老师).
    bare_surname: CharSet,
    bare_title_first: CharSet,
    /// [`BARE_BEFORE`].
    bare_before: CharSet,
    /// Diagnostics: keep every scored hypothesis, overlapping ones too.
    pub keep_all: bool,
}

/// A dictionary word that the dictionary does not tag as a name (`nr*`).
fn ordinary_word(tok: &Tokenizer, w: &str) -> bool {
    tok.has_word(w) && !tok.dict_tag(w).starts_with("nr")
}

/// True when `name` ends with a character of [`PLACE_OR_THING_LAST`].
fn ends_like_place_or_thing(name: &str) -> bool {
    name.chars().next_back().is_some_and(|c| PLACE_OR_THING_LAST.contains(c))
}

/// When the last character of `text[start..end]` makes a dictionary word with
/// the Han character after `end` (费尔南德斯|多次, 雅治先|生), its length: that
/// character belongs to the word, not to the name.
fn last_starts_word(tok: &Tokenizer, text: &str, start: usize, end: usize) -> Option<usize> {
    let last = text[start..end].chars().next_back().filter(|&c| c != '·')?;
    let next = text[end..].chars().next().filter(|&c| is_han(c))?;
    tok.has_word(&text[end - last.len_utf8()..end + next.len_utf8()]).then_some(last.len_utf8())
}

/// A name written with inner spaces (黎 敏, 欧 阳 明) is one list item:
/// if `tail[..end]` is a single Han character, `end` moves over each following
/// single space and single Han character, up to four characters.
fn spaced_run_end(tail: &str, mut end: usize) -> usize {
    let single = |s: &str| {
        let mut cs = s.chars();
        cs.next().is_some_and(is_han) && cs.next().is_none()
    };
    if !single(&tail[..end]) {
        return end;
    }
    let mut n = 1;
    while n < 4 {
        let mut cs = tail[end..].chars();
        let (Some(sp), Some(c)) = (cs.next(), cs.next()) else { break };
        let after = cs.next();
        if !matches!(sp, ' ' | '\u{3000}') || !is_han(c) || after.is_some_and(is_han) {
            break;
        }
        end += sp.len_utf8() + c.len_utf8();
        n += 1;
    }
    end
}

/// [`spaced_run_end`] backwards: `head[from..]` a single Han character moves
/// `from` back over each preceding single space and single Han character.
fn spaced_run_start(head: &str, mut from: usize) -> usize {
    let mut cs = head[from..].chars();
    if !(cs.next().is_some_and(is_han) && cs.next().is_none()) {
        return from;
    }
    let mut n = 1;
    while n < 4 {
        let mut cs = head[..from].chars().rev();
        let (Some(sp), Some(c)) = (cs.next(), cs.next()) else { break };
        let before = cs.next();
        if !matches!(sp, ' ' | '\u{3000}') || !is_han(c) || before.is_some_and(is_han) {
            break;
        }
        from -= sp.len_utf8() + c.len_utf8();
        n += 1;
    }
    from
}

/// A Han character (CJK unified ideographs, extension A, compatibility).
pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// A set of characters as a bitmap over the Basic Multilingual Plane: one load
/// and a mask per lookup, on the hottest loop of the detector.
#[derive(Clone, Default)]
struct CharSet {
    bits: Vec<u64>,
}

impl CharSet {
    fn from_iter(it: impl IntoIterator<Item = char>) -> CharSet {
        let mut bits = vec![0u64; 1024];
        for c in it {
            let u = c as usize;
            if u < 0x10000 {
                bits[u >> 6] |= 1 << (u & 63);
            }
        }
        CharSet { bits }
    }

    #[inline]
    fn contains(&self, c: &char) -> bool {
        let u = *c as usize;
        u < 0x10000 && self.bits.get(u >> 6).is_some_and(|w| w & (1 << (u & 63)) != 0)
    }
}

impl std::fmt::Debug for CharSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CharSet")
    }
}

/// Characters that make up transliterated foreign names (GB/T 17693 usage).
const TRANSLIT: &str = "阿埃艾爱安昂奥巴拜班邦鲍贝本比彼毕宾波伯博布查达戴丹道德登迪蒂丁东杜多厄恩尔法范菲费芬丰弗福富盖甘冈戈格古圭哈海汉豪赫亨胡华霍基吉加贾杰捷金卡凯坎康考柯科克肯库奎拉莱赖兰朗劳勒雷里利莉丽列林琳卢鲁伦罗洛吕马玛迈麦曼梅门蒙米密明莫默姆穆纳娜奈南内尼涅宁纽努诺欧帕潘庞佩彭皮珀普齐奇恰乔切钦琼丘萨塞桑瑟森沙尚舍什施史舒斯松苏索塔泰坦汤唐特提廷图托瓦万旺威韦维温沃乌武西希锡夏谢辛休雅亚扬耶伊因英尤约泽扎詹朱卓兹佐茨逊娃延夫季久莎茜黛琪露丝芭蒂妮薇翁惠哥沃姆缪穆尼奥顿翰蕾娅芙瑞贡赛连契得若";

/// Words that follow an organization's name, never a person's (and 新时代, which
/// follows a name only in the name of a doctrine).
const ORG_SUFFIXES: &[&str] = &[
    "集团", "公司", "总公司", "股份", "控股", "科技", "电器", "电气", "电子", "租赁", "实业", "银行", "证券", "保险", "基金",
    "投资", "置业", "地产", "药业", "制药", "米业", "制衣", "纺织", "化工", "机械", "汽车", "食品", "饮料", "传媒", "网络",
    "信息技术", "软件", "工业", "矿业", "能源", "环保", "物流", "航空", "酒店", "商贸", "贸易", "国际", "大学", "学院", "医院",
    "研究院", "研究所", "协会", "学会", "基金会", "事务所", "律师事务所", "会计师事务所", "有限", "牌", "杯",
    "奖", "号", "新时代", "通讯社", "清真寺", "教堂", "电视台", "俱乐部", "杂志",
];

/// The hundred most common surnames (about 85 % of the population), in order.
const COMMON_SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";

/// Last characters of places, buildings and things that jieba's dictionary tags
/// `nr` (黄鹤楼, 玉虚宫, 杨桥湖, 金字塔, 吉普车, 雷阵雨, 季后赛): a dictionary
/// "name" ending in one is not taken as a known person's name on the strength
/// of its tag.
const PLACE_OR_THING_LAST: &str = "行何球楼庙湖桥宫江县口山村沟潭镇台塘寺渡嘴街线堤池殿监府州城岛港湾峰岭河洲坡坝堡寨庄屯营关门阁亭园院庵观祠塔车期赛杯卜刀剑路站场厂井泉溪滩崖洞峡谷原雨菜鱼牌部司局省市区乡";

/// Endings of foreign place and people names written in transliteration
/// (哈萨克斯坦, 罗马尼亚, 汉堡, 列宁格勒, 哈萨克人): a transliterated dictionary
/// word ending so is not taken as a known person's name.
fn ends_like_place(name: &str) -> bool {
    const ENDINGS: &[&str] = &["斯坦", "尼亚", "维亚", "利亚", "格勒", "堡", "港", "湾", "岛", "州", "城", "人", "族", "语", "河", "湖", "山", "海", "兰", "镇", "宫"];
    ENDINGS.iter().any(|e| name.ends_with(e))
}

/// Honorifics and titles written after a bare surname (王女士, 李老师, 汤局长): the
/// surname alone then stands for the person. Official titles give the official
/// role.
const BARE_TITLES: &[(&str, Role)] = &[
    ("先生", Role::Unknown), ("女士", Role::Unknown), ("小姐", Role::Unknown), ("老师", Role::Unknown),
    ("师傅", Role::Unknown), ("大爷", Role::Unknown), ("大娘", Role::Unknown), ("大妈", Role::Unknown),
    ("阿姨", Role::Unknown), ("大姐", Role::Unknown), ("大嫂", Role::Unknown), ("老汉", Role::Unknown),
    ("医生", Role::Unknown), ("大夫", Role::Unknown), ("律师", Role::Unknown), ("经理", Role::Unknown),
    ("同学", Role::Private),
    ("教授", Role::Official), ("局长", Role::Official), ("副局长", Role::Official), ("处长", Role::Official),
    ("科长", Role::Official), ("主任", Role::Official), ("副主任", Role::Official), ("书记", Role::Official),
    ("市长", Role::Official), ("副市长", Role::Official), ("县长", Role::Official), ("镇长", Role::Official),
    ("乡长", Role::Official), ("村长", Role::Official), ("省长", Role::Official), ("厂长", Role::Official),
    ("校长", Role::Official), ("院长", Role::Official), ("所长", Role::Official), ("部长", Role::Official),
    ("主席", Role::Official), ("总理", Role::Official), ("外长", Role::Official), ("总统", Role::Official),
    ("首相", Role::Official), ("大使", Role::Official), ("董事长", Role::Official), ("总经理", Role::Official),
];

/// Characters after which a bare surname may start (的, 和, 向, 请…): any other
/// Han character before it may make a word with it (历史|老师, 对方|经理).
const BARE_BEFORE: &str = "的是了和与、向对给让被把请找问由跟同为在将及或说称见叫位";

/// Surnames that are far more often verbs, prepositions or adverbs (担任, 于是,
/// 面向, 从国内, 连正常).
const AMBIGUOUS_SURNAMES: &str = "任于向从连";

/// Honorifics after a foreign name: a two-character transliteration before one
/// is a person (拉埃女士). Titles are not enough there: 福特总裁, 海尔总裁.
const HONORIFICS: &[&str] = &["女士", "先生", "小姐", "夫人", "太太", "博士", "教授"];

/// Surnames that are also measure words or units (一张纸, 这项工作, 一支队伍,
/// 一门课, 8时).
const MEASURE_SURNAMES: &str = "张项支门时";
/// Characters before a measure word: numerals and demonstratives.
const NUMERAL_OR_DEMONSTRATIVE: &str = "一二两三四五六七八九十百千几每这那该此某各多数整半";

/// The score of a held-back hypothesis: below any sensible threshold.
const HELD_SCORE: f64 = 0.3;

/// Words after a person's name that make it a doctrine's (马克思主义, 毛泽东思想).
const DOCTRINE_SUFFIXES: &[&str] = &["主义", "思想", "理论"];

/// Last characters of the names of bodies that start with a title (委员会,
/// 代表团, 主席团, 代表处).
const BODY_ENDINGS: &str = "会团处组部";

/// One-character short names of countries (中日韩, 美英, 中俄): a surname after
/// one of them is a country too.
const COUNTRY_SHORT: &str = "中日韩朝美英法德俄意加澳印越泰巴埃以伊叙土希葡荷比瑞挪丹芬波捷匈罗保塞新马菲缅老柬蒙哈乌白古墨智阿南欧非";

/// A name scored this high had context of its own: document-level evidence
/// (an organization's name elsewhere) does not overrule it.
const STRONG_NAME: f64 = 0.8;

/// Chinese numerals: never in a given name after a two-character surname (第五|十一条).
const NUMERALS: &str = "〇零一二两三四五六七八九十百千万亿";

/// Buffers reused across windows.
#[derive(Default)]
struct Scratch {
    cands: Vec<(usize, usize, Signal)>,
    scored: Vec<(NameHit, Signal)>,
}

/// What a full name known to the dictionary adds to a hypothesis' score: with
/// clean edges it passes the threshold without context.
const KNOWN_NAME: f64 = 0.25;

/// A dictionary word this frequent (in jieba's counts) is an ordinary word, not
/// a given name (水平 13,880; 素质 4,263; the given name 海燕 is tagged nr).
const COMMON_WORD_FREQ: usize = 800;

/// Characters of context the tagger sees before an anchor.
const WINDOW_BEFORE: usize = 3;
/// Characters the tagger sees from an anchor on (surname, given name, spare).
const WINDOW_AFTER: usize = 5;
/// Characters of context the name model sees on each side of a hypothesis
/// it weighs: its features look two characters out, and a few more let the
/// chain settle.
pub const MODEL_MARGIN: usize = 6;


/// Clause delimiters: the tagger sees one clause at a time.
fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '。' | '，'
            | ','
            | '；'
            | ';'
            | '：'
            | ':'
            | '！'
            | '!'
            | '？'
            | '?'
            | '\n'
            | '\r'
            | '\t'
            | '（'
            | '）'
            | '('
            | ')'
            | '“'
            | '”'
            | '"'
            | '《'
            | '》'
            | '【'
            | '】'
            | '['
            | ']'
            | '「'
            | '」'
            | '|'
    )
}

impl NameDetector {
    /// Builds the detector from the pack's lexicons.
    pub fn new(
        surnames: &StdHashSet<String>,
        stop: &StdHashSet<String>,
        context: &[(String, String)],
        given: &StdHashSet<char>,
    ) -> NameDetector {
        let mut d = NameDetector {
            single: CharSet::default(),
            compound: HashSet::default(),
            never_given: CharSet::default(),
            common_given: CharSet::from_iter(given.iter().copied()),
            stop: HashSet::default(),
            before: HashMap::default(),
            after: HashMap::default(),
            titles: Vec::new(),
            titles_ac: None,
            doctrine: aho_corasick::packed::Searcher::new(DOCTRINE_SUFFIXES),
            breaks: CharSet::default(),
            translit: CharSet::default(),
            org_first: CharSet::from_iter(ORG_SUFFIXES.iter().filter_map(|w| w.chars().next())),
            before_by_last: HashMap::default(),
            after_by_first: HashMap::default(),
            compound_first: CharSet::default(),
            before_last: CharSet::default(),
            title_last: CharSet::default(),
            after_first: CharSet::default(),
            bare_surname: CharSet::from_iter(COMMON_SURNAMES.chars().filter(|c| !AMBIGUOUS_SURNAMES.contains(*c))),
            bare_title_first: CharSet::from_iter(BARE_TITLES.iter().filter_map(|(w, _)| w.chars().next())),
            bare_before: CharSet::from_iter(BARE_BEFORE.chars()),
            keep_all: false,
        };
        let mut single: Vec<char> = Vec::new();
        let mut never: Vec<char> = Vec::new();
        for s in surnames {
            match s.chars().count() {
                1 => {
                    single.extend(s.chars());
                }
                2 => {
                    d.compound.insert(s.clone());
                }
                _ => {}
            }
        }
        for w in stop {
            let mut cs = w.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => {
                    never.push(c);
                }
                _ => {
                    d.stop.insert(w.clone());
                }
            }
        }
        for (spec, word) in context {
            let (side, role) = spec.split_once('.').unwrap_or((spec.as_str(), "neutral"));
            let role = match role {
                "official" => CtxRole::Official,
                "private" => CtxRole::Private,
                "label" => CtxRole::Label,
                _ => CtxRole::Neutral,
            };
            let n = word.chars().count();
            if side == "before" {
                d.before.insert(word.clone(), role);
            } else {
                d.after.insert(word.clone(), role);
                if role == CtxRole::Official
                    && n >= 2
                    && (word.ends_with('长')
                        || word.ends_with('任')
                        || word.ends_with('记')
                        || word.ends_with('员'))
                {
                    d.titles.push(word.clone());
                }
            }
        }
        d.titles_ac = aho_corasick::AhoCorasick::new(&d.titles).ok();
        for (w, &r) in &d.before {
            if let Some(c) = w.chars().next_back() {
                d.before_by_last.entry(c).or_default().push((w.clone(), r));
            }
        }
        for (w, &r) in &d.after {
            if let Some(c) = w.chars().next() {
                d.after_by_first.entry(c).or_default().push((w.clone(), r));
            }
        }
        for v in d.before_by_last.values_mut().chain(d.after_by_first.values_mut()) {
            v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        }
        d.translit = CharSet::from_iter(TRANSLIT.chars());
        d.breaks = CharSet::from_iter("。，,；;：:！!？?\n\r\t（）()“”\"《》【】[]「」|".chars());
        d.compound_first = CharSet::from_iter(d.compound.iter().filter_map(|c| c.chars().next()));
        d.before_last = CharSet::from_iter(d.before.keys().filter_map(|w| w.chars().next_back()));
        d.title_last = CharSet::from_iter(
            d.before
                .iter()
                .filter(|(w, r)| matches!(r, CtxRole::Official | CtxRole::Label) && w.chars().count() >= 2)
                .filter_map(|(w, _)| w.chars().next_back()),
        );
        d.after_first = CharSet::from_iter(d.after.keys().filter_map(|w| w.chars().next()));
        d.single = CharSet::from_iter(single);
        d.never_given = CharSet::from_iter(never);
        d
    }

    /// True for a dictionary word tagged as a person's name (`nr`, `nrfg`,
    /// `nrt`) with the shape of a full name: a single surname and two given-name
    /// characters, a compound surname and one or two, or three or more
    /// characters of transliteration. Two-character `nr` words are left out:
    /// the dictionary tags many ordinary words so (明白, 阳光, 师生).
    /// `ordinary` tells whether the name splits into ordinary words
    /// ([`NameDetector::ordinary_split`]); asked only when the cheap tests pass.
    fn known_name(&self, tok: &Tokenizer, name: &str, sl: usize, sig: Signal, ordinary: impl FnOnce() -> bool) -> bool {
        if !matches!(sig, Signal::DictNr | Signal::Translit | Signal::Part | Signal::SplitNr | Signal::Split) {
            return false;
        }
        let plain = name.chars().filter(|&c| c != '·').count();
        let shape = if sig == Signal::Translit {
            plain >= 3
        } else {
            let n = name.chars().count();
            let single = sl > 0 && sl == name.chars().next().map_or(0, char::len_utf8);
            (single && n == 3) || (!single && sl > 0 && (3..=4).contains(&n))
                || (n >= 3 && name.chars().all(|c| self.translit.contains(&c)))
        };
        if !shape || !(sig == Signal::DictNr || (tok.has_word(name) && tok.dict_tag(name).starts_with("nr"))) {
            return false;
        }
        if sig == Signal::Translit || sl == 0 {
            // jieba's `nrt` and `nr` also cover places, peoples and brands
            // (南斯拉夫, 菲亚特, 哈萨克): a dotted name (卡洛斯·阿马特) is a person
            // for certain; an undotted one when it does not end like a place
            // (the stop list's foreign places and things are ruled out in
            // [`NameDetector::score`] already).
            return name.contains('·') || (!ends_like_place(name) && !self.foreign_word_edges(tok, name));
        }
        // The dictionary tags places and things `nr` too (雷阵雨, 许可证, 金字塔,
        // 黄鹤楼): a known Chinese name with a rarer given-name character
        // (郭沫若, 路甬祥) must not end like a place, a building or a thing.
        if !name[sl..].chars().all(|c| self.common_given.contains(&c)) {
            // Nor may it be a transliteration (索马里: that is the path above),
            // nor hold an ordinary word (白皮|书, 常备|军, 方|有何).
            let g1 = name[sl..].chars().next().map_or(0, char::len_utf8);
            if name.is_empty()
                || ends_like_place_or_thing(name)
                || name.chars().all(|c| self.translit.contains(&c))
                || ordinary_word(tok, &name[..sl + g1])
                || ordinary_word(tok, &name[sl..])
            {
                return false;
            }
        }
        // The dictionary also tags some ordinary words `nr` (高水平, 高端化, 安全观):
        // a known name is not an ordinary word after its surname (高|水平) nor
        // an ordinary word plus a character (高端|化, 安全|观).
        !ordinary()
    }

    /// True when a transliterated word starts or ends with a common ordinary word
    /// (森林|法): a thing, not a person. (Places inside are the stop list's
    /// business: jieba tags many name parts `ns`, 德斯, 莫利.)
    fn foreign_word_edges(&self, tok: &Tokenizer, name: &str) -> bool {
        let plain = |w: &str| ordinary_word(tok, w) && tok.freq(w) >= COMMON_WORD_FREQ / 4;
        let idx: Vec<usize> = name.char_indices().map(|(i, _)| i).collect();
        idx.len() >= 3 && (plain(&name[..idx[2]]) || plain(&name[idx[idx.len() - 2]..]))
    }

    /// True when a surname-led word splits into ordinary words: an ordinary word
    /// after the surname (高|水平) or before the last character (高端|化, 安全|观).
    fn ordinary_split(&self, tok: &Tokenizer, name: &str, sl: usize) -> bool {
        let common_word = |w: &str, min: usize| tok.has_word(w) && (!tok.dict_tag(w).starts_with("nr") || w.chars().count() == 2) && tok.freq(w) >= min;
        // The given part as a common noun, verb or adjective (水平/n, 素质/n); a
        // given name that is also a place or a proper noun (建国/ns, 文华/nz) is
        // left alone.
        let plain = |w: &str| matches!(tok.dict_tag(w), "n" | "v" | "vn" | "a" | "an" | "ad" | "d" | "b" | "l" | "i");
        let g1 = name[sl..].chars().next().map_or(0, char::len_utf8);
        sl > 0 && ((common_word(&name[sl..], COMMON_WORD_FREQ) && plain(&name[sl..])) || common_word(&name[..sl + g1], COMMON_WORD_FREQ / 4))
    }

    /// True when token `t` (at byte `at` of `text`) follows a title or label and
    /// looks like a name on its own: two to five Han characters that jieba knows
    /// as a person's name, or unseen ones that are all transliteration
    /// characters.
    fn titled(&self, tok: &Tokenizer, text: &str, at: usize, t: &Token) -> bool {
        let n = t.word.chars().count();
        if !(2..=5).contains(&n) || !text[..at].chars().next_back().is_some_and(|c| self.title_last.contains(&c)) || !t.word.chars().all(is_han) {
            return false;
        }
        if self.stop.contains(t.word) || self.before.contains_key(t.word) || self.after.contains_key(t.word) {
            return false;
        }
        // An unseen word after a noun like 群众 is as often a verb phrase (群众|开着),
        // so only a title or a label counts, and the word must look like a name.
        // A two-character dictionary word is an ordinary word (制作者|许可/nr).
        // A transliteration the dictionary tags as a place or proper noun is a
        // person all the same right after a title (舰队司令巴克, 教练扎加洛).
        let translit = || t.word.chars().all(|c| self.translit.contains(&c));
        let known = if tok.has_word(t.word) {
            (n > 2 && tok.dict_tag(t.word).starts_with("nr"))
                || (matches!(tok.dict_tag(t.word), "ns" | "nz") && translit() && !ends_like_place(t.word))
        } else {
            translit()
        };
        known && matches!(self.ctx_before(text, at), Some((w, CtxRole::Official | CtxRole::Label)) if w.chars().count() >= 2)
    }

    /// Words the tokenizer should keep whole (context and stop words).
    pub fn dictionary_words(&self) -> impl Iterator<Item = &str> {
        self.before
            .keys()
            .chain(self.after.keys())
            .chain(self.stop.iter())
            .map(String::as_str)
    }

    /// The [`ORG_SUFFIXES`] word `after` starts with (公司, 集团…), if any.
    fn org_suffix(&self, after: &str) -> Option<&'static str> {
        if !after.chars().next().is_some_and(|c| self.org_first.contains(&c)) {
            return None;
        }
        ORG_SUFFIXES.iter().copied().find(|w| after.starts_with(w))
    }

    /// A given name after a two-character surname (桥本/龙太郎): Han characters
    /// that may be in a name and no numeral, and no word unless a name.
    fn compound_given_ok(&self, tok: &Tokenizer, g: &str) -> bool {
        g.chars().all(|c| is_han(c) && !self.never_given.contains(&c) && !NUMERALS.contains(c)) && !ordinary_word(tok, g)
    }

    fn surname_len(&self, s: &str) -> Option<usize> {
        let mut it = s.char_indices();
        let (_, c0) = it.next()?;
        if let Some((i1, c1)) = it.next() {
            let two = &s[..i1 + c1.len_utf8()];
            if self.compound.contains(two) {
                return Some(two.len());
            }
        }
        self.single.contains(&c0).then_some(c0.len_utf8())
    }

    fn given_ok(&self, g: &str) -> bool {
        let n = g.chars().count();
        (1..=2).contains(&n)
            && g.chars()
                .all(|c| is_han(c) && !self.never_given.contains(&c))
    }

    /// The role the words around `text[s..e]` give a name (a label, title or
    /// honorific right before or after it), for a name only the model found.
    pub fn context_role(&self, text: &str, s: usize, e: usize) -> Role {
        let roles = [self.ctx_before(text, s), self.ctx_after(text, e)];
        if roles.iter().flatten().any(|(_, r)| *r == CtxRole::Private) {
            Role::Private
        } else if roles.iter().flatten().any(|(_, r)| *r == CtxRole::Official) {
            Role::Official
        } else {
            Role::Unknown
        }
    }

    fn ctx_before<'t>(&self, text: &'t str, at: usize) -> Option<(&'t str, CtxRole)> {
        // A label may be followed by a colon or spaces: 联系人：欧阳娜娜.
        // A signature block puts the title on the line above: 国务院总理\n李某.
        let head = text[..at].trim_end_matches([':', ' ', '\t', '\n']);
        let head = head
            .strip_suffix('为')
            .or_else(|| head.strip_suffix('是'))
            .unwrap_or(head)
            .trim_end_matches([':', ' ']);
        let last = head.chars().next_back()?;
        if !self.before_last.contains(&last) {
            return None;
        }
        // Longest first.
        self.before_by_last
            .get(&last)?
            .iter()
            .find(|(w, _)| head.ends_with(w.as_str()))
            .map(|(w, r)| (&head[head.len() - w.len()..], *r))
    }

    fn ctx_after<'t>(&self, text: &'t str, at: usize) -> Option<(&'t str, CtxRole)> {
        let tail = &text[at..];
        // Most positions are followed by no context at all: one bit test.
        let c0 = tail.chars().next()?;
        if !self.after_first.contains(&c0) && !matches!(c0, '(' | ',' | ' ' | '男' | '女' | '为' | '任') {
            return None;
        }
        // An ID or label in parentheses right after the name: 普阳璇（身份证号…）.
        // (Before the word list, which has the bare parenthesis as a weak hint.)
        if let Some(inner) = tail.strip_prefix('(') {
            if let Some(hit @ (_, CtxRole::Private)) = self.longest_prefix(inner) {
                return Some(hit);
            }
            // A description in parentheses that ends with a private role:
            // 周某（平潭一中高二九班学生）.
            let close = inner.char_indices().take(24).find(|&(_, c)| c == ')').map(|(i, _)| i);
            if let Some(desc) = close.map(|i| &inner[..i])
                && let Some(last) = desc.chars().next_back()
                && let Some(words) = self.before_by_last.get(&last)
                && words.iter().any(|(w, r)| *r == CtxRole::Private && desc.ends_with(w.as_str()))
            {
                return Some(("(…)", CtxRole::Private));
            }
        }
        if let Some(hit) = self.longest_prefix(tail) {
            return Some(hit);
        }
        // A person's particulars: 李涛轩，男，汉族 / 孙芳碧女1979.12.
        let rest = tail.strip_prefix(',').unwrap_or(tail).trim_start_matches(' ');
        let mut cs = rest.chars();
        if let (Some('男' | '女'), next) = (cs.next(), cs.next())
            && next.is_none_or(|c| !is_han(c) || matches!(c, '性')) {
                return Some(("(gender)", CtxRole::Private));
            }
        // Appointment phrasing: 为/任 followed by a title within a short window.
        if tail.starts_with('为') || tail.starts_with('任') {
            let end = tail.char_indices().take(16).find(|&(_, c)| matches!(c, '。' | ';' | '\n')).map_or_else(|| fwd_chars(tail, 0, 16), |(i, _)| i);
            if self.titles_ac.as_ref().is_some_and(|ac| ac.is_match(&tail[..end])) {
                return Some(("为…(title)", CtxRole::Official));
            }
        }
        None
    }

    /// A name inside a longer token (邓小平理论, 马鹏祥于) is a hypothesis when it is
    /// not an ordinary word, or when jieba alone tags it a name.
    fn part_ok(&self, tok: &Tokenizer, cand: &str) -> bool {
        if !tok.has_word(cand) {
            return true;
        }
        let mut it = tok.tag(cand);
        matches!((it.next(), it.next()), (Some(t), None) if t.tag.starts_with("nr"))
    }

    /// Document-level propagation: a name found with confidence (`min_score`) is
    /// a name wherever else it occurs in the document, even where the other
    /// occurrence has no context of its own (亨特，亨特魁梧; 7、李涛轩 / 李涛轩，男).
    pub fn propagate(&self, tok: &Tokenizer, text: &str, hits: &mut Vec<NameHit>, min_score: f64) {
        if self.propagate_within(tok, text, hits, min_score, &Budget::unlimited()).is_err() {
            unreachable!("an unlimited budget never stops");
        }
    }

    /// [`NameDetector::propagate`] within `budget`: on `Err(Stopped)`, `hits`
    /// is left in no particular state.
    pub fn propagate_within(&self, tok: &Tokenizer, text: &str, hits: &mut Vec<NameHit>, min_score: f64, budget: &Budget) -> Result<(), Stopped> {
        // A held-back name (江|宏伟) that the document uses more than once, each
        // time shaped like a name, is the person the text is about.
        let held: Vec<usize> = (0..hits.len()).filter(|&i| hits[i].held).collect();
        if held.len() >= 2 {
            let mut counts: HashMap<&str, usize> = HashMap::default();
            for &i in &held {
                *counts.entry(&text[hits[i].start..hits[i].end]).or_default() += 1;
            }
            for &i in &held {
                let times = counts[&text[hits[i].start..hits[i].end]];
                if times >= 2 {
                    let h = &mut hits[i];
                    h.score = min_score;
                    h.held = false;
                    h.why = format!("{}; the same name {times} times in the document", h.why);
                }
            }
        }
        // The distinct names in order of first finding (a set beside the list:
        // a roster has as many names as findings).
        let mut names: Vec<(&str, f64)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::default();
        for h in hits.iter().filter(|h| h.score >= min_score) {
            let name = &text[h.start..h.end];
            // An ordinary dictionary word is not spread, whatever the one
            // occurrence with context said (许可, 贺信, 仲裁案): nor is a
            // two-character dictionary word, even one tagged nr (荣誉).
            let n = name.chars().count();
            // A two-character surname found before a title (桥本首相) is spread.
            let word = tok.has_word(name) && (n == 2 || !tok.dict_tag(name).starts_with("nr")) && !self.compound.contains(name);
            if n >= 2 && !word && !name.contains(char::is_whitespace) && seen.insert(name) {
                names.push((name, h.score));
            }
        }
        if names.is_empty() {
            return Ok(());
        }
        budget.check()?;
        // Leftmost-longest occurrences of the names. A handful of short
        // patterns per document: a packed (SIMD) searcher builds in a fraction
        // of the time of an automaton (which was an eighth of a screening).
        let matches: Vec<aho_corasick::Match> = match aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(names.iter().map(|(n, _)| n))
            .build()
        {
            Some(p) => p.find_iter(text).collect(),
            None => match aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(names.iter().map(|(n, _)| n))
            {
                Ok(ac) => ac.find_iter(text).collect(),
                Err(_) => return Ok(()),
            },
        };
        budget.check()?;
        // A name the document also uses as an organization's (罗威|汽车公司, then
        // 罗威是…) is that organization's: a weak finding of it is dropped, and
        // it is not spread.
        let mut org = vec![false; names.len()];
        for m in &matches {
            let after = &text[m.end()..];
            // (Not the suffixes that also follow a person's name: 习近平新时代…,
            // a cup, a prize or a ship named after someone.)
            if self.org_suffix(after).is_some_and(|w| !matches!(w, "新时代" | "牌" | "杯" | "奖" | "号")) {
                org[m.pattern().as_usize()] = true;
            }
        }
        if org.iter().any(|&o| o) {
            let org_names: HashSet<&str> = names.iter().zip(&org).filter(|(_, o)| **o).map(|((n, _), _)| *n).collect();
            hits.retain(|h| h.score >= STRONG_NAME || !org_names.contains(&text[h.start..h.end]));
        }
        let mut taken: Vec<(usize, usize)> = hits.iter().filter(|h| h.score >= min_score).map(|h| (h.start, h.end)).collect();
        taken.sort_unstable();
        let overlaps = |taken: &[(usize, usize)], s: usize, e: usize| {
            let k = taken.partition_point(|&(ts, _)| ts < e);
            taken[..k].iter().rev().take_while(|&&(ts, _)| ts + 64 > s).any(|&(_, te)| te > s)
        };
        let mut added = Vec::new();
        let mut meter = budget.meter();
        for m in matches {
            let (s, e) = (m.start(), m.end());
            meter.at(s)?;
            if org[m.pattern().as_usize()] || overlaps(&taken, s, e) {
                continue;
            }
            let (name, score) = names[m.pattern().as_usize()];
            // A two-character name may be the start of a longer one (王平|洋).
            if name.chars().count() == 2 && text[e..].chars().next().is_some_and(|c| is_han(c) && self.common_given.contains(&c) && !self.never_given.contains(&c)) {
                continue;
            }
            // Its role comes from the document (below), not from the one source.
            added.push(NameHit { start: s, end: e, score: (score * 0.95).max(min_score), role: Role::Unknown, why: format!("same name as a finding elsewhere in the document (score {score:.2})"), held: false, context: false });
        }
        // A propagated name replaces the weaker hypotheses it overlaps.
        if !added.is_empty() {
            let mut spans: Vec<(usize, usize)> = added.iter().map(|h| (h.start, h.end)).collect();
            spans.sort_unstable();
            hits.retain(|h| h.score >= min_score || !overlaps(&spans, h.start, h.end));
        }
        hits.extend(added);
        budget.check()?;
        hits.sort_by_key(|h| h.start);
        // One name, one role across the document: a private person anywhere makes
        // every occurrence private (the safe side: 拟招聘沈某等同志 and 沈某，女 in
        // the list are one person), otherwise an official's title anywhere makes
        // the occurrences without context official (焦裕禄同志… 像焦裕禄那样).
        let mut roles: HashMap<&str, Role> = HashMap::default();
        for h in hits.iter().filter(|h| h.score >= min_score && h.role != Role::Unknown) {
            let name = &text[h.start..h.end];
            match roles.get_mut(name) {
                Some(r) if h.role == Role::Private => *r = Role::Private,
                Some(_) => {}
                None => {
                    roles.insert(name, h.role);
                }
            }
        }
        for h in hits.iter_mut().filter(|h| h.score >= min_score) {
            let name = &text[h.start..h.end];
            if let Some(&r) = roles.get(name)
                && r != h.role && (r == Role::Private || h.role == Role::Unknown) {
                    h.role = r;
                    h.why.push_str(if r == Role::Private { "; private person elsewhere in the document" } else { "; official elsewhere in the document" });
                }
        }
        Ok(())
    }

    /// True when the text right after a one-character given name could continue
    /// the name: a given-name character that does not start a word (郑琳|荷。, but
    /// not 王瑜|符合).
    fn open_edge(&self, tok: &Tokenizer, tail: &str) -> bool {
        let mut it = tail.char_indices();
        let Some((_, c)) = it.next() else {
            return false;
        };
        if !is_han(c) || self.never_given.contains(&c) {
            return false;
        }
        let two = it.next().map_or(tail.len(), |(i, c2)| i + c2.len_utf8());
        !(two > c.len_utf8() && tok.has_word(&tail[..two]))
    }

    /// True when the list item across the `、` next to `[s, e)` looks like a name:
    /// two to four Han characters starting with a surname, not a dictionary word.
    fn list_neighbour(
        &self,
        tok: &Tokenizer,
        text: &str,
        s: usize,
        e: usize,
        before: bool,
    ) -> Option<CtxRole> {
        let delim =
            |c: char| is_clause_break(c) || c == '、' || c.is_whitespace() || c.is_ascii_digit();
        let sep = |c: char| c == '、' || c.is_whitespace() || c.is_ascii_digit() || c == '.';
        // Skip the separator: a 、, or whitespace and numeric cells (table rows:
        // 任碧璐 100000 任 慧).
        let (item, at) = if before {
            let head = text[..s].trim_end_matches(sep);
            if head.len() == s {
                return None;
            }
            let from = head
                .char_indices()
                .rev()
                .find(|&(_, c)| delim(c))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let from = spaced_run_start(head, from);
            (&head[from..], from)
        } else {
            let tail = text[e..].trim_start_matches(sep);
            let at = text.len() - tail.len();
            if at == e {
                return None;
            }
            let end = spaced_run_end(tail, tail.find(delim).unwrap_or(tail.len()));
            (&tail[..end], at)
        };
        let comma_list = if before {
            text[..s].ends_with('、')
        } else {
            text[e..].starts_with('、')
        };
        // The neighbour is the name-sized end (or start) of the item: the first item
        // of a list follows arbitrary text (同意将苏婉清、程立新).
        let chars: Vec<(usize, char)> = item
            .char_indices()
            .filter(|(_, c)| !c.is_whitespace())
            .collect();
        let name_like = [3usize, 2, 4].iter().any(|&k| {
            if chars.len() < k || (!before && chars.len() != k && chars.len() > 4) {
                return false;
            }
            let (a, b) = if before {
                (chars.len() - k, chars.len())
            } else {
                (0, k)
            };
            let cand: String = chars[a..b].iter().map(|&(_, c)| c).collect();
            // 边斗争、边备战、边建设 is parallel structure, not a list of one family.
            let same_head = comma_list && cand.chars().next() == text[s..].chars().next();
            !same_head
                && cand.chars().all(is_han)
                && self.surname_len(&cand).is_some()
                && (!tok.has_word(&cand) || tok.dict_tag(&cand).starts_with("nr"))
        });
        if !name_like {
            return None;
        }
        let at = if before {
            at + chars
                .get(chars.len().saturating_sub(3))
                .map_or(0, |&(i, _)| i)
        } else {
            at
        };
        // A list shares its head's role: 副区长严晓华、戴建平.
        let inherited = if before {
            self.ctx_before(text, at).map(|(_, r)| r)
        } else {
            None
        };
        Some(match inherited {
            Some(r @ (CtxRole::Official | CtxRole::Private)) => r,
            _ => CtxRole::Label,
        })
    }

    /// The longest after-context word that `tail` starts with.
    fn longest_prefix<'t>(&self, tail: &'t str) -> Option<(&'t str, CtxRole)> {
        let first = tail.chars().next()?;
        if !self.after_first.contains(&first) {
            return None;
        }
        self.after_by_first
            .get(&first)?
            .iter()
            .find(|(w, _)| tail.starts_with(w.as_str()))
            .map(|(w, r)| (&tail[..w.len()], *r))
    }

    /// Cheap test, before any tagging: is `c` at byte `i`, followed by `g1` at
    /// `j`, an anchor worth running the tagger for?
    #[inline]
    fn anchor_at(&self, tok: &Tokenizer, text: &str, i: usize, c: char, j: usize, g1: char) -> bool {
        let compound_head = self.compound_first.contains(&c);
        let single = self.single.contains(&c);
        if !compound_head && !single {
            return false;
        }
        let two = &text[i..j + g1.len_utf8()];
        if g1 == ' ' || (compound_head && self.compound.contains(two)) {
            return true;
        }
        // The first character of a two-character surname that is no surname on
        // its own (小|野, 山|本, 伊|藤) anchors nothing else.
        if !single {
            return false;
        }
        if !is_han(g1) || self.never_given.contains(&g1) {
            return false;
        }
        if (self.common_given.contains(&g1) && !tok.has_word(two)) || self.ctx_before(text, i).is_some() {
            return true;
        }
        // A dictionary bigram (贺龙) still counts when context follows it or the
        // character after it (贺龙同志, 吴方军说).
        let end2 = j + g1.len_utf8();
        if self.ctx_after(text, end2).is_some() {
            return true;
        }
        let cell = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_digit());
        text[end2..].chars().next().is_some_and(|g2| {
            let end3 = end2 + g2.len_utf8();
            is_han(g2)
                && (self.ctx_after(text, end3).is_some()
                    // A table cell holding surname + two characters (黄家伟).
                    || (cell(text[..i].chars().next_back()) && cell(text[end3..].chars().next()))
                    // An unseen full name whose first given character is rarer
                    // (齐传贤, 曲格平): the second is a common one and neither pair
                    // is a word. The tagger decides.
                    || (!compound_head
                        && self.common_given.contains(&g2)
                        && !self.never_given.contains(&g1)
                        && !tok.has_word(two)
                        && !tok.has_word(&text[j..end3]))
                    // A full name the dictionary knows (路甬祥/nr, 郭沫若/nr): its
                    // given name may use rarer characters.
                    // (Common ones were anchored above unless surname and first
                    // character make a word.)
                    || (!compound_head
                        && !self.common_given.contains(&g1)
                        && !self.never_given.contains(&g2)
                        && tok.has_word(&text[i..end3])
                        && tok.dict_tag(&text[i..end3]).starts_with("nr")))
        })
    }

    /// A bare surname at byte `at` followed by an honorific or a title (王女士,
    /// 李老师, 汤局长): the surname is the name. Not when the character before
    /// makes a word with it (历史|老师, 对方|经理), unless it ends a context word
    /// (市民|王女士), nor when the title starts a longer word (主席|台).
    fn bare_surname_hit(&self, tok: &Tokenizer, text: &str, at: usize) -> Option<NameHit> {
        let c = text[at..].chars().next()?;
        let e = at + c.len_utf8();
        // The cheapest test first: the pair surname + a title's first character
        // is frequent (高大, 金融部, 方便), a whole title after it is not.
        let tail = &text[e..];
        let &(title, role) = BARE_TITLES.iter().filter(|(w, _)| tail.starts_with(w)).max_by_key(|(w, _)| w.len())?;
        // Most surname characters before a title follow another Han character
        // that is no context. Before an official's title any character may come
        // first when it makes no word with the surname (贯彻毛主席, 托项市长):
        // the titles that end words (历史|老师, 对方|经理) are the honorifics.
        if let Some(p) = text[..at].chars().next_back().filter(|&p| is_han(p))
            && ((!self.bare_before.contains(&p)
                && !self.ctx_before(text, at).is_some_and(|(_, r)| r != CtxRole::Neutral)
                // (中日|韩外长会: after a country's short name the "surname" is
                // one too.)
                && (role != Role::Official || COUNTRY_SHORT.contains(p)))
                || tok.has_word(&text[at - p.len_utf8()..e]))
        {
            return None;
        }
        let te = e + title.len();
        if let Some(n) = text[te..].chars().next().filter(|&n| is_han(n))
            && tok.has_word(&text[e..te + n.len_utf8()])
        {
            return None;
        }
        Some(NameHit { start: at, end: e, score: 0.8, role, why: format!("surname before an honorific or title ({title})"), held: false, context: true })
    }

    /// 马克思主义, 列宁主义, 毛泽东思想: a doctrine named after a person the
    /// dictionary knows. The name is a person's, a public figure's: reported, not
    /// redacted. (jieba keeps 马克思主义 as one word, so no anchor reaches it.)
    fn doctrine_hits(&self, tok: &Tokenizer, text: &str, hits: &mut Vec<NameHit>) {
        // Without SIMD (no packed searcher on this CPU) the standard library's
        // substring search does the same.
        let matches: Vec<(usize, usize)> = match &self.doctrine {
            Some(p) => p.find_iter(text).map(|m| (m.start(), m.pattern().as_usize())).collect(),
            None => DOCTRINE_SUFFIXES
                .iter()
                .enumerate()
                .flat_map(|(k, w)| text.match_indices(w).map(move |(i, _)| (i, k)))
                .collect(),
        };
        for (i, k) in matches {
            let suffix = DOCTRINE_SUFFIXES[k];
            {
                let found = (2..=4).rev().find_map(|k| {
                    let s = back_chars(text, i, k);
                    let x = &text[s..i];
                    (x.chars().count() == k
                        && x.chars().all(is_han)
                        && !self.stop.contains(x)
                        && tok.has_word(x)
                        && tok.dict_tag(x).starts_with("nr"))
                    .then_some(s)
                });
                if let Some(s) = found {
                    hits.push(NameHit {
                        start: s,
                        end: i,
                        score: 0.99,
                        role: Role::Official,
                        why: format!("a person's name in the dictionary, before {suffix} (a doctrine named after a public figure)"),
                        held: false,
                        context: true,
                    });
                }
            }
        }
    }

    /// Finds names in normalized `text`.
    pub fn detect(&self, tok: &Tokenizer, text: &str) -> Vec<NameHit> {
        match self.detect_within(tok, text, &Budget::unlimited()) {
            Ok(h) => h,
            Err(Stopped) => unreachable!("an unlimited budget never stops"),
        }
    }

    /// [`NameDetector::detect`] within `budget` (checked every few thousand
    /// bytes, at clause ends).
    pub fn detect_within(&self, tok: &Tokenizer, text: &str, budget: &Budget) -> Result<Vec<NameHit>, Stopped> {
        let mut meter = budget.meter();
        let mut windows = 0usize;
        let mut hits = Vec::new();
        let mut tokens: Vec<Token> = Vec::new();
        let mut anchors: Vec<usize> = Vec::new();
        let mut scratch = Scratch::default();
        let mut start = 0;
        let mut prev: Option<(usize, char)> = None;
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut bare: Vec<usize> = Vec::new();
        let mut run: Option<(usize, usize)> = None;
        // One pass: anchors and transliteration runs are found while clauses are
        // delimited.
        for (i, c) in text.char_indices().chain(std::iter::once((text.len(), '\n'))) {
            if self.translit.contains(&c) || (c == '·' && run.is_some()) {
                let (rs, n) = run.unwrap_or((i, 0));
                run = Some((rs, n + usize::from(c != '·')));
            } else if let Some((rs, n)) = run.take() {
                let mut re = text[..i].trim_end_matches('·').len();
                let mut n = n;
                // 费尔南德斯|多次, 萨莫拉诺|门前: the run's last character starts a
                // word with the character after the run; it belongs to that word.
                if n >= 4
                    && let Some(last) = last_starts_word(tok, text, rs, re)
                {
                    re -= last;
                    n -= 1;
                }
                // Two characters (科尔, 库克) only right after a title or label.
                // Not when the second character starts a word with the next one
                // (干部科|科长).
                let titled = || {
                    let second = text[rs..re].char_indices().nth(1).map_or(re, |(i, _)| rs + i);
                    let word_after = text[re..].chars().next().is_some_and(|c| tok.has_word(&text[second..re + c.len_utf8()]));
                    !word_after && self.ctx_before(text, rs).is_some_and(|(_, r)| r != CtxRole::Neutral)
                        // …or right before an honorific (拉埃女士, 琼斯先生) or a
                        // person's verb (里德说, 穆萨表示); titles are not
                        // enough there (福特总裁).
                        || HONORIFICS.iter().any(|h| text[re..].starts_with(h))
                        || self.ctx_after(text, re).is_some_and(|(_, r)| r == CtxRole::Label)
                };
                if (n >= 3 || (n == 2 && titled())) && !text[rs..re].ends_with('·') {
                    runs.push((rs, re));
                }
            }
            if !self.breaks.contains(&c) {
                if let Some((pi, pc)) = prev {
                    if self.bare_title_first.contains(&c) && self.bare_surname.contains(&pc) {
                        bare.push(pi);
                    }
                    if self.anchor_at(tok, text, pi, pc, i, c) {
                        anchors.push(pi);
                        meter.at(i)?;
                    } else if self.title_last.contains(&pc)
                        && self.translit.contains(&c)
                        && self.ctx_before(text, i).is_some_and(|(w, r)| matches!(r, CtxRole::Official | CtxRole::Label) && w.chars().count() >= 2)
                    {
                        // Right after a title, a foreign name may follow (names
                        // with a surname are anchored above).
                        anchors.push(i);
                    }
                }
                prev = Some((i, c));
                continue;
            }
            prev = None;
            meter.at(i)?;
            // Tag a window around each anchor (merged when they touch), not the
            // whole clause: the tagger is the expensive step.
            let clause = &text[start..i];
            let mut k = 0;
            while k < anchors.len() {
                // A clause without breaks may hold any number of windows.
                windows += 1;
                if windows % 256 == 0 {
                    budget.check()?;
                }
                let ws = back_chars(clause, anchors[k] - start, WINDOW_BEFORE);
                let mut we = fwd_chars(clause, anchors[k] - start, WINDOW_AFTER);
                k += 1;
                while k < anchors.len() && anchors[k] - start <= we {
                    we = fwd_chars(clause, anchors[k] - start, WINDOW_AFTER);
                    k += 1;
                }
                tok.segment_into(&clause[ws..we], &mut tokens);
                self.hypotheses(tok, text, start + ws, &tokens, &mut hits, &mut scratch);
            }
            anchors.clear();
            start = i + c.len_utf8();
        }
        budget.check()?;
        hits.extend(bare.into_iter().filter_map(|at| self.bare_surname_hit(tok, text, at)));
        budget.check()?;
        self.doctrine_hits(tok, text, &mut hits);
        budget.check()?;
        let mut meter = budget.meter_every(1024);
        for (n, (rs, re)) in runs.into_iter().enumerate() {
            meter.at(n)?;
            if let Some(h) = self.score(tok, text, rs, re, Signal::Translit, true) {
                hits.push(h);
            }
        }
        if !self.keep_all {
            // Windows and transliteration runs can propose overlapping names: in
            // each cluster of overlapping hits, the best ones win.
            hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
            let mut kept: Vec<NameHit> = Vec::with_capacity(hits.len());
            let mut cluster: Vec<NameHit> = Vec::new();
            let mut end = 0;
            for h in hits.into_iter().chain(std::iter::once(NameHit { start: usize::MAX, end: usize::MAX, score: 0.0, role: Role::Unknown, why: String::new(), held: false, context: false })) {
                if !cluster.is_empty() && h.start >= end {
                    // Scores are sums of decimals: equal up to rounding is equal,
                    // and then the longer hypothesis wins (雷德菲尔德 over 雷德菲).
                    let key = |h: &NameHit| (h.score * 1e6).round() as i64;
                    cluster.sort_by(|a, b| key(b).cmp(&key(a)).then((b.end - b.start).cmp(&(a.end - a.start))));
                    let from = kept.len();
                    for c in cluster.drain(..) {
                        if !kept[from..].iter().any(|k| k.start < c.end && c.start < k.end) {
                            kept.push(c);
                        }
                    }
                }
                end = if cluster.is_empty() { h.end } else { end.max(h.end) };
                cluster.push(h);
            }
            kept.sort_by_key(|h| h.start);
            return Ok(kept);
        }
        Ok(hits)
    }

    fn hypotheses(
        &self,
        tok: &Tokenizer,
        text: &str,
        base: usize,
        toks: &[Token],
        hits: &mut Vec<NameHit>,
        scratch: &mut Scratch,
    ) {
        let Scratch { cands, scored } = scratch;
        cands.clear();
        scored.clear();
        for (k, t) in toks.iter().enumerate() {
            let w = t.word;
            // Cheap rejection: no surname where a hypothesis could start.
            let Some(c0) = w.chars().next() else { continue };
            // A foreign or unusual name right after a title (法国总理若斯潘,
            // 教练扎加洛): no surname, but the title says a person follows.
            if self.titled(tok, text, base + t.start, t) {
                cands.push((t.start, t.end, Signal::Titled));
            }
            let head = self.single.contains(&c0) || self.compound_first.contains(&c0);
            if !head && !(w.len() > 6 && w.chars().any(|c| self.single.contains(&c))) {
                continue;
            }
            if self.stop.contains(w) || self.before.contains_key(w) || self.after.contains_key(w) {
                continue;
            }
            let nr = tok.tag_of(t).starts_with("nr");
            let oov = !tok.has_word(w);
            // Anchors: the token start, and for merged tokens (OOV or nr, which
            // jieba's HMM glues to neighbours: 马鹏祥于, 众黄婷梓) any inner surname.
            let inner = (oov || nr) && w.chars().count() > 2;
            let short = w.chars().count() <= 3;
            for (p, _) in w.char_indices() {
                if p > 0 && !inner {
                    break;
                }
                let Some(sl) = self.surname_len(&w[p..]) else {
                    continue;
                };
                let rest = &w[p + sl..];
                let compound = sl > c0.len_utf8();
                if rest.is_empty() {
                    if p == 0 {
                        self.split_hypotheses(tok, toks, k, cands);
                        // 欧阳先生, 桥本首相: a two-character surname alone before
                        // an honorific or a title.
                        if compound
                            && toks.get(k + 1).is_some_and(|n| BARE_TITLES.iter().any(|(w, _)| *w == n.word))
                        {
                            cands.push((t.start, t.end, Signal::Compound));
                        }
                        // 桥本/龙太郎: a two-character surname and an unseen
                        // three-character given name (two are tried above).
                        // When its last character starts the next word
                        // (河野/雅治先/生: 先生), the given name is the first two.
                        if compound
                            && let Some(n) = toks.get(k + 1)
                            && n.word.chars().count() == 3
                            && self.compound_given_ok(tok, n.word)
                        {
                            let cut = last_starts_word(tok, text, base + n.start, base + n.end).unwrap_or(0);
                            cands.push((t.start, n.end - cut, Signal::Compound));
                        }
                    }
                    continue;
                }
                // 桥本龙太郎, 东条英机, 松下幸之助: a dictionary word made of a
                // two-character surname and a given name that is no word of its own,
                // or a name (东方|明珠 and 松下|电器 are words).
                if p == 0
                    && compound
                    && !oov
                    && (2..=3).contains(&rest.chars().count())
                    && self.compound_given_ok(tok, rest)
                {
                    cands.push((t.start, t.end, Signal::Compound));
                }
                let mut ends: Vec<usize> = rest
                    .char_indices()
                    .skip(1)
                    .map(|(i, _)| i)
                    .take(1)
                    .collect();
                ends.push(rest.char_indices().nth(2).map_or(rest.len(), |(i, _)| i));
                ends.dedup();
                for g_end in ends {
                    let g = &rest[..g_end];
                    if !self.given_ok(g) {
                        continue;
                    }
                    let whole = p == 0 && g_end == rest.len();
                    let sig = match (whole, nr, oov) {
                        (true, true, true) => Signal::Nr,
                        (true, true, false) => Signal::DictNr,
                        (true, false, true) => Signal::Oov,
                        (true, false, false) => Signal::DictWord,
                        // A short whole token (叶利钦) is its own hypothesis, not a part.
                        (false, _, _) if p == 0 && short && !oov => continue,
                        // Inside a dictionary word (邓小平理论/nr) only a name the
                        // dictionary knows: the dictionary tags idioms nr too
                        // (顾全大局).
                        (false, _, _)
                            if (nr || oov)
                                && self.part_ok(tok, &w[p..p + sl + g_end])
                                && (oov || tok.has_word(&w[p..p + sl + g_end])) =>
                        {
                            Signal::Part
                        }
                        (false, _, _) => continue,
                    };
                    cands.push((t.start + p, t.start + p + sl + g_end, sig));
                    // jieba's HMM sometimes cuts a three-character name after the
                    // second character (胡毅/诗为): try one character more.
                    if whole && g.chars().count() == 1
                        && let Some(n) = toks.get(k + 1) {
                            let single = n.word.chars().count() == 1;
                            // Not from a frequent ordinary word (任期|中, 国土|上,
                            // 常常|能) nor a time word (周二|晚): that is a word and
                            // a character, not a name.
                            if (oov || nr || single)
                                && (oov || nr || (tok.freq(w) < 2 * COMMON_WORD_FREQ && tok.dict_tag(w) != "t"))
                                && n.word
                                    .chars()
                                    .next()
                                    .is_some_and(|c| self.given_ok(c.encode_utf8(&mut [0; 4])))
                            {
                                let c = n.word.chars().next().map_or(0, char::len_utf8);
                                cands.push((t.start + p, t.end + c, Signal::Extend));
                            }
                        }
                }
            }
        }
        // Score, then keep the best of overlapping hypotheses.
        scored.extend(cands.drain(..).filter_map(|(s, e, sig)| {
            self.score(tok, text, base + s, base + e, sig, false).map(|h| (h, sig))
        }));
        scored.sort_by(|(a, _), (b, _)| {
            b.score
                .total_cmp(&a.score)
                .then((b.end - b.start).cmp(&(a.end - a.start)))
        });
        // Keep the best of overlapping hypotheses; explanations are built only
        // for the ones that survive.
        let from = hits.len();
        for (h, sig) in scored.drain(..) {
            if (self.keep_all || !hits[from..].iter().any(|k| k.start < h.end && h.start < k.end))
                && let Some(h) = self.score(tok, text, h.start, h.end, sig, true) {
                    hits.push(h);
                }
        }
    }

    /// A surname token followed by given-name tokens (马/鹏祥, 欧阳/娜娜), or by
    /// spaces and single characters (周 安).
    fn split_hypotheses(
        &self,
        tok: &Tokenizer,
        toks: &[Token],
        k: usize,
        cands: &mut Vec<(usize, usize, Signal)>,
    ) {
        let t = &toks[k];
        let Some(t1) = toks.get(k + 1) else { return };
        if self.given_ok(t1.word)
            && (t1.word.chars().count() == 2 || !is_function_tag(tok.tag_of(t1)))
            // 从|法国, 向|北京: a place or an organization is not a given name,
            // unless it is made of given-name characters (严|建国/ns).
            && (!matches!(tok.tag_of(t1), "ns" | "nt") || t1.word.chars().all(|c| self.common_given.contains(&c)))
            && !self.before.contains_key(t1.word)
            && !self.after.contains_key(t1.word)
        {
            let sig = if t1.word.chars().count() == 2
                && tok.has_word(t1.word)
                && !tok.tag_of(t1).starts_with("nr")
            {
                // 周/建军 is a name, 周/普查 is not: the "given name" is an ordinary
                // word, so only context can decide.
                Signal::SplitDict
            } else if tok.tag_of(t1).starts_with("nr") {
                Signal::SplitNr
            } else {
                Signal::Split
            };
            cands.push((t.start, t1.end, sig));
            if t1.word.chars().count() == 1
                && let Some(t2) = toks.get(k + 2)
                    && t2.word.chars().count() == 1
                        && self.given_ok(t2.word)
                        && !is_function_tag(tok.tag_of(t2))
                    {
                        cands.push((t.start, t2.end, Signal::Split));
                    }
        }
        // 杜/强于, 贾/梅宇于: the given name is glued to a following function word.
        for (i, _) in t1.word.char_indices().skip(1).take(2) {
            let (g, rest) = t1.word.split_at(i);
            if self.given_ok(g)
                && rest
                    .chars()
                    .all(|c| "于在的为是和与及等了也都就被把将向从对说称".contains(c))
            {
                cands.push((t.start, t1.start + i, Signal::Split));
            }
        }
        if t1.word.trim().is_empty() && t1.word.len() <= 3
            && let Some(end) = self.spaced(toks, k + 2) {
                cands.push((t.start, end, Signal::Spaced));
            }
    }

    fn spaced(&self, toks: &[Token], mut k: usize) -> Option<usize> {
        let mut given = 0;
        let mut end = None;
        while let Some(t) = toks.get(k) {
            if t.word.trim().is_empty() && t.word.len() <= 3 {
                k += 1;
                continue;
            }
            if given < 2 && t.word.chars().count() == 1 && self.given_ok(t.word) {
                given += 1;
                end = Some(t.end);
                k += 1;
                continue;
            }
            break;
        }
        end
    }

    fn score(
        &self,
        tok: &Tokenizer,
        text: &str,
        s: usize,
        e: usize,
        sig: Signal,
        explain: bool,
    ) -> Option<NameHit> {
        let name = &text[s..e];
        let compact: std::borrow::Cow<str> = if name.contains(char::is_whitespace) {
            name.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .into()
        } else {
            name.into()
        };
        let compact: &str = &compact;
        if self.stop.contains(compact)
            || compact.contains('某')
            || self.before.contains_key(compact)
            || self.after.contains_key(compact)
        {
            return None;
        }
        let n = compact.chars().count();
        // 王女士, 李老师: a surname and an honorific, found as such
        // ([`NameDetector::bare_surname_hit`]), not a full name.
        if (3..=4).contains(&n)
            && let Some(sl) = self.surname_len(compact)
            && compact[sl..].chars().next().is_some_and(|c| self.bare_title_first.contains(&c))
            && BARE_TITLES.iter().any(|(w, _)| compact[sl..] == **w)
        {
            return None;
        }
        let mut dotted = false;
        if sig == Signal::Translit {
            // A dictionary word (斯里兰卡/ns) is not a name, unless jieba calls it one.
            if n > 12 || (tok.has_word(compact) && !tok.dict_tag(compact).starts_with("nr")) {
                return None;
            }
            // 卡塔尔/ns, 海洛因/n, 南苏丹: any ordinary dictionary word inside
            // means a place or a thing, not a person.
            let plain: String = compact.chars().filter(|&c| c != '·').collect();
            let idx: Vec<usize> = plain.char_indices().map(|(i, _)| i).chain(std::iter::once(plain.len())).collect();
            for a in 0..idx.len() {
                for b in a + 2..idx.len().min(a + 9) {
                    if self.stop.contains(&plain[idx[a]..idx[b]]) {
                        return None;
                    }
                }
            }
            dotted = compact.contains('·');
            let plain_word = |t: &Token| t.word.chars().count() >= 2 && !tok.tag_of(t).starts_with("nr") && tok.tag_of(t) != "x";
            let mut seg = Vec::new();
            // 卡洛斯·阿马特, 科菲·安南: the dot marks a foreign person's name (the
            // dictionary's tags for the parts are no help: 芭芭拉/z, 安南/ns); the
            // stop list above still rules out places.
            if !dotted {
                tok.segment_into(&plain, &mut seg);
                if seg.iter().any(plain_word) {
                    return None;
                }
            }
        } else if !((2..=4).contains(&n) || (sig == Signal::Compound && n == 5)) {
            return None;
        }
        // 马钢集团, 雅戈尔制衣, 浦航租赁: an organization's name, not a person.
        let after = text[e..].trim_start_matches(['(', ' ']);
        // 妮维雅(上海)公司: a place in parentheses between the name and the suffix.
        // Only the first 19 bytes can hold that `)`: never search the rest of the text.
        let close = after.as_bytes()[..after.len().min(19)].iter().position(|&b| b == b')');
        let after = match close {
            Some(i) if text[e..].starts_with('(') => &after[i + 1..],
            _ => after,
        };
        if self.org_suffix(after).is_some() {
            return None;
        }
        // 3张卫星图片, 那张小巧的门票, 这项工作: after a numeral or a demonstrative
        // the surname is a measure word.
        if compact.chars().next().is_some_and(|c| MEASURE_SURNAMES.contains(c))
            && text[..s].chars().next_back().is_some_and(|p| p.is_ascii_digit() || NUMERAL_OR_DEMONSTRATIVE.contains(p))
        {
            return None;
        }
        // 任中源协和…: 任 (and 于, 向) open verbs and prepositions far more often
        // than they open names; such a candidate needs context.
        let ambiguous = compact.chars().next().is_some_and(|c| AMBIGUOUS_SURNAMES.contains(c));
        // 古林镇, 张家港市, 白金汉宫, 斯特拉斯堡: a place name, not a person.
        if text[e..]
            .chars()
            .next()
            .is_some_and(|c| "省市县区镇乡村街路港湾岛屯寨庄坊里巷寺庙桥河湖江州岭宫堡塔".contains(c))
            && self.ctx_after(text, e).is_none()
        {
            return None;
        }
        let mut score = sig.weight() + if dotted { 0.3 } else { 0.0 };
        // 俄罗斯的库尼科娃: an unseen transliteration right after a foreign country
        // (a place of the stop list) and 的 is that country's person.
        let after_country = sig == Signal::Translit
            && !dotted
            && !tok.has_word(compact)
            && text[..s].strip_suffix('的').is_some_and(|head| {
                (2..=5).any(|k| {
                    let a = back_chars(head, head.len(), k);
                    head.len() - a >= 6 && self.stop.contains(&head[a..])
                })
            });
        if after_country {
            score += 0.3;
        }
        // Surname + one character is the shape of many ordinary words (林权, 普惠):
        // a two-character candidate needs more than the tagger's word for it.
        if n == 2 && matches!(sig, Signal::Nr | Signal::Oov) {
            score -= 0.1;
        }
        // Three characters that jieba's HMM kept together behind a surname are
        // the shape of a full name (姜天云, 曲格平): on its own that is nearly
        // enough.
        if n == 3 && sig == Signal::Oov {
            // Not when it ends like a place or a thing (山水|林田湖|草沙).
            score += if ends_like_place_or_thing(compact) { 0.05 } else { 0.15 };
        }
        let mut why: Vec<String> = Vec::new();
        if explain {
            why.push(sig.describe().to_owned());
            if after_country {
                why.push("after a foreign country and 的".into());
            }
        }
        let sl = self.surname_len(compact).unwrap_or(0);
        // A full name that jieba's dictionary knows as a person's (邓小平/nr,
        // 叶钊颖/nr, 基里延科/nr, 克林斯曼/nrt): well-known people, who are named
        // in running text without labels or titles.
        // Whether the candidate splits into ordinary words: dictionary lookups,
        // asked at most once per candidate.
        let ordinary_cell = std::cell::OnceCell::new();
        let ordinary = || *ordinary_cell.get_or_init(|| n == 3 && self.ordinary_split(tok, compact, sl));
        // A transliteration run cut out of a longer word (澳大|利亚多|类, 亚利桑|那州)
        // is not the dictionary's word, whatever its tag.
        let whole_run = || {
            let ws = back_chars(text, s, 2);
            let we = fwd_chars(text, e, 2);
            let mut seg = Vec::new();
            tok.segment_into(&text[ws..we], &mut seg);
            seg.iter().any(|t| ws + t.start == s) && seg.iter().any(|t| ws + t.end == e)
        };
        if self.known_name(tok, compact, sl, sig, ordinary) && (sig != Signal::Translit || name.contains('·') || whole_run()) {
            score += KNOWN_NAME;
            if explain {
                why.push("a person's full name in the dictionary".into());
            }
        }
        // 周恩来/t, 周铁农/nz: the dictionary knows the full name but tags it as
        // a time word or a proper noun. Next to an official's title it is the
        // person (周恩来总理, 副主席周铁农).
        let proper_full = sig == Signal::DictWord
            && n == 3
            && sl == compact.chars().next().map_or(0, char::len_utf8)
            && matches!(tok.dict_tag(compact), "nz" | "t")
            && !ends_like_place_or_thing(compact)
            && !ordinary_word(tok, &compact[sl..]);
        if proper_full {
            score += KNOWN_NAME;
            if explain {
                why.push("a full name the dictionary tags as a proper noun".into());
            }
        }
        if sig == Signal::Compound && n >= 4 && tok.has_word(compact) {
            score += KNOWN_NAME;
            if explain {
                why.push("a person's full name in the dictionary".into());
            }
        }
        if sig == Signal::Translit {
            // The given-name prior is for Chinese names only.
        } else if compact[sl..]
            .chars()
            .all(|c| self.common_given.contains(&c))
        {
            score += 0.1;
            if explain {
                why.push("common given-name characters".into());
            }
        } else {
            score -= 0.05;
        }
        let mut strong_before = false;
        let mut strong_after = false;
        // A title, label or honorific (not a list or table neighbour).
        let mut worded = false;
        let mut official = false;
        let mut private = false;
        for (side, hit) in [
            // A label that ends a longer dictionary word is not that label
            // (制作|者 is not 作者); titles do compose (支队|队长, 局|局长).
            ("before", self.ctx_before(text, s).filter(|&(w, r)| {
                r != CtxRole::Label || {
                let ws = w.as_ptr() as usize - text.as_ptr() as usize;
                text[..ws].chars().next_back().is_none_or(|p| !is_han(p) || !tok.has_word(&text[ws - p.len_utf8()..ws + w.len()]))
                }
            })),
            // A one-character after-word that starts a longer word is not that
            // word (问|题, 说|明, 等|级), nor is a title that starts the name of a
            // body (委员|会, 代表|团: 廉政委员会 is no person's).
            ("after", self.ctx_after(text, e).filter(|&(w, _)| {
                // (Only for a word right at the end of the name: a label inside
                // parentheses after it is not.)
                !w.chars().all(is_han) || w.as_ptr() as usize != text.as_ptr() as usize + e || {
                    let we = e + w.len();
                    let next = text[we..].chars().next();
                    if w.chars().count() == 1 {
                        next.is_none_or(|c| !tok.has_word(&text[e..we + c.len_utf8()]))
                    } else {
                        next.is_none_or(|c| !BODY_ENDINGS.contains(c) || !tok.has_word(&text[e..we + c.len_utf8()]))
                    }
                }
            })),
        ] {
            let hit = match hit {
                // A list separator is context only when the neighbour looks like a name too.
                Some(("、", _)) => self
                    .list_neighbour(tok, text, s, e, side == "before")
                    .map(|r| ("、 (name list)", r)),
                None => {
                    let c = if side == "before" {
                        text[..s].chars().next_back()
                    } else {
                        text[e..].chars().next()
                    };
                    if c.is_some_and(|c| c.is_whitespace() || c.is_ascii_digit()) {
                        self.list_neighbour(tok, text, s, e, side == "before")
                            .map(|r| ("(table row of names)", r))
                    } else {
                        None
                    }
                }
                h => h,
            };
            match hit {
                Some((w, role)) => {
                    score += match role {
                        CtxRole::Neutral => 0.15,
                        _ if w.starts_with('、') || w.starts_with('(') => 0.3,
                        _ => 0.45,
                    };
                    if role != CtxRole::Neutral {
                        if side == "before" {
                            strong_before = true;
                        } else {
                            strong_after = true;
                        }
                        worded |= !(w.starts_with('、') || w.starts_with('('));
                    }
                    official |= role == CtxRole::Official;
                    private |= role == CtxRole::Private;
                    if explain {
                        why.push(format!("{side}: {w}"));
                    }
                }
                None => {
                    let c = if side == "before" {
                        text[..s].chars().next_back()
                    } else {
                        text[e..].chars().next()
                    };
                    if c.is_none_or(|c| {
                        is_clause_break(c)
                            || c == '、'
                            || c == ' '
                            || c.is_ascii_digit()
                            || c.is_ascii_punctuation()
                            || self.never_given.contains(&c)
                    }) {
                        score += 0.1;
                    } else if side == "after"
                        && compact.chars().count() - compact[..sl].chars().count() == 1
                        && self.open_edge(tok, &text[e..])
                    {
                        // An open right edge: the name may go on (郑琳|荷).
                        score -= 0.15;
                    }
                }
            }
        }
        // A table cell: whitespace, digits or a line edge on both sides (沈建华 in
        // `单位：元 沈建华 2000`). Lists of people are printed this way.
        let cell_edge = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_digit());
        let cell = cell_edge(text[..s].chars().next_back()) && cell_edge(text[e..].chars().next());
        if cell {
            score += 0.15;
            if explain {
                why.push("table cell".into());
            }
        }
        let common = compact[sl..].chars().all(|c| self.common_given.contains(&c));
        if ambiguous && !(strong_before || strong_after || cell) {
            return None;
        }
        // Surname + one character is the shape of countless ordinary words that
        // the dictionary tags `nr` (许可, 荣誉, 贺信): such a dictionary word is a
        // name only with a title, label, list or table cell.
        let two_needs_context = n == 2 && sl == compact.chars().next().map_or(0, char::len_utf8) && sig == Signal::DictNr;
        // A token jieba's HMM glued together that splits into a surname and an
        // ordinary word (韩|两国, 伊朗|核) is phrase debris unless context says name.
        let glued_words = matches!(sig, Signal::Oov | Signal::Nr) && ordinary();
        // A dictionary `nr` word that is an ordinary word after its surname
        // (高|水平, 伊朗|核) is a word unless context says otherwise.
        let ordinary_nr = sig == Signal::DictNr && ordinary();
        let gated = match sig {
            // Lists of ordinary words are common too (安全、荣誉和利益; 获得感、
            // 幸福感、安全感): only a title, label or honorific, or a table cell.
            // A list still counts for a common surname (王明、王英).
            _ if two_needs_context || glued_words || ordinary_nr => {
                worded || cell || ((strong_before || strong_after) && compact.chars().next().is_some_and(|c| COMMON_SURNAMES.contains(c)))
            }
            // 江建国/ns: a dictionary word shaped like a full name (surname and two
            // common given-name characters) needs context on one side only.
            Signal::DictWord if n == 3 && sl == compact.chars().next().map_or(0, char::len_utf8) && common => strong_before || strong_after,
            Signal::DictWord if proper_full => worded && official,
            Signal::DictWord => strong_before && strong_after,
            Signal::SplitDict => strong_before || strong_after || (cell && common),
            Signal::Extend => strong_before || strong_after || cell,
            _ => true,
        };
        // A surname and a two-character word of given-name characters with no
        // context (江|宏伟, 郑|全军) is held back: a name only if the document
        // repeats it (see [`NameDetector::propagate`]).
        // Only when the dictionary takes the surname character for a surname
        // (韩/j 军方, 成/n 中国 are not), the given name is no place (乌|中国)
        // and an extension did not complete a word (惠民|生: 民生).
        let held = !gated
            && matches!(sig, Signal::SplitDict | Signal::Split | Signal::Extend)
            && n == 3
            && sl == compact.chars().next().map_or(0, char::len_utf8)
            && common
            && tok.dict_tag(&compact[..sl]).starts_with("nr")
            && tok.dict_tag(&compact[sl..]) != "ns"
            && !(sig == Signal::Extend && tok.has_word(&compact[compact.char_indices().nth(1).map_or(0, |(i, _)| i)..]));
        if !gated && !held {
            return None;
        }
        if held {
            score = score.min(HELD_SCORE);
        }
        // 管理人|员: a candidate that is the start of a longer dictionary word is
        // not a name.
        if matches!(sig, Signal::Extend | Signal::DictNr | Signal::Split)
            && let Some(c) = text[e..].chars().next().filter(|&c| is_han(c))
                && tok.has_word(&text[s..e + c.len_utf8()]) {
                    return None;
                }
        // 劳拉公|司, 马赛总|领事: the character an extension added starts a word
        // with what follows; it belongs to that word, not to the name.
        if sig == Signal::Extend {
            let last = text[..e].chars().next_back().map_or(0, char::len_utf8);
            let mut it = text[e..].chars();
            if let Some(a) = it.next().filter(|&c| is_han(c)) {
                let two = e + a.len_utf8();
                let three = it.next().filter(|&c| is_han(c)).map(|b| two + b.len_utf8());
                // (林先生/nr is the dictionary's "Mr Lin", not a word.)
                if ordinary_word(tok, &text[e - last..two]) || three.is_some_and(|t| ordinary_word(tok, &text[e - last..t])) {
                    return None;
                }
            }
        }
        // 平潭城关中学: when the surname also ends a word with the character before
        // it (城关), jieba split a word, not a name off a word.
        // (水电|路气信: the same for an unseen three-character token.)
        if (matches!(sig, Signal::Split | Signal::SplitDict | Signal::Extend | Signal::Spaced) || (sig == Signal::Oov && n == 3)) && !strong_before
            && let Some(p) = text[..s].chars().next_back().filter(|&c| is_han(c)) {
                let first = text[s..].chars().next().map_or(0, char::len_utf8);
                let glued = &text[s - p.len_utf8()..s + first];
                if tok.has_word(glued) {
                    return None;
                }
            }
        let role = if private {
            Role::Private
        } else if official {
            Role::Official
        } else {
            Role::Unknown
        };
        Some(NameHit {
            start: s,
            end: e,
            score,
            role,
            why: why.join("; "),
            held,
            // A transliterated foreign name counts as context too: the model
            // has seen few of them and doubts most.
            context: strong_before || strong_after || cell || sig == Signal::Translit,
        })
    }
}

fn is_function_tag(tag: &str) -> bool {
    matches!(
        tag,
        "u" | "uj"
            | "ul"
            | "uz"
            | "ug"
            | "uv"
            | "ud"
            | "p"
            | "c"
            | "d"
            | "r"
            | "m"
            | "q"
            | "f"
            | "y"
            | "e"
            | "o"
            | "w"
    )
}
