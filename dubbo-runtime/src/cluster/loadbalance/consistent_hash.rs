//! Consistent hashing: the same key always goes to the same provider, and when providers
//! come or go only the keys near them move. The key is the first argument (the request
//! message's encoding) or, with `hash.attachment=NAME`, that metadata value. 160 virtual
//! nodes per provider, as Java Dubbo.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::BytesMut;

use super::LoadBalance;
use crate::cluster::provider::Provider;
use crate::invocation::{Body, Invocation};

const VIRTUAL_NODES: usize = 160;

/// FNV-1a, 64-bit: stable across platforms and releases.
fn fnv1a(data: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Final avalanche so nearby keys spread over the ring.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

#[derive(Debug)]
struct Ring {
    /// Identity of the provider set the ring was built for.
    members: Vec<String>,
    /// Sorted (point, provider key).
    points: Vec<(u64, String)>,
}

impl Ring {
    fn build(providers: &[Provider]) -> Ring {
        let mut points = Vec::with_capacity(providers.len() * VIRTUAL_NODES);
        for p in providers {
            for replica in 0..VIRTUAL_NODES {
                points.push((
                    fnv1a(format!("{}#{replica}", p.key()).as_bytes()),
                    p.key().to_owned(),
                ));
            }
        }
        points.sort_unstable();
        Ring {
            members: providers.iter().map(|p| p.key().to_owned()).collect(),
            points,
        }
    }

    fn lookup(&self, hash: u64) -> &str {
        let i = self.points.partition_point(|(point, _)| *point < hash);
        &self.points[i % self.points.len()].1
    }
}

/// Routes each key to a stable provider.
#[derive(Debug, Default)]
pub struct ConsistentHash {
    /// Metadata key to hash instead of the first argument.
    attachment: Option<String>,
    rings: Mutex<HashMap<&'static str, Ring>>,
}

impl ConsistentHash {
    /// Hashes the metadata value `key` instead of the request message.
    pub fn on_attachment(key: impl Into<String>) -> ConsistentHash {
        ConsistentHash {
            attachment: Some(key.into()),
            rings: Mutex::default(),
        }
    }

    fn key_of(&self, invocation: &Invocation) -> Vec<u8> {
        if let Some(name) = &self.attachment {
            return invocation
                .metadata()
                .as_headers()
                .get(name.as_str())
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default();
        }
        match invocation.body() {
            Body::Unary(payload) => {
                if let Some(value) = payload.as_hessian() {
                    return format!("{value:?}").into_bytes();
                }
                let mut buf = BytesMut::with_capacity(payload.protobuf_len());
                let _ = payload.encode_protobuf(&mut buf);
                buf.to_vec()
            }
            Body::Stream(_) => Vec::new(),
        }
    }
}

impl LoadBalance for ConsistentHash {
    fn select(&self, providers: &[Provider], invocation: &Invocation) -> usize {
        let hash = fnv1a(&self.key_of(invocation));
        let mut rings = self.rings.lock().unwrap_or_else(|e| e.into_inner());
        let ring = rings
            .entry(invocation.method().name)
            .or_insert_with(|| Ring::build(providers));
        let same = ring.members.len() == providers.len()
            && ring
                .members
                .iter()
                .zip(providers)
                .all(|(m, p)| m == p.key());
        if !same {
            *ring = Ring::build(providers);
        }
        let owner = ring.lookup(hash);
        providers.iter().position(|p| p.key() == owner).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;
    use crate::cluster::loadbalance::testing::{invocation, providers};

    static KEYS: [&[u8]; 8] = [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"];

    #[test]
    fn same_key_same_provider_and_little_movement() {
        let lb = ConsistentHash::default();
        let ps = providers(&[1, 1, 1, 1]);
        let first: Vec<usize> = KEYS
            .iter()
            .map(|k| lb.select(&ps, &invocation(k, Metadata::new())))
            .collect();
        let again: Vec<usize> = KEYS
            .iter()
            .map(|k| lb.select(&ps, &invocation(k, Metadata::new())))
            .collect();
        assert_eq!(first, again);
        assert!(
            first.iter().collect::<std::collections::HashSet<_>>().len() > 1,
            "keys spread: {first:?}"
        );
        // Remove provider 3: keys that were not on it stay where they were.
        let fewer = &ps[..3];
        for (k, &was) in KEYS.iter().zip(&first) {
            let now = lb.select(fewer, &invocation(k, Metadata::new()));
            if was != 3 {
                assert_eq!(now, was, "key {k:?} moved needlessly");
            }
        }
    }

    #[test]
    fn can_hash_an_attachment() {
        let lb = ConsistentHash::on_attachment("x-user");
        let ps = providers(&[1, 1, 1]);
        let mut md = Metadata::new();
        md.insert("x-user", "alice").unwrap();
        let a = lb.select(&ps, &invocation(b"one", md.clone()));
        let b = lb.select(&ps, &invocation(b"two", md));
        assert_eq!(a, b, "only the attachment matters");
    }
}
