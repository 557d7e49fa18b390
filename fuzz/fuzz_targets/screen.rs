#![no_main]
//! The screening path: arbitrary text → `Screener` (embedded rules) → findings,
//! verdict and redacted text.
//!
//! The first byte selects the mode:
//! - bit 0 clear: the rest of the input as lossy UTF-8;
//! - bit 0 set: spliced: the rest is lossy UTF-8 in which `0xFF` (never a byte
//!   of UTF-8) followed by a byte `k` is replaced by dictionary fragment
//!   `k % DICT.len()` (marks, names with their context, ID, phone and card
//!   numbers, labels, line breaks), so the detectors fire and their spans and
//!   overlaps are exercised;
//! - bit 1 set: the first `data[1]` characters are passed as a page-header part
//!   (`Screener::screen_with_page_headers`), as a docx header is.
//!
//! Invariants checked: no panic; every finding's span is non-empty, in bounds
//! and on char boundaries of the original text; findings are sorted by start;
//! the sensitive values (every kind but markings, which are never dropped for an
//! overlapping value) do not overlap each other; the verdict is the strongest
//! action found; the redacted text has exactly as many characters as the input
//! and differs from it only inside redacted spans.
use libfuzzer_sys::fuzz_target;
use mishen::{Action, Screener, Verdict};
use std::sync::OnceLock;

static SCREENER: OnceLock<Screener> = OnceLock::new();

const DICT: &[&str] = &[
    "机密★5年",
    "\n机密★5年\n",
    "绝密★启用前",
    "★机密",
    "机密▲5年",
    "秘密★1年",
    "密级：秘密　保密期限：1年",
    "（机密）",
    "机密",
    "\n商业秘密\n",
    "商业秘密　未经许可不得公开",
    "核心商密★5年",
    "内部资料",
    "内部文件　注意保存",
    "（征求意见稿）",
    "讨论稿",
    "送审稿",
    "标底为人民币100万元",
    "控制价：",
    "配方",
    "联系人王小明",
    "联系人：",
    "申请人",
    "王晓东（申请人）",
    "欧阳娜娜",
    "王建国同志",
    "局长",
    "先生",
    "桥本龙太郎",
    "电话：",
    "联系电话",
    "手机",
    "13800138000",
    "13912345678",
    "１３８００１３８０００",
    "0591-87668745",
    "（0574）87668745",
    "身份证号码：",
    "360426199101010071",
    "11010519491231002X",
    "３６０４２６１９９１０１０１００７１",
    "卡号6222020200123456788",
    "zhangsan@example.com",
    "护照号码：E12345678",
    "准考证号：2023010101",
    "住址：福建省福州市鼓楼区五一路12号3栋502室",
    "闽政办〔2024〕12号",
    "福建省人民政府办公厅文件",
    "关于印发工作方案的通知",
    "13800000000元",
    "\n",
    "\n\n",
    "\t",
    "|",
    "　",
    "：",
    "，",
    "。",
    "\u{200B}",
    "\u{FEFF}",
    "\u{00AD}",
    "－",
    " ",
    "𠀀",
];

fn text_of(data: &[u8]) -> String {
    let (&mode, rest) = match data.split_first() {
        Some(x) => x,
        None => return String::new(),
    };
    let rest = if mode & 2 != 0 && !rest.is_empty() { &rest[1..] } else { rest };
    if mode & 1 == 0 {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let mut out = String::new();
    let mut parts = rest.split(|&b| b == 0xFF);
    if let Some(first) = parts.next() {
        out.push_str(&String::from_utf8_lossy(first));
    }
    for p in parts {
        match p.split_first() {
            Some((&k, tail)) => {
                out.push_str(DICT[k as usize % DICT.len()]);
                out.push_str(&String::from_utf8_lossy(tail));
            }
            None => out.push_str(DICT[0]),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let screener = SCREENER.get_or_init(|| Screener::embedded().expect("embedded packs compile"));
    let text = text_of(data);
    let header_chars = match data {
        [mode, n, ..] if mode & 2 != 0 => Some(*n as usize),
        _ => None,
    };
    let s = match header_chars {
        Some(n) => {
            let end = text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
            screener.screen_with_page_headers(&text, &[0..end])
        }
        None => screener.screen(&text),
    };

    let mut prev_start = 0;
    let mut sensitive_end = 0;
    for f in &s.findings {
        let (a, b) = (f.span.start, f.span.end);
        assert!(a < b && b <= text.len(), "{}: span {a}..{b} of {} bytes", f.rule, text.len());
        assert!(text.is_char_boundary(a) && text.is_char_boundary(b), "{}: span {a}..{b} off a char boundary", f.rule);
        assert!(a >= prev_start, "findings not sorted by start");
        prev_start = a;
        if f.kind.value_is_sensitive() {
            assert!(a >= sensitive_end, "{}: value {a}..{b} overlaps an earlier value ending at {sensitive_end}", f.rule);
            sensitive_end = b;
        }
    }

    let strongest = s.findings.iter().map(|f| f.action).filter(|a| *a != Action::Allow).max();
    let want = match strongest {
        Some(Action::Withhold) => Verdict::Withhold,
        Some(Action::Redact) => Verdict::Redact,
        _ => Verdict::Publish,
    };
    assert_eq!(s.decision.verdict, want, "verdict is not the strongest action found");

    let out = screener.redact(&text, &s);
    assert_eq!(out.chars().count(), text.chars().count(), "redaction changed the number of characters");
    let mut redacted = vec![false; text.len()];
    for f in s.findings.iter().filter(|f| f.action == Action::Redact) {
        redacted[f.span.start..f.span.end].fill(true);
    }
    for ((i, a), b) in text.char_indices().zip(out.chars()) {
        assert!(a == b || redacted[i], "char at byte {i} changed outside every redacted span");
    }
});
