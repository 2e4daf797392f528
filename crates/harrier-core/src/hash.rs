//! Hashing for hot per-item maps, where SipHash's cost shows in profiles (a few percent
//! of a 100k-sample scrape each time it runs).
//!
//! - [`FastHasher`]: the multiply-rotate scheme of rustc's `FxHasher`. Not
//!   collision-resistant against crafted input: use it where a collision only costs
//!   the party that crafted it (e.g. series of one scrape target), never for maps keyed
//!   by input from many sources that an attacker could degrade.
//! - [`U64Map`]: a map keyed by a `u64` that is already a hash; the key is used as is.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast, non-cryptographic hasher (see the module docs for when to use it).
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Hashes a `u64` key to itself (the key is already a hash).
#[derive(Debug, Default, Clone, Copy)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is expected; fold anything else in rather than panic.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by precomputed 64-bit hashes.
pub type U64Map<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// The [`FastHasher`] hash of `value`.
pub fn fast_hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    let mut h = FastHasher::default();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_inputs_hash_apart_and_maps_work() {
        let a = fast_hash(&("node_cpu_seconds_total", "cpu", "0", "mode", "idle"));
        let b = fast_hash(&("node_cpu_seconds_total", "cpu", "0", "mode", "user"));
        let c = fast_hash(&("node_cpu_seconds_total", "cpu", "0", "mode", "idle"));
        assert_ne!(a, b);
        assert_eq!(a, c);
        // Lengths are part of the hash: "ab"+"c" differs from "a"+"bc".
        assert_ne!(fast_hash(&("ab", "c")), fast_hash(&("a", "bc")));
        let mut map: U64Map<&str> = U64Map::default();
        map.insert(a, "idle");
        map.insert(b, "user");
        assert_eq!(map.get(&a), Some(&"idle"));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn many_series_do_not_collide() {
        let hashes: std::collections::HashSet<u64> = (0..200_000)
            .map(|i| fast_hash(&("bench_requests_total", "series", i.to_string())))
            .collect();
        assert_eq!(hashes.len(), 200_000);
    }
}
