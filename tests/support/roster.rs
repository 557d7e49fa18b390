//! A deterministic finding-dense roster (names, mobile numbers, resident IDs),
//! shared by `tests/dense.rs` and `benches/finding_dense.rs`.

/// A roster of about `bytes` bytes, and how many lines of each kind it has:
/// (phones, resident IDs, names). Every line holds one or two findings.
pub fn roster(bytes: usize) -> (String, [usize; 3]) {
    const NAMES: [&str; 8] = ["王小明", "李华", "张伟", "刘芳", "陈静", "杨洋", "赵磊", "黄丽"];
    const PREFIXES: [&str; 6] = ["139", "138", "150", "186", "188", "177"];
    let mut seed: u64 = 42;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut out = String::with_capacity(bytes + 64);
    let mut counts = [0; 3];
    let mut i = 0;
    while out.len() < bytes {
        match i % 3 {
            0 => {
                let name = NAMES[next(8) as usize];
                let phone = format!("{}{:08}", PREFIXES[next(6) as usize], next(100_000_000));
                out.push_str(&format!("联系人{name}，联系电话：{phone}。\n"));
                counts[0] += 1;
                counts[2] += 1;
            }
            1 => {
                let body = format!("110101{:04}{:02}{:02}{:03}", 1950 + next(50), 1 + next(12), 1 + next(28), next(1000));
                let check = mishen::detect::validate::resident_id::check_char(body.as_bytes()) as char;
                out.push_str(&format!("身份证号码：{body}{check}\n"));
                counts[1] += 1;
            }
            _ => {
                out.push_str(&format!("联系人{}。\n", NAMES[next(8) as usize]));
                counts[2] += 1;
            }
        }
        i += 1;
    }
    (out, counts)
}
