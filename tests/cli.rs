//! The `mishen screen` and `mishen rules check` command-line contract.
//!
//! ```text
//! mishen screen [--format text|jsonl] [--redact-to DIR] [--rules DIR]
//!               [--fail-on redact|withhold|never] PATH...
//! ```
//!
//! These tests run the real binary (`assert_cmd`) and decode its JSON Lines with
//! their own serde structs, so a change to the wire format breaks them even when
//! the library's own record types change with it.

use assert_cmd::Command;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// The wire format, as other tools read it.
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Doc {
    path: String,
    verdict: String,
    findings: Vec<Found>,
    reasons: Vec<Reason>,
    rules_sha256: String,
    content_sha256: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Found {
    rule: String,
    category: String,
    kind: String,
    start: usize,
    end: usize,
    byte_start: usize,
    byte_end: usize,
    line: usize,
    column: usize,
    confidence: f64,
    action: String,
    basis: String,
    excerpt: String,
    explanation: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Reason {
    category: String,
    action: String,
    basis: String,
    summary: String,
}

// ---------------------------------------------------------------------------
// Synthetic documents. Every value is made up (valid prefixes / check digits).
// ---------------------------------------------------------------------------

const PHONE: &str = "13912345678";
const PHONE_FW: &str = "１３９１２３４５６７８";
const ID: &str = "360426199101010071";
const EMAIL: &str = "wang.xiaoyu@example.com";

fn doc_redact() -> String {
    format!(
        "关于办理政府信息公开申请的答复\n\n申请人于2024年7月9日提出申请，联系电话：{PHONE}，\
         身份证号码：{ID}，电子邮箱{EMAIL}。\n现将有关情况答复如下。\n"
    )
}

const DOC_WITHHOLD: &str =
    "机密★5年\n某局关于某专项工作部署的通知\n\n各单位：\n现将有关事项通知如下。\n";

const DOC_PUBLISH: &str = "宁波市海曙区人民政府办公室关于做好春节期间安全管理工作的通告\n\n\
     为切实做好春节期间安全管理工作，保障人民群众生命财产安全，现就有关事项通告如下。\n\
     一、各镇（街道）要加强宣传教育，引导群众文明过节。\n二、本通告自发布之日起施行。\n";

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

fn mishen() -> Command {
    Command::cargo_bin("mishen").expect("binary mishen is built")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("mishen runs");
    Run {
        code: out
            .status
            .code()
            .expect("mishen exits normally (not by a signal)"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn screen_jsonl(args: &[&std::ffi::OsStr]) -> (Run, Vec<Doc>) {
    let r = run(mishen()
        .arg("screen")
        .arg("--format")
        .arg("jsonl")
        .args(args));
    let docs = parse_jsonl(&r.stdout);
    (r, docs)
}

fn parse_jsonl(stdout: &str) -> Vec<Doc> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Doc>(l)
                .unwrap_or_else(|e| panic!("line is not a document object ({e}): {l}"))
        })
        .collect()
}

fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    p
}

fn os<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &std::ffi::OsStr {
    p.as_ref()
}

fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn doc_for<'a>(docs: &'a [Doc], suffix: &str) -> &'a Doc {
    docs.iter()
        .find(|d| d.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no document ending in {suffix} in {docs:#?}"))
}

fn unreadable_reason(d: &Doc) -> &Reason {
    d.reasons
        .iter()
        .find(|r| r.category == "unreadable")
        .unwrap_or_else(|| panic!("no unreadable reason for {}: {:#?}", d.path, d.reasons))
}

// ---------------------------------------------------------------------------
// JSON Lines.
// ---------------------------------------------------------------------------

#[test]
fn jsonl_one_object_per_document_with_every_field() {
    let dir = TempDir::new().unwrap();
    let a = write(dir.path(), "a.txt", doc_redact());
    let b = write(dir.path(), "b.txt", DOC_WITHHOLD);
    let c = write(dir.path(), "c.txt", DOC_PUBLISH);
    let (r, docs) = screen_jsonl(&[os(&a), os(&b), os(&c)]);
    assert_eq!(
        r.stdout.lines().count(),
        3,
        "one line per document:\n{}",
        r.stdout
    );
    assert_eq!(docs.len(), 3);
    let paths: Vec<&str> = docs.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            c.to_str().unwrap()
        ],
        "documents in argument order"
    );

    let verdicts: Vec<&str> = docs.iter().map(|d| d.verdict.as_str()).collect();
    assert_eq!(verdicts, vec!["redact", "withhold", "publish"]);

    let sha = &docs[0].rules_sha256;
    assert!(
        is_hex64(sha),
        "rules_sha256 is lower-case hex SHA-256: {sha}"
    );
    for (d, content) in docs.iter().zip([
        doc_redact().into_bytes(),
        DOC_WITHHOLD.as_bytes().to_vec(),
        DOC_PUBLISH.as_bytes().to_vec(),
    ]) {
        assert_eq!(&d.rules_sha256, sha, "one rule pack for the whole run");
        assert_eq!(
            d.content_sha256,
            mishen::screen::sha256_hex(&content),
            "content_sha256 of {}",
            d.path
        );
        assert!(
            !d.reasons.is_empty(),
            "every verdict carries reasons: {}",
            d.path
        );
    }

    let red = &docs[0];
    let kinds: BTreeSet<&str> = red.findings.iter().map(|f| f.kind.as_str()).collect();
    for k in ["phone", "resident_id", "email"] {
        assert!(kinds.contains(k), "{k} found in {:#?}", red.findings);
    }
    for f in &red.findings {
        assert!(
            !f.rule.is_empty() && !f.basis.is_empty() && !f.explanation.is_empty(),
            "{f:#?}"
        );
        assert!(
            ["state_secret", "trade_secret", "personal_data", "internal_affairs"].contains(&f.category.as_str()),
            "{f:#?}"
        );
        assert!(
            ["allow", "redact", "withhold"].contains(&f.action.as_str()),
            "{f:#?}"
        );
        assert!((0.0..=1.0).contains(&f.confidence), "{f:#?}");
        assert!(f.start < f.end && f.byte_start < f.byte_end, "{f:#?}");
        assert!(f.line >= 1 && f.column >= 1, "{f:#?}");
    }
    let pd: Vec<&Found> = red
        .findings
        .iter()
        .filter(|f| ["phone", "resident_id", "email"].contains(&f.kind.as_str()))
        .collect();
    assert!(
        pd.iter()
            .all(|f| f.category == "personal_data" && f.action == "redact"),
        "{pd:#?}"
    );

    let w = &docs[1];
    let mark = w
        .findings
        .iter()
        .find(|f| f.kind == "classification_mark")
        .expect("classification mark found");
    assert_eq!(
        (mark.category.as_str(), mark.action.as_str()),
        ("state_secret", "withhold")
    );
    assert!(
        w.reasons
            .iter()
            .any(|r| r.category == "state_secret" && r.action == "withhold"),
        "{:#?}",
        w.reasons
    );

    assert!(docs[2].findings.is_empty(), "{:#?}", docs[2].findings);
}

#[test]
fn jsonl_offsets_are_unicode_scalars_into_the_original_text() {
    let dir = TempDir::new().unwrap();
    // Non-BMP and multi-byte characters before the value, on the third line.
    let text =
        format!("第一行𠀀😀abc\n第二行：全角号码{PHONE_FW}。\n联系人手机：{PHONE}，请及时联系。\n");
    let p = write(dir.path(), "offsets.txt", &text);
    let (r, docs) = screen_jsonl(&[os(&p)]);
    assert_eq!(r.code, 1, "redact exits 1; stderr: {}", r.stderr);
    let d = &docs[0];
    let phones: Vec<&Found> = d.findings.iter().filter(|f| f.kind == "phone").collect();
    assert_eq!(phones.len(), 2, "{:#?}", d.findings);

    for (f, value, line) in [(phones[0], PHONE_FW, 2), (phones[1], PHONE, 3)] {
        assert_eq!(
            char_slice(&text, f.start, f.end),
            value,
            "chars [{}, {}) of the text",
            f.start,
            f.end
        );
        assert_eq!(
            &text[f.byte_start..f.byte_end],
            value,
            "bytes [{}, {}) of the text",
            f.byte_start,
            f.byte_end
        );
        assert_eq!(text[..f.byte_start].chars().count(), f.start);
        assert_eq!(f.line, line);
        let line_start = text[..f.byte_start].rfind('\n').map_or(0, |i| i + 1);
        assert_eq!(
            f.column,
            text[line_start..f.byte_start].chars().count() + 1,
            "1-based column in chars"
        );
    }
}

#[test]
fn excerpts_never_hold_the_value() {
    let dir = TempDir::new().unwrap();
    let text = format!("{}\n另，联系电话{PHONE_FW}（全角）。\n", doc_redact());
    let p = write(dir.path(), "x.txt", &text);
    let (_, docs) = screen_jsonl(&[os(&p)]);
    let d = &docs[0];
    assert!(d.findings.len() >= 4, "{:#?}", d.findings);
    for f in &d.findings {
        for v in [
            PHONE,
            PHONE_FW,
            ID,
            EMAIL,
            "139123",
            "１３９１２３",
            "wang.xiaoyu",
            "example.com",
            "19910101",
        ] {
            assert!(
                !f.excerpt.contains(v),
                "excerpt {:?} of {} holds {v:?}",
                f.excerpt,
                f.rule
            );
        }
        assert!(
            f.excerpt.contains('■'),
            "value masked in the excerpt: {:?}",
            f.excerpt
        );
    }
    // And no other field carries the values either.
    let r = run(mishen().args(["screen", "--format", "jsonl"]).arg(&p));
    for v in [PHONE, PHONE_FW, ID, EMAIL] {
        assert!(!r.stdout.contains(v), "output holds {v:?}: {}", r.stdout);
    }
}

// ---------------------------------------------------------------------------
// Exit codes and --fail-on.
// ---------------------------------------------------------------------------

#[test]
fn exit_codes_follow_the_worst_verdict() {
    let dir = TempDir::new().unwrap();
    let publish = write(dir.path(), "p.txt", DOC_PUBLISH);
    let redact = write(dir.path(), "r.txt", doc_redact());
    let withhold = write(dir.path(), "w.txt", DOC_WITHHOLD);
    for (args, code) in [
        (vec![&publish], 0),
        (vec![&redact], 1),
        (vec![&withhold], 3),
        (vec![&publish, &redact], 1),
        (vec![&redact, &withhold, &publish], 3),
    ] {
        for format in ["text", "jsonl"] {
            let r = run(mishen().args(["screen", "--format", format]).args(&args));
            assert_eq!(
                r.code, code,
                "{format} {args:?}: stdout {}\nstderr {}",
                r.stdout, r.stderr
            );
        }
    }
}

#[test]
fn exit_2_on_missing_path_and_bad_flags() {
    let dir = TempDir::new().unwrap();
    let publish = write(dir.path(), "p.txt", DOC_PUBLISH);
    let missing = dir.path().join("no-such-file.txt");

    let r = run(mishen().arg("screen").arg(&missing));
    assert_eq!(r.code, 2, "nonexistent path: {}", r.stderr);
    assert!(
        r.stderr.contains("no-such-file.txt"),
        "the error names the path: {}",
        r.stderr
    );

    let r = run(mishen().arg("screen").arg(&publish).arg(&missing));
    assert_eq!(
        r.code, 2,
        "an I/O error wins over a clean verdict: {}",
        r.stderr
    );

    let file = publish.to_str().unwrap();
    for bad in [
        vec!["screen", "--format", "xml", file],
        vec!["screen", "--fail-on", "sometimes", file],
        vec!["screen", "--no-such-flag", file],
        vec!["screen"],
        vec!["no-such-command", file],
    ] {
        let r = run(mishen().args(&bad));
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert!(!r.stderr.is_empty(), "{bad:?} explains itself on stderr");
        assert!(r.stdout.is_empty(), "{bad:?} screens nothing: {}", r.stdout);
    }
}

#[test]
fn fail_on_sets_the_threshold() {
    let dir = TempDir::new().unwrap();
    let publish = write(dir.path(), "p.txt", DOC_PUBLISH);
    let redact = write(dir.path(), "r.txt", doc_redact());
    let withhold = write(dir.path(), "w.txt", DOC_WITHHOLD);
    let cases: &[(&str, &Path, i32)] = &[
        ("redact", &publish, 0),
        ("redact", &redact, 1),
        ("redact", &withhold, 3),
        ("withhold", &publish, 0),
        ("withhold", &redact, 0),
        ("withhold", &withhold, 3),
        ("never", &publish, 0),
        ("never", &redact, 0),
        ("never", &withhold, 0),
    ];
    for (fail_on, path, code) in cases {
        let r = run(mishen()
            .args(["screen", "--format", "jsonl", "--fail-on", fail_on])
            .arg(path));
        assert_eq!(
            r.code,
            *code,
            "--fail-on {fail_on} {}: {}",
            path.display(),
            r.stderr
        );
        assert_eq!(
            parse_jsonl(&r.stdout).len(),
            1,
            "the report is written whatever the exit code"
        );
    }
    // Mixed: withhold threshold, worst verdict withhold.
    let r = run(mishen()
        .args(["screen", "--fail-on", "withhold"])
        .arg(&redact)
        .arg(&withhold));
    assert_eq!(r.code, 3);
    // never still reports usage errors.
    let r = run(mishen()
        .args(["screen", "--fail-on", "never"])
        .arg(dir.path().join("missing.txt")));
    assert_eq!(r.code, 2);
}

// ---------------------------------------------------------------------------
// --redact-to.
// ---------------------------------------------------------------------------

#[test]
fn redact_to_mirrors_paths_and_preserves_length() {
    let input = TempDir::new().unwrap();
    let other = TempDir::new().unwrap();
    let out = TempDir::new().unwrap();
    let dest = out.path().join("redacted");
    let red = doc_redact();
    write(input.path(), "top.txt", &red);
    write(input.path(), "sub/clean.txt", DOC_PUBLISH);
    let deep = format!("深层目录文件\n联系电话 {}\n", "139 1234 5678");
    write(input.path(), "sub/deeper/deep.md", &deep);
    write(input.path(), "sub/classified.txt", DOC_WITHHOLD);
    let single_text = format!("单独文件，手机{PHONE_FW}。\n");
    let single = write(other.path(), "nested/single.txt", &single_text);

    let r = run(mishen()
        .args([
            "screen",
            "--format",
            "jsonl",
            "--fail-on",
            "never",
            "--redact-to",
        ])
        .arg(&dest)
        .arg(input.path())
        .arg(&single));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(parse_jsonl(&r.stdout).len(), 5);

    let check = |rel: &str, original: &str, gone: &[&str]| {
        let p = dest.join(rel);
        let got = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{} written: {e}", p.display()));
        assert_eq!(
            got.chars().count(),
            original.chars().count(),
            "{rel}: same number of chars\n{got}"
        );
        for v in gone {
            assert!(!got.contains(v), "{rel} still holds {v:?}:\n{got}");
        }
        got
    };
    let top = check("top.txt", &red, &[PHONE, ID, EMAIL]);
    assert!(top.contains('■'));
    assert!(
        top.contains("关于办理政府信息公开申请的答复"),
        "text around the values is kept:\n{top}"
    );
    let clean = check("sub/clean.txt", DOC_PUBLISH, &[]);
    assert_eq!(clean, DOC_PUBLISH, "a clean document is copied unchanged");
    let d = check(
        "sub/deeper/deep.md",
        &deep,
        &["139 1234 5678", "1234", "5678"],
    );
    assert!(
        !d.chars().any(|c| c.is_ascii_digit()),
        "every digit of the grouped number masked: {d}"
    );
    assert!(d.starts_with("深层目录文件\n联系电话 ■"), "{d}");
    // A file argument goes to DIR/<file name>, not to its full path.
    check("single.txt", &single_text, &[PHONE_FW, "１３９"]);
    assert!(
        !dest.join("nested").exists(),
        "file argument's own directories are not mirrored"
    );
    // Withheld documents are never written.
    assert!(
        !dest.join("sub/classified.txt").exists(),
        "withheld document written to the redaction directory"
    );

    let mut written = BTreeSet::new();
    for e in walkdir::WalkDir::new(&dest) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            written.insert(
                e.path()
                    .strip_prefix(&dest)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
    let want: BTreeSet<String> = [
        "top.txt",
        "sub/clean.txt",
        "sub/deeper/deep.md",
        "single.txt",
        "mishen-manifest.jsonl",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(written, want);
}

#[test]
fn redact_to_skips_unreadable_documents() {
    let input = TempDir::new().unwrap();
    let dest = TempDir::new().unwrap();
    write(input.path(), "bad.txt", b"\xe6\x96\x87\xff\xfe");
    write(input.path(), "report.docx", b"PK\x03\x04 not really a docx");
    let r = run(mishen()
        .args(["screen", "--fail-on", "never", "--redact-to"])
        .arg(dest.path())
        .arg(input.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        fs::read_dir(dest.path()).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>(),
        ["mishen-manifest.jsonl"],
        "nothing written for unreadable documents but the manifest"
    );
}

// ---------------------------------------------------------------------------
// Inputs: stdin, directories, files that are not text.
// ---------------------------------------------------------------------------

#[test]
fn stdin_is_a_document() {
    let r = mishen()
        .args(["screen", "--format", "jsonl", "-"])
        .write_stdin(doc_redact())
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let docs = parse_jsonl(std::str::from_utf8(&r.stdout).unwrap());
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].path, "-");
    assert_eq!(docs[0].verdict, "redact");
    assert_eq!(
        docs[0].content_sha256,
        mishen::screen::sha256_hex(doc_redact().as_bytes())
    );
    let phone = docs[0]
        .findings
        .iter()
        .find(|f| f.kind == "phone")
        .expect("phone on stdin");
    assert_eq!(char_slice(&doc_redact(), phone.start, phone.end), PHONE);

    let r = mishen()
        .args(["screen", "--format", "jsonl", "-"])
        .write_stdin(DOC_WITHHOLD)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(3));
    let r = mishen()
        .args(["screen", "-"])
        .write_stdin(DOC_PUBLISH)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0));
}

#[test]
fn directories_are_walked_recursively() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", DOC_PUBLISH);
    write(dir.path(), "x/b.txt", doc_redact());
    write(dir.path(), "x/y/z/c.md", DOC_WITHHOLD);
    write(dir.path(), "x/y/empty.txt", "");
    let (r, docs) = screen_jsonl(&[os(dir.path())]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        docs.len(),
        4,
        "{:#?}",
        docs.iter().map(|d| &d.path).collect::<Vec<_>>()
    );
    assert_eq!(doc_for(&docs, "a.txt").verdict, "publish");
    assert_eq!(doc_for(&docs, "b.txt").verdict, "redact");
    assert_eq!(doc_for(&docs, "c.md").verdict, "withhold");
    // Nothing to screen is never a clearance: withheld as unreadable.
    let empty = doc_for(&docs, "empty.txt");
    assert_eq!(empty.verdict, "withhold");
    assert!(empty.reasons.iter().any(|r| r.summary.contains("no text to screen")), "{:?}", empty.reasons);
    for d in &docs {
        assert!(
            Path::new(&d.path).exists(),
            "reported path is the file's path: {}",
            d.path
        );
    }
}

#[test]
fn non_text_files_are_withheld_as_unreadable_never_skipped() {
    let dir = TempDir::new().unwrap();
    let docx = write(
        dir.path(),
        "docs/report.docx",
        b"PK\x03\x04\x14\x00\x06\x00word/document.xml",
    );
    write(dir.path(), "docs/blob.bin", [0u8, 1, 2, 3, 255, 254]);
    write(dir.path(), "docs/noext", "申请人联系电话13912345678");
    write(dir.path(), "docs/ok.txt", DOC_PUBLISH);
    let (r, docs) = screen_jsonl(&[os(&dir.path().join("docs"))]);
    assert_eq!(r.code, 4, "unreadable means withhold, exit 4: {}", r.stderr);
    assert_eq!(
        docs.len(),
        4,
        "no file skipped: {:#?}",
        docs.iter().map(|d| &d.path).collect::<Vec<_>>()
    );
    for name in ["report.docx", "blob.bin", "noext"] {
        let d = doc_for(&docs, name);
        assert_eq!(d.verdict, "withhold", "{name}");
        assert!(d.findings.is_empty(), "{name}: {:#?}", d.findings);
        let u = unreadable_reason(d);
        assert_eq!(u.action, "withhold");
        assert!(u.summary.contains("unreadable"), "{u:?}");
    }
    assert_eq!(doc_for(&docs, "ok.txt").verdict, "publish");
    // A file argument too, not only a directory entry.
    let (r, docs) = screen_jsonl(&[os(&docx)]);
    assert_eq!(r.code, 4);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].verdict, "withhold");
    assert!(docs[0].content_sha256 == mishen::screen::sha256_hex(&fs::read(&docx).unwrap()));
    unreadable_reason(&docs[0]);
}

#[test]
fn invalid_utf8_is_withheld_naming_the_byte_offset() {
    let dir = TempDir::new().unwrap();
    let mut bytes = "正常文字".as_bytes().to_vec(); // 12 bytes
    bytes.extend_from_slice(b"\xff\xfe");
    bytes.extend_from_slice("，联系电话13912345678。".as_bytes());
    let p = write(dir.path(), "latin.txt", &bytes);
    let (r, docs) = screen_jsonl(&[os(&p)]);
    assert_eq!(r.code, 4);
    let d = &docs[0];
    assert_eq!(d.verdict, "withhold");
    assert!(d.findings.is_empty());
    let u = unreadable_reason(d);
    assert!(
        u.summary.contains("12"),
        "reason names byte offset 12: {u:?}"
    );
    assert!(u.summary.contains("byte"), "{u:?}");
    assert!(u.summary.contains("UTF-8"), "{u:?}");
    assert_eq!(d.content_sha256, mishen::screen::sha256_hex(&bytes));
}

// ---------------------------------------------------------------------------
// Text format.
// ---------------------------------------------------------------------------

#[test]
fn text_format_has_a_summary_line_and_no_values() {
    let dir = TempDir::new().unwrap();
    let a = write(dir.path(), "a.txt", doc_redact());
    let b = write(dir.path(), "b.txt", DOC_WITHHOLD);
    let c = write(dir.path(), "c.txt", DOC_PUBLISH);
    let bad = write(dir.path(), "d.bin", b"\x00\x01");
    let r = run(mishen()
        .args(["screen", "--format", "text"])
        .args([&a, &b, &c, &bad]));
    assert_eq!(r.code, 3);
    let last = r.stdout.lines().last().expect("output");
    assert!(
        last.starts_with("4 document(s): 1 publish, 1 redact, 2 withhold (1 unreadable);"),
        "summary line: {last}"
    );
    assert!(last.contains("finding(s)"), "{last}");
    for p in [&a, &b, &c, &bad] {
        assert!(
            r.stdout.contains(p.to_str().unwrap()),
            "{} listed:\n{}",
            p.display(),
            r.stdout
        );
    }
    for v in [PHONE, ID, EMAIL] {
        assert!(
            !r.stdout.contains(v),
            "value {v:?} in the text report:\n{}",
            r.stdout
        );
    }
    // Default format is text.
    let r = run(mishen().arg("screen").arg(&c));
    assert!(
        r.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("1 document(s): 1 publish"),
        "{}",
        r.stdout
    );
}

#[test]
fn no_document_text_on_stderr() {
    let dir = TempDir::new().unwrap();
    let term = "青鸾计划";
    let rules = TempDir::new().unwrap();
    write(
        rules.path(),
        "lexicons/secret_terms.txt",
        format!("{term}\n"),
    );
    let a = write(dir.path(), "a.txt", doc_redact());
    let b = write(
        dir.path(),
        "b.txt",
        format!("{DOC_WITHHOLD}{term}进展顺利。\n"),
    );
    let c = write(dir.path(), "c.txt", DOC_PUBLISH);
    let mut bad = "无效编码".as_bytes().to_vec();
    bad.push(0xff);
    let d = write(dir.path(), "d.txt", bad);
    let e = write(dir.path(), "e.docx", "申请人联系电话13912345678");
    let missing = dir.path().join("missing.txt");
    for format in ["text", "jsonl"] {
        let r = run(mishen()
            .env("MISHEN_LOG", "trace")
            .args(["screen", "--format", format, "--rules"])
            .arg(rules.path())
            .args([&a, &b, &c, &d, &e, &missing]));
        assert_eq!(r.code, 2, "missing file: {}", r.stderr);
        for v in [
            PHONE,
            ID,
            EMAIL,
            term,
            "申请人",
            "机密",
            "通告",
            "无效编码",
            "宁波",
        ] {
            assert!(
                !r.stderr.contains(v),
                "{format}: stderr holds {v:?}:\n{}",
                r.stderr
            );
        }
        let han = r
            .stderr
            .chars()
            .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
            .collect::<String>();
        assert!(
            han.is_empty(),
            "{format}: Han characters on stderr: {han:?}\n{}",
            r.stderr
        );
    }
}

// ---------------------------------------------------------------------------
// Rule packs: `rules check` and `--rules DIR`.
// ---------------------------------------------------------------------------

fn keyword_rule(id: &str, keyword: &str, examples: &[&str], negatives: &[&str]) -> String {
    let list = |v: &[&str]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "[[rule]]\nid = \"{id}\"\ncategory = \"state_secret\"\nkind = \"secret_term\"\naction = \"withhold\"\n\
         basis = \"《中华人民共和国政府信息公开条例》第十四条\"\ndescription = \"test rule\"\n\
         matcher = {{ keywords = [\"{keyword}\"] }}\nexamples = [{}]\nnegative_examples = [{}]\n\n",
        list(examples),
        list(negatives)
    )
}

fn rules_check(dir: Option<&Path>) -> Run {
    let mut c = mishen();
    c.args(["rules", "check"]);
    if let Some(d) = dir {
        c.arg("--rules").arg(d);
    }
    run(&mut c)
}

#[test]
fn rules_check_passes_on_the_embedded_packs() {
    let r = rules_check(None);
    assert_eq!(
        r.code, 0,
        "embedded packs fail their own checks:\n{}\n{}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.starts_with("ok:"), "{}", r.stdout);
}

#[test]
fn rules_check_accepts_a_valid_extension_pack() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "extra.toml",
        keyword_rule(
            "test.ok",
            "玄鸟工程",
            &["关于玄鸟工程的安排"],
            &["关于玄鸟的安排"],
        ),
    );
    let r = rules_check(Some(dir.path()));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let list = run(mishen().args(["rules", "list", "--rules"]).arg(dir.path()));
    assert!(
        list.stdout.contains("test.ok"),
        "extension pack adds its rule:\n{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("pd.email"),
        "embedded packs stay:\n{}",
        list.stdout
    );
}

#[test]
fn rules_check_replaces_a_pack_with_the_same_file_name() {
    let dir = TempDir::new().unwrap();
    // Reusing an embedded id is fine when its file is replaced, not extended.
    write(
        dir.path(),
        "trade_secret.toml",
        keyword_rule("ts.mark.line", "玄鸟工程", &["关于玄鸟工程的安排"], &[]),
    );
    let r = rules_check(Some(dir.path()));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let list = run(mishen().args(["rules", "list", "--rules"]).arg(dir.path()));
    assert!(
        !list.stdout.contains("ts.tender_amount"),
        "replaced pack's other rules are gone:\n{}",
        list.stdout
    );
}

#[test]
fn rules_check_fails_on_a_duplicate_id() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "extra.toml",
        keyword_rule("pd.email", "玄鸟工程", &["关于玄鸟工程的安排"], &[]),
    );
    let r = rules_check(Some(dir.path()));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("pd.email") && r.stdout.contains("duplicate"),
        "{}",
        r.stdout
    );

    let dir = TempDir::new().unwrap();
    let twice = keyword_rule("test.twice", "玄鸟工程", &["关于玄鸟工程的安排"], &[]);
    write(dir.path(), "extra.toml", format!("{twice}{twice}"));
    let r = rules_check(Some(dir.path()));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("test.twice") && r.stdout.contains("duplicate"),
        "{}",
        r.stdout
    );
}

#[test]
fn rules_check_fails_on_an_invalid_regex() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "extra.toml",
        "[[rule]]\nid = \"test.bad_regex\"\ncategory = \"personal_data\"\nkind = \"phone\"\naction = \"redact\"\n\
         basis = \"b\"\ndescription = \"d\"\nmatcher = { regex = '(?P<v>[0-9]+' }\nexamples = [\"123\"]\n",
    );
    let r = rules_check(Some(dir.path()));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("test.bad_regex") && r.stdout.contains("regex"),
        "{}",
        r.stdout
    );
}

#[test]
fn rules_check_fails_on_an_example_that_does_not_fire() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "extra.toml",
        keyword_rule("test.silent", "玄鸟工程", &["这句话里没有那个词"], &[]),
    );
    let r = rules_check(Some(dir.path()));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("test.silent") && r.stdout.contains("does not fire"),
        "{}",
        r.stdout
    );
}

#[test]
fn rules_check_fails_on_a_negative_example_that_fires() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "extra.toml",
        keyword_rule(
            "test.loud",
            "玄鸟工程",
            &["关于玄鸟工程的安排"],
            &["玄鸟工程已经公开"],
        ),
    );
    let r = rules_check(Some(dir.path()));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("test.loud") && r.stdout.contains("negative example fires"),
        "{}",
        r.stdout
    );
}

#[test]
fn custom_secret_terms_withhold() {
    let rules = TempDir::new().unwrap();
    let term = "青鸾计划";
    write(
        rules.path(),
        "lexicons/secret_terms.txt",
        format!("# deployment list\n{term}\n白鹭-7号\n"),
    );
    let dir = TempDir::new().unwrap();
    let text = format!("关于{term}第二阶段工作的情况说明\n\n{term}进展顺利。\n");
    let p = write(dir.path(), "memo.txt", &text);

    let (r, docs) = screen_jsonl(&[os("--rules"), os(rules.path()), os(&p)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let d = &docs[0];
    assert_eq!(d.verdict, "withhold");
    let terms: Vec<&Found> = d
        .findings
        .iter()
        .filter(|f| f.kind == "secret_term")
        .collect();
    assert_eq!(terms.len(), 2, "{:#?}", d.findings);
    for f in &terms {
        assert_eq!(char_slice(&text, f.start, f.end), term);
        assert_eq!(
            (f.category.as_str(), f.action.as_str()),
            ("state_secret", "withhold")
        );
        assert!(
            !f.excerpt.contains(term),
            "secret term masked in the excerpt: {:?}",
            f.excerpt
        );
    }
    assert!(
        !r.stdout.contains(term),
        "the term appears nowhere in the report"
    );

    // Full-width ASCII in the document still matches a lexicon term with ASCII.
    let p2 = write(dir.path(), "memo2.txt", "白鹭－７号试验情况\n");
    let (_, docs) = screen_jsonl(&[os("--rules"), os(rules.path()), os(&p2)]);
    assert_eq!(docs[0].verdict, "withhold", "{:#?}", docs[0].findings);

    // The embedded packs do not know the term.
    let (r, docs) = screen_jsonl(&[os(&p)]);
    assert_eq!(r.code, 0, "{:#?}", docs[0].findings);
    assert_eq!(docs[0].verdict, "publish");
}

#[test]
fn rules_sha256_identifies_the_packs() {
    let dir = TempDir::new().unwrap();
    let p = write(dir.path(), "c.txt", DOC_PUBLISH);
    let sha = |rules: Option<&Path>| {
        let mut c = mishen();
        c.args(["screen", "--format", "jsonl"]);
        if let Some(d) = rules {
            c.arg("--rules").arg(d);
        }
        let r = run(c.arg(&p));
        parse_jsonl(&r.stdout).remove(0).rules_sha256
    };
    let r1 = TempDir::new().unwrap();
    write(r1.path(), "lexicons/secret_terms.txt", "青鸾计划\n");
    let r2 = TempDir::new().unwrap();
    write(r2.path(), "lexicons/secret_terms.txt", "青鸾计划二期\n");
    let r3 = TempDir::new().unwrap();
    write(
        r3.path(),
        "extra.toml",
        keyword_rule("test.ok", "玄鸟工程", &["关于玄鸟工程的安排"], &[]),
    );

    let embedded = sha(None);
    let s1 = sha(Some(r1.path()));
    let s2 = sha(Some(r2.path()));
    let s3 = sha(Some(r3.path()));
    assert!(is_hex64(&embedded));
    let all: BTreeSet<&String> = [&embedded, &s1, &s2, &s3].into_iter().collect();
    assert_eq!(
        all.len(),
        4,
        "every pack set has its own sha: {embedded} {s1} {s2} {s3}"
    );
    assert_eq!(sha(None), embedded, "stable across runs");
    assert_eq!(sha(Some(r1.path())), s1, "stable across runs");
    // An empty overlay directory changes nothing.
    let empty = TempDir::new().unwrap();
    assert_eq!(sha(Some(empty.path())), embedded);
    // `rules check` reports the same identity.
    let r = rules_check(None);
    assert!(r.stdout.contains(&embedded), "{}", r.stdout);
}

#[test]
fn oversized_inputs_are_withheld_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "big.txt", doc_redact());
    let (r, docs) = screen_jsonl(&[os("--max-size"), os("16"), p.as_os_str()]);
    assert_eq!(r.code, 4, "stderr: {}", r.stderr);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].verdict, "withhold");
    assert!(docs[0].findings.is_empty());
    assert!(unreadable_reason(&docs[0]).summary.contains("exceeds the limit of 16 bytes"));
    // The content hash is still that of the whole file, computed as a stream.
    assert_eq!(docs[0].content_sha256, mishen::screen::sha256_hex(doc_redact().as_bytes()));

    let r = mishen()
        .args(["screen", "--format", "jsonl", "--max-size", "16", "-"])
        .write_stdin(doc_redact())
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(4));
    let docs = parse_jsonl(std::str::from_utf8(&r.stdout).unwrap());
    assert_eq!(docs[0].verdict, "withhold");
    assert_eq!(docs[0].content_sha256, mishen::screen::sha256_hex(doc_redact().as_bytes()));

    // At the limit it is screened as usual.
    let n = doc_redact().len().to_string();
    let (r, docs) = screen_jsonl(&[os("--max-size"), os(&n), p.as_os_str()]);
    assert_eq!(r.code, 1);
    assert_eq!(docs[0].verdict, "redact");
}

// ---------------------------------------------------------------------------
// Baselines and allow-lists change the CI gate, never the decision (issue 11).
// ---------------------------------------------------------------------------

/// Every file below `dir`, relative path → bytes.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string(), fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The screening records of the audit log in `data`, in order: (verdict, reasons, findings).
fn audit_decisions(data: &Path) -> Vec<serde_json::Value> {
    let r = run(mishen().args(["audit", "export", "--data-dir"]).arg(data));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "screening")
        .map(|v| {
            let s = &v["screening"];
            serde_json::json!({"verdict": s["verdict"], "reasons": s["reasons"], "findings": s["findings"], "sha": s["document"]["content_sha256"]})
        })
        .collect()
}

/// One document per rule example of the embedded packs (every kind and every
/// mark), split by the verdict the library gives: (redact or publish, withhold).
fn one_document_per_rule(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>, String) {
    let s = mishen::Screener::embedded().unwrap();
    let (mut open, mut withheld, mut allow) = (Vec::new(), Vec::new(), String::new());
    let mut kinds = BTreeSet::new();
    for r in s.pack().rules.iter() {
        for (i, ex) in r.spec.examples.iter().enumerate() {
            let sc = s.screen(ex);
            if sc.findings.is_empty() {
                continue;
            }
            let withholds = sc.decision.verdict == mishen::Verdict::Withhold;
            let sub = if withholds { "withheld" } else { "open" };
            let p = write(dir, &format!("{sub}/{}-{i}.txt", r.id), format!("{ex}\n"));
            for f in &sc.findings {
                kinds.insert(f.kind.as_str());
                if f.action != mishen::rules::model::Action::Withhold {
                    allow.push_str(&format!("{}: {}\n", f.kind.as_str(), &ex[f.span.start..f.span.end]));
                }
            }
            if withholds { withheld.push(p) } else { open.push(p) }
        }
    }
    for k in ["phone", "resident_id", "bank_card", "person_name", "address", "email", "classification_mark", "trade_secret_mark", "secret_term"] {
        assert!(kinds.contains(k), "the rule examples cover {k}: {kinds:?}");
    }
    (open, withheld, allow)
}

#[test]
fn baselines_and_allow_lists_change_the_exit_status_never_the_redaction_or_the_record() {
    let dir = TempDir::new().unwrap();
    let (open, withheld, allow) = one_document_per_rule(&dir.path().join("in"));
    assert!(!open.is_empty() && !withheld.is_empty());
    let key = write(dir.path(), "key", "a-ci-secret-of-sufficient-length");
    let allow = write(dir.path(), "allow.txt", allow);
    let bl = dir.path().join("baseline.json");
    for (sub, plain_code) in [("open", 1), ("withheld", 3)] {
        let input = dir.path().join("in").join(sub);
        let data = dir.path().join(format!("data-{sub}"));
        let screen = |out: &str, extra: &[&std::ffi::OsStr]| -> (Run, Vec<serde_json::Value>) {
            let r = run(mishen()
                .args(["screen", "--format", "jsonl", "--baseline-key"])
                .arg(&key)
                .arg("--data-dir")
                .arg(&data)
                .arg("--redact-to")
                .arg(dir.path().join(out))
                .args(extra)
                .arg(&input));
            let docs = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            (r, docs)
        };
        let (plain, plain_docs) = screen(&format!("{sub}-plain"), &[os("--write-baseline"), bl.as_os_str()]);
        assert_eq!(plain.code, plain_code, "{}", plain.stderr);
        let (based, based_docs) = screen(&format!("{sub}-baselined"), &[os("--baseline"), bl.as_os_str()]);
        let (allowed, allowed_docs) = screen(&format!("{sub}-allowed"), &[os("--allow"), allow.as_os_str()]);
        // The CI gate: every redact finding is covered, no withhold finding can be.
        let gate_code = if sub == "open" { 0 } else { 3 };
        assert_eq!(based.code, gate_code, "{}", based.stderr);
        let uncovered: Vec<String> = allowed.stdout.lines().flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["findings"].as_array().unwrap().iter().filter(|f| f["action"] == "redact" && f["allow_listed"] != true).map(|f| format!("{} {}", f["rule"], f["excerpt"])).collect::<Vec<_>>()
        }).collect();
        assert_eq!(allowed.code, gate_code, "{}\n{uncovered:#?}", allowed.stderr);
        // The redacted copies are byte-identical (withheld documents: none at all).
        let plain_tree = tree(&dir.path().join(format!("{sub}-plain")));
        assert_eq!(plain_tree.keys().all(|k| k == "mishen-manifest.jsonl"), sub == "withheld");
        assert_eq!(tree(&dir.path().join(format!("{sub}-baselined"))), plain_tree);
        assert_eq!(tree(&dir.path().join(format!("{sub}-allowed"))), plain_tree);
        // The reports keep verdict, reasons and actions, and flag what is covered.
        for (docs, flag) in [(&based_docs, "baselined"), (&allowed_docs, "allow_listed")] {
            assert_eq!(docs.len(), plain_docs.len());
            for (d, p) in docs.iter().zip(&plain_docs) {
                for field in ["path", "verdict", "reasons"] {
                    assert_eq!(d[field], p[field], "{field} of {}", p["path"]);
                }
                let (df, pf) = (d["findings"].as_array().unwrap(), p["findings"].as_array().unwrap());
                assert_eq!(df.len(), pf.len(), "{}: no finding dropped", p["path"]);
                for (f, g) in df.iter().zip(pf) {
                    assert_eq!((&f["rule"], &f["action"], &f["start"], &f["excerpt"]), (&g["rule"], &g["action"], &g["start"], &g["excerpt"]));
                    let covered = f[flag] == true;
                    assert_eq!(covered, f["action"] == "redact", "{}: {} {flag}", p["path"], f["rule"]);
                }
                if p["verdict"] == "redact" {
                    assert_eq!(d["gate"], "publish", "{}", p["path"]);
                }
            }
        }
        // The audit records are the same decisions, finding for finding.
        let recs = audit_decisions(&data);
        let n = plain_docs.len();
        assert_eq!(recs.len(), 3 * n);
        assert_eq!(recs[..n], recs[n..2 * n], "baselined run recorded the same decisions");
        assert_eq!(recs[..n], recs[2 * n..], "allow-listed run recorded the same decisions");
        if sub == "withheld" {
            assert!(recs.iter().all(|r| r["verdict"] == "withhold"));
            let saved: serde_json::Value = serde_json::from_slice(&fs::read(&bl).unwrap()).unwrap();
            let s = mishen::Screener::embedded().unwrap();
            for e in saved["findings"].as_array().unwrap() {
                let rule = s.pack().rules.iter().find(|r| *r.id == *e["rule"].as_str().unwrap()).unwrap();
                assert_ne!(rule.action, mishen::rules::model::Action::Withhold, "--write-baseline wrote {e}");
            }
        }
    }
}

#[test]
fn baseline_or_allow_list_entries_for_withholding_findings_are_errors_naming_them() {
    let dir = TempDir::new().unwrap();
    let doc = write(dir.path(), "secret.txt", DOC_WITHHOLD);
    let key = write(dir.path(), "key", "a-ci-secret-of-sufficient-length");
    let s = mishen::Screener::embedded().unwrap();
    let mark = s.screen(DOC_WITHHOLD).findings.into_iter().find(|f| f.kind.as_str() == "classification_mark").unwrap();
    let fp = format!("{}:00112233445566778899aabbccddeeff:{}", mark.rule, "ab".repeat(32));
    let bl = write(
        dir.path(),
        "bl.json",
        format!(r#"{{"version": "mishen-baseline/1", "findings": [{{"fingerprint": "{fp}", "rule": "{}", "kind": "classification_mark", "path": "x"}}]}}"#, mark.rule),
    );
    let r = run(mishen().args(["screen", "--baseline-key"]).arg(&key).arg("--baseline").arg(&bl).arg(&doc));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("bl.json: entry 1") && r.stderr.contains(&*mark.rule) && r.stderr.contains(&fp), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "refused before anything is screened");
    for (list, line) in [("# ok\n0574-87123456\n机密★5年\n", 3), ("trade_secret_mark: 核心商密", 1)] {
        let allow = write(dir.path(), "allow.txt", list);
        let r = run(mishen().args(["screen", "--allow"]).arg(&allow).arg(&doc));
        assert_eq!(r.code, 2, "{list:?}: {}", r.stdout);
        assert!(r.stderr.contains(&format!("allow.txt:{line}: rule ")) && r.stderr.contains("withholds"), "{}", r.stderr);
        assert!(!r.stderr.contains("机密★"), "names the line, not the value: {}", r.stderr);
    }
}

// ---------------------------------------------------------------------------
// --redact-to: collisions, stale copies, the manifest (issue 11).
// ---------------------------------------------------------------------------

fn manifest(out: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(out.join("mishen-manifest.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn redact_to_refuses_two_inputs_with_one_output_path_before_writing_anything() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a/x.txt", doc_redact());
    write(dir.path(), "a/y.txt", DOC_PUBLISH);
    write(dir.path(), "b/x.txt", DOC_PUBLISH);
    write(dir.path(), "c/n.md", DOC_PUBLISH);
    let out = dir.path().join("out");
    for args in [vec![dir.path().join("a"), dir.path().join("b")], vec![dir.path().join("a/x.txt"), dir.path().join("b/x.txt")]] {
        let r = run(mishen().args(["screen", "--redact-to"]).arg(&out).args(&args));
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("a/x.txt and ") && r.stderr.contains("b/x.txt both map to"), "{}", r.stderr);
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "nothing written, not even a staging directory");
    }
    // Distinct paths are fine, and the manifest lists every input.
    let r = run(mishen().args(["screen", "--redact-to"]).arg(&out).arg(dir.path().join("a")).arg(dir.path().join("c")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m = manifest(&out);
    let got: Vec<(&str, &str, &str)> = m.iter().map(|e| (e["verdict"].as_str().unwrap(), e["status"].as_str().unwrap(), e["output"].as_str().unwrap())).collect();
    assert_eq!(got, [("redact", "written", "x.txt"), ("publish", "written", "y.txt"), ("publish", "written", "n.md")]);
    assert_eq!(m[0]["output_sha256"], mishen::screen::sha256_hex(&fs::read(out.join("x.txt")).unwrap()));
}

#[test]
fn redact_to_removes_the_stale_copy_of_a_document_now_withheld_and_lists_why() {
    let dir = TempDir::new().unwrap();
    let doc = write(dir.path(), "in/doc.txt", doc_redact());
    write(dir.path(), "in/keep.txt", DOC_PUBLISH);
    write(dir.path(), "in/scan.jpg", b"\xff\xd8\xff");
    let out = dir.path().join("out");
    let r = run(mishen().args(["screen", "--fail-on", "never", "--redact-to"]).arg(&out).arg(dir.path().join("in")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.join("doc.txt").exists() && out.join("keep.txt").exists());
    // A stale copy from an older release of a document that is now unreadable.
    fs::write(out.join("scan.jpg.txt"), "old copy").unwrap();
    fs::write(&doc, DOC_WITHHOLD).unwrap();
    let r = run(mishen().args(["screen", "--fail-on", "never", "--redact-to"]).arg(&out).arg(dir.path().join("in")).arg(dir.path().join("missing.txt")));
    assert_eq!(r.code, 2, "the missing path is an error: {}", r.stderr);
    assert!(!out.join("doc.txt").exists(), "the withheld document's old copy is gone");
    assert!(!out.join("scan.jpg.txt").exists());
    assert!(out.join("keep.txt").exists());
    let m = manifest(&out);
    let by = |suffix: &str| m.iter().find(|e| e["path"].as_str().unwrap().ends_with(suffix)).unwrap_or_else(|| panic!("{suffix} in {m:?}"));
    assert_eq!((&by("doc.txt")["status"], &by("doc.txt")["verdict"], &by("doc.txt")["removed_stale"]), (&"withheld".into(), &"withhold".into(), &true.into()));
    assert!(by("doc.txt").get("output").is_none());
    assert_eq!(by("scan.jpg")["status"], "unreadable");
    assert!(by("scan.jpg")["reason"].as_str().unwrap().starts_with("unreadable: "));
    assert_eq!((&by("missing.txt")["status"], &by("missing.txt")["verdict"]), (&"error".into(), &serde_json::Value::Null));
    assert_eq!(by("keep.txt")["status"], "written");
    let text = fs::read_to_string(out.join("mishen-manifest.jsonl")).unwrap();
    for secret in [PHONE, ID, "机密", "某局", "宁波市"] {
        assert!(!text.contains(secret), "no document text in the manifest: {secret}");
    }
}

#[test]
fn redact_to_never_writes_outside_its_directory() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let r = mishen().args(["screen", "--stdin-name", "../escaped.txt", "--redact-to"]).arg(&out).arg("-").write_stdin(doc_redact()).output().unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!dir.path().join("escaped.txt").exists());
    assert_eq!(manifest(&out)[0]["status"], "error");
}
