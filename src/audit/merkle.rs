//! RFC 9162 Merkle tree over record hashes, inclusion and consistency proofs, and
//! C2SP `tlog-checkpoint` notes signed in the C2SP `signed-note` form.
//!
//! Leaves are record hashes, which already carry the 0x00 leaf prefix
//! (`SHA-256(0x00 || canonical record)`); interior nodes are
//! `SHA-256(0x01 || left || right)`; the root of the empty tree is `SHA-256("")`.
//! The split point of `n > 1` leaves is the largest power of two below `n`.
//!
//! A checkpoint is the note
//!
//! ```text
//! <origin>\n<size>\n<base64 root hash>\n
//! ```
//!
//! followed by a blank line and one signature line
//! `— <origin> <base64(key hash[4] || Ed25519 signature[64])>\n`, where the key hash is
//! the first four bytes of `SHA-256(<origin> || "\n" || 0x01 || public key)` and the
//! signature covers the note text (the three lines, with their newlines).

use super::AuditError;
use super::keys::Signer;
use super::record::{b64, unb64};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// A 32-byte hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x01 || l || r)`.
pub fn node(l: &Hash, r: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

fn split(n: usize) -> usize {
    // Largest power of two strictly below n (n >= 2).
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The tree hash of `leaves`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest(b"").into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The RFC 9162 "compact range" of a tree's first `size` leaves: the hashes of
/// its perfect subtrees, left to right, one per set bit of `size` (largest first),
/// so at most `log2(size) + 1` hashes. Appending a leaf and computing the root
/// cost O(log size); [`Frontier::root`] always equals [`root`] of the same leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Frontier::default()
    }

    /// The frontier of `leaves` (one pass).
    pub fn from_leaves(leaves: &[Hash]) -> Self {
        let mut f = Frontier::new();
        f.extend(leaves);
        f
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree hashes, left (largest) to right.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        // Each trailing one bit of the old size is a perfect subtree of the same
        // height as the one being carried: merge them, like a binary counter.
        let mut s = self.size;
        while s & 1 == 1 {
            let l = self.hashes.pop().expect("one hash per set bit of size");
            h = node(&l, &h);
            s >>= 1;
        }
        self.hashes.push(h);
        self.size += 1;
    }

    /// Appends leaves in order.
    pub fn extend(&mut self, leaves: &[Hash]) {
        for l in leaves {
            self.push(*l);
        }
    }

    /// The tree hash, equal to [`root`] of the same leaves.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        match it.next() {
            None => Sha256::digest(b"").into(),
            Some(last) => it.fold(*last, |r, l| node(l, &r)),
        }
    }
}

/// The inclusion proof of leaf `m` (RFC 9162 §2.1.3.1); `None` if `m` is out of range.
pub fn inclusion_proof(m: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if m >= leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    path(m, leaves, &mut out);
    Some(out)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    let n = d.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &d[..k], out);
        out.push(root(&d[k..]));
    } else {
        path(m - k, &d[k..], out);
        out.push(root(&d[..k]));
    }
}

/// Hashes of the perfect subtrees of an append-only tree, from `2^height`
/// leaves up, kept as the tree grows, so that an inclusion proof reads
/// O(log n) hashes instead of all n leaves (which a long-running service
/// cannot afford once its log holds millions of records).
///
/// Level `j` holds the hash of every complete, aligned subtree of
/// `2^(height + j)` leaves, left to right; about `n / 2^height` hashes in all
/// (4 bytes per record at the default height 4). Subtrees smaller than that are
/// computed from leaves read on demand (at most `2^height` at a time).
#[derive(Debug, Clone)]
pub struct SubtreeCache {
    height: u32,
    size: u64,
    /// Leaves of the incomplete block after the last `2^height` boundary.
    pending: Vec<Hash>,
    levels: Vec<Vec<Hash>>,
}

/// Reads the leaf hashes `from..to` (all of them, or an error).
pub type LeafReader<'a> = dyn FnMut(u64, u64) -> Result<Vec<Hash>, AuditError> + 'a;

impl Default for SubtreeCache {
    fn default() -> Self {
        SubtreeCache::new(4)
    }
}

impl SubtreeCache {
    /// An empty cache keeping subtrees of `2^height` leaves and more.
    pub fn new(height: u32) -> Self {
        SubtreeCache { height: height.min(32), size: 0, pending: Vec::new(), levels: Vec::new() }
    }

    /// Number of leaves seen.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends leaves in order.
    pub fn extend(&mut self, leaves: &[Hash]) {
        let block = 1usize << self.height;
        for l in leaves {
            self.pending.push(*l);
            self.size += 1;
            if self.pending.len() == block {
                let h = root(&self.pending);
                self.pending.clear();
                self.carry(h);
            }
        }
    }

    fn carry(&mut self, mut h: Hash) {
        let mut j = 0;
        loop {
            if self.levels.len() == j {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[j];
            level.push(h);
            let n = level.len();
            if n % 2 == 1 {
                return;
            }
            h = node(&level[n - 2], &level[n - 1]);
            j += 1;
        }
    }

    /// The inclusion proof of leaf `m` in the tree of the first `n` leaves, the
    /// same as [`inclusion_proof`] of those leaves; `None` if `m >= n` or the
    /// cache has not seen `n` leaves yet.
    pub fn inclusion_proof(&self, m: u64, n: u64, leaves: &mut LeafReader<'_>) -> Result<Option<Vec<Hash>>, AuditError> {
        if m >= n || n > self.size {
            return Ok(None);
        }
        let mut out = Vec::new();
        let (mut a, mut b) = (0, n);
        // Top-down, as `path`; the siblings come out root-first, so reverse.
        while b - a > 1 {
            let k = split((b - a) as usize) as u64;
            if m < a + k {
                out.push(self.range_root(a + k, b, leaves)?);
                b = a + k;
            } else {
                out.push(self.range_root(a, a + k, leaves)?);
                a += k;
            }
        }
        out.reverse();
        Ok(Some(out))
    }

    /// The tree hash of leaves `a..b`, where `a` is a multiple of the largest
    /// power of two not above `b - a` (every range of the RFC 9162 recursion).
    fn range_root(&self, a: u64, b: u64, leaves: &mut LeafReader<'_>) -> Result<Hash, AuditError> {
        let n = b - a;
        if n >= 1 << self.height {
            if n.is_power_of_two() && a.is_multiple_of(n) {
                let h = n.trailing_zeros();
                if let Some(x) = self.levels.get((h - self.height) as usize).and_then(|l| l.get((a >> h) as usize)) {
                    return Ok(*x);
                }
            } else {
                let k = split(n as usize) as u64;
                return Ok(node(&self.range_root(a, a + k, leaves)?, &self.range_root(a + k, b, leaves)?));
            }
        }
        let ls = leaves(a, b)?;
        if ls.len() as u64 != n {
            return Err(AuditError::Store(format!("expected {n} record hashes from seq {a}, found {}", ls.len())));
        }
        Ok(root(&ls))
    }
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// The consistency proof between the first `m` leaves and all of `leaves`
/// (RFC 9162 §2.1.4.1); `None` if `m > leaves.len()`.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if m > leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    if m > 0 && m < leaves.len() {
        subproof(m, leaves, true, &mut out);
    }
    Some(out)
}

fn subproof(m: usize, d: &[Hash], b: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !b {
            out.push(root(d));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &d[..k], b, out);
        out.push(root(&d[k..]));
    } else {
        subproof(m - k, &d[k..], false, out);
        out.push(root(&d[..k]));
    }
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2).
pub fn verify_consistency(first: u64, second: u64, first_root: &Hash, second_root: &Hash, proof: &[Hash]) -> bool {
    if first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node(c, &fr);
            sr = node(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *first_root && sr == *second_root && sn == 0
}

/// A parsed, signature-checked checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Origin line.
    pub origin: String,
    /// Number of records.
    pub size: u64,
    /// Tree hash of the first `size` records.
    pub root: Hash,
}

/// The signed-note key hash of an Ed25519 key named `name`.
pub fn note_key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n\x01");
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

impl Checkpoint {
    /// The note text (three lines).
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, b64(&self.root))
    }

    /// The signed note.
    pub fn sign(&self, signer: &Signer) -> String {
        let body = self.body();
        let sig = signer.sign(body.as_bytes());
        let mut blob = note_key_hash(&self.origin, &signer.public()).to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        format!("{body}\n\u{2014} {} {}\n", self.origin, b64(&blob))
    }

    /// Parses a signed note strictly and checks its signature with `key`.
    pub fn open(note: &str, key: &VerifyingKey) -> Result<Checkpoint, AuditError> {
        let bad = |why: &str| AuditError::Checkpoint(why.to_owned());
        let (body, sigs) = note.split_once("\n\n").ok_or_else(|| bad("no blank line before the signatures"))?;
        let body = format!("{body}\n");
        let lines: Vec<&str> = body.lines().collect();
        if lines.len() != 3 {
            return Err(bad("the note must have exactly three lines: origin, size, root"));
        }
        let origin = lines[0].to_owned();
        super::keys::check_origin(&origin)?;
        let size: u64 = lines[1]
            .parse()
            .ok()
            .filter(|_| lines[1] == "0" || !lines[1].starts_with('0'))
            .ok_or_else(|| bad("size is not a decimal number"))?;
        let root: Hash = unb64(lines[2])
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("root is not 32 bytes of base64"))?;
        let want = note_key_hash(&origin, key);
        let mut ok = false;
        for line in sigs.split_terminator('\n') {
            let rest = line.strip_prefix("\u{2014} ").ok_or_else(|| bad("signature line does not start with an em dash"))?;
            let (name, sig) = rest.split_once(' ').ok_or_else(|| bad("malformed signature line"))?;
            let blob = unb64(sig).ok_or_else(|| bad("signature is not base64"))?;
            if name != origin || blob.len() != 68 || blob[..4] != want {
                continue;
            }
            let raw: [u8; 64] = blob[4..].try_into().map_err(|_| bad("signature is not 64 bytes"))?;
            ok = key.verify_strict(body.as_bytes(), &Signature::from_bytes(&raw)).is_ok();
            if !ok {
                return Err(bad("bad checkpoint signature"));
            }
        }
        if !note.ends_with('\n') || !ok {
            return Err(bad("no valid signature by the log key"));
        }
        Ok(Checkpoint { origin, size, root })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| super::super::record::record_hash(&[i as u8])).collect()
    }

    #[test]
    fn frontier_root_equals_root_for_every_size_to_300() {
        let l: Vec<Hash> = (0..300u32).map(|i| super::super::record::record_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::new();
        for n in 0..=300 {
            if n > 0 {
                f.push(l[n - 1]);
            }
            assert_eq!(f.size(), n as u64);
            assert_eq!(f.hashes().len(), n.count_ones() as usize, "n={n}");
            assert_eq!(f.root(), root(&l[..n]), "n={n}");
            assert_eq!(Frontier::from_leaves(&l[..n]), f, "n={n}");
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    /// RFC 6962 / certificate-transparency reference vectors (leaf data below).
    #[test]
    fn rfc6962_roots() {
        let data: [&[u8]; 8] = [
            b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let l: Vec<Hash> = data.iter().map(|d| super::super::record::record_hash(d)).collect();
        let want = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for (n, w) in want.iter().enumerate() {
            assert_eq!(hex::encode(root(&l[..n + 1])), *w, "size {}", n + 1);
        }
    }

    #[test]
    fn inclusion_every_leaf_every_size() {
        for n in 1..=33 {
            let l = leaves(n);
            let r = root(&l);
            for m in 0..n {
                let p = inclusion_proof(m, &l).unwrap();
                assert!(verify_inclusion(m as u64, n as u64, &l[m], &p, &r), "n={n} m={m}");
                assert!(!verify_inclusion(m as u64, n as u64, &l[(m + 1) % n], &p, &r) || n == 1);
                if !p.is_empty() {
                    let mut q = p.clone();
                    q[0][0] ^= 1;
                    assert!(!verify_inclusion(m as u64, n as u64, &l[m], &q, &r));
                }
            }
        }
    }

    #[test]
    fn subtree_cache_proofs_equal_full_proofs() {
        let all = leaves(150);
        for height in [0, 1, 2, 4, 6] {
            let mut c = SubtreeCache::new(height);
            for n in 1..=all.len() {
                c.extend(&all[n - 1..n]);
                for m in 0..n {
                    let mut rd = |a: u64, b: u64| -> Result<Vec<Hash>, AuditError> {
                        assert!(b as usize <= n, "reads past the tree");
                        Ok(all[a as usize..b as usize].to_vec())
                    };
                    let p = c.inclusion_proof(m as u64, n as u64, &mut rd).unwrap().unwrap();
                    assert_eq!(Some(p), inclusion_proof(m, &all[..n]), "height {height}, leaf {m} of {n}");
                }
                // Proofs in older trees still come out right.
                if n > 3 {
                    let p = c.inclusion_proof(1, 3, &mut |a, b| Ok(all[a as usize..b as usize].to_vec())).unwrap().unwrap();
                    assert_eq!(Some(p), inclusion_proof(1, &all[..3]));
                }
            }
            assert!(c.inclusion_proof(150, 150, &mut |_, _| Ok(Vec::new())).unwrap().is_none());
            assert!(c.inclusion_proof(0, 151, &mut |_, _| Ok(Vec::new())).unwrap().is_none());
        }
    }

    #[test]
    fn subtree_cache_reads_few_leaves_in_a_large_tree() {
        let n = 1 << 16;
        let all: Vec<Hash> = (0..n as u32).map(|i| super::super::record::record_hash(&i.to_be_bytes())).collect();
        let mut c = SubtreeCache::default();
        c.extend(&all);
        for m in [0, 1, 12345, n - 17, n - 1] {
            let mut read = 0;
            let p = c
                .inclusion_proof(m as u64, n as u64 - 5, &mut |a, b| {
                    read += b - a;
                    Ok(all[a as usize..b as usize].to_vec())
                })
                .unwrap();
            if m as u64 >= n as u64 - 5 {
                assert!(p.is_none());
                continue;
            }
            assert!(verify_inclusion(m as u64, n as u64 - 5, &all[m], &p.unwrap(), &root(&all[..n - 5])));
            assert!(read <= 64, "{read} leaves read for one proof");
        }
    }

    #[test]
    fn consistency_every_pair() {
        for n in 1..=33 {
            let l = leaves(n);
            let r2 = root(&l);
            for m in 0..=n {
                let r1 = root(&l[..m]);
                let p = consistency_proof(m, &l).unwrap();
                assert!(verify_consistency(m as u64, n as u64, &r1, &r2, &p), "m={m} n={n}");
                if m > 0 && m < n {
                    let mut bad = r1;
                    bad[5] ^= 0x40;
                    assert!(!verify_consistency(m as u64, n as u64, &bad, &r2, &p));
                }
            }
        }
    }

    #[test]
    fn checkpoint_round_trip_and_tamper() {
        let s = Signer::from_seed([7; 32]);
        let c = Checkpoint { origin: "mishen.audit/test".into(), size: 5, root: [9; 32] };
        let note = c.sign(&s);
        assert_eq!(Checkpoint::open(&note, &s.public()).unwrap(), c);
        for i in 0..note.len() {
            let mut b = note.clone().into_bytes();
            b[i] ^= 0x01;
            if let Ok(t) = String::from_utf8(b) {
                assert!(Checkpoint::open(&t, &s.public()).is_err(), "flip at {i}");
            }
        }
        let other = Signer::from_seed([8; 32]);
        assert!(Checkpoint::open(&note, &other.public()).is_err());
    }
}
