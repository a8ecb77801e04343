//! The sessions of one server, in memory (a restart signs everyone out: they sign in again with a token).
//! A session is a random id (the cookie) naming the token's actor, the token (kept on the server, handed to
//! the API on the session's behalf), its expiry (the token's) and its CSRF token.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use base64::Engine;
use domain::Actor;

/// The most sessions kept at once; beyond it the one expiring first is dropped.
pub const SESSIONS_MAX: usize = 10_000;

/// A signed-in session.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who is signed in (the token's actor).
    pub actor: Actor,
    /// The token, handed to the API on the session's behalf (never sent back to the browser).
    pub token: String,
    /// When the token (and so the session) expires, Unix seconds.
    pub expires: i64,
    /// The session's CSRF token.
    pub csrf: String,
}

/// The sessions of one server.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for a verified token; returns its id.
    pub fn start(&self, actor: Actor, token: String, expires: i64, now: i64) -> String {
        let id = random_token();
        let session = Session { actor, token, expires, csrf: random_token() };
        let mut sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, session| session.expires > now);
        if sessions.len() >= SESSIONS_MAX
            && let Some(oldest) =
                sessions.iter().min_by_key(|(_, session)| session.expires).map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id.clone(), session);
        id
    }

    /// The live session `id` names (an expired one is forgotten and not answered).
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let mut sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        match sessions.get(id) {
            Some(session) if session.expires > now => Some(session.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    /// Forgets session `id` (sign-out).
    pub fn end(&self, id: &str) {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }
}

/// 32 random bytes, base64url without padding.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        engine::workload::staff(domain::Role::Bureau, domain::Jurisdiction::Guiyang)
    }

    #[test]
    fn a_session_ends_when_its_token_expires_and_at_sign_out() {
        let sessions = Sessions::default();
        let id = sessions.start(actor(), "token".into(), 1_000, 900);
        assert!(sessions.get(&id, 999).is_some());
        assert!(sessions.get(&id, 1_000).is_none(), "expired with its token");
        assert!(sessions.get(&id, 999).is_none(), "and forgotten");
        let id = sessions.start(actor(), "token".into(), 2_000, 900);
        sessions.end(&id);
        assert!(sessions.get(&id, 901).is_none(), "signed out");
        assert!(sessions.get("unknown", 901).is_none());
    }

    #[test]
    fn session_ids_and_csrf_tokens_are_random_and_distinct() {
        let sessions = Sessions::default();
        let a = sessions.start(actor(), "t".into(), 2_000, 0);
        let b = sessions.start(actor(), "t".into(), 2_000, 0);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 random bytes, base64url");
        let (a, b) = (sessions.get(&a, 1).map(|s| s.csrf), sessions.get(&b, 1).map(|s| s.csrf));
        assert_ne!(a, b);
    }
}
