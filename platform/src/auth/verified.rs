//! Tokens this process has already verified, so a caller's second request skips the
//! Ed25519 signature check, a large share of a cheap RPC's CPU (figures: the README's
//! benchmark section, "Measured choices").
//!
//! An entry is only ever made after a full verification, is keyed by the whole token (no
//! hash to collide), and answers only while the token is unexpired and the key that signed
//! it is still listed, so rotating a key out or letting a token lapse works as before.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

use super::Principal;

/// How many tokens each verifier remembers: the active callers of one replica. A token is
/// a few hundred bytes, so a full cache costs about a megabyte.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(2048).expect("non-zero");

#[derive(Debug, Clone)]
struct Verified {
    principal: Principal,
    kid: String,
    /// The token's `exp` plus the verifier's leeway: the last second it is accepted.
    accepted_until: u64,
}

/// A bounded, least-recently-used memory of verified tokens.
#[derive(Debug)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<LruCache<Box<str>, Verified>>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self {
            entries: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
}

impl VerifiedTokens {
    /// Returns what `token` verified to and the key id that signed it, if it is remembered
    /// and still unexpired at `now`; an expired entry is forgotten.
    pub(crate) fn lookup(&self, token: &str, now: u64) -> Option<(Principal, String)> {
        let mut entries = self.entries.lock().ok()?;
        let verified = entries.get(token)?;
        if now > verified.accepted_until {
            entries.pop(token);
            return None;
        }
        Some((verified.principal.clone(), verified.kid.clone()))
    }

    /// Remembers a token that has just passed full verification.
    pub(crate) fn remember(&self, token: &str, principal: &Principal, kid: String, accepted_until: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(
                token.into(),
                Verified {
                    principal: principal.clone(),
                    kid,
                    accepted_until,
                },
            );
        }
    }

    /// Forgets `token` (its key is no longer listed).
    pub(crate) fn forget(&self, token: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.pop(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_answers_until_its_last_second_and_is_then_forgotten() {
        let tokens = VerifiedTokens::default();
        tokens.remember("a.b.c", &Principal::Anonymous, "kid-1".to_owned(), 100);
        assert_eq!(
            tokens.lookup("a.b.c", 100),
            Some((Principal::Anonymous, "kid-1".to_owned()))
        );
        assert_eq!(tokens.lookup("a.b.c", 101), None);
        assert_eq!(tokens.lookup("a.b.c", 50), None, "an expired entry is dropped");
    }

    #[test]
    fn only_the_exact_token_matches() {
        let tokens = VerifiedTokens::default();
        tokens.remember("a.b.c", &Principal::Anonymous, "kid-1".to_owned(), 100);
        assert_eq!(tokens.lookup("a.b.d", 10), None);
        assert_eq!(tokens.lookup("a.b.c ", 10), None);
    }

    #[test]
    fn the_least_recently_used_token_is_dropped_past_capacity() {
        let tokens = VerifiedTokens::default();
        for index in 0..=CAPACITY.get() {
            tokens.remember(
                &format!("token-{index}"),
                &Principal::Anonymous,
                "kid".to_owned(),
                100,
            );
        }
        assert_eq!(tokens.lookup("token-0", 10), None);
        assert!(tokens.lookup(&format!("token-{}", CAPACITY.get()), 10).is_some());
    }
}
