//! Login sessions: session id, CSRF token, idle and absolute expiry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;

/// One logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The CSRF token unsafe methods must echo in `X-CSRFToken`.
    pub csrf: String,
    /// Who logged in.
    pub user: String,
    created: Instant,
    last_used: Instant,
}

/// Every live session by session id.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: HashMap<String, Session>,
}

/// A random 32-character token, as the controller's cookies hold.
pub fn token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

impl Sessions {
    /// Opens a session; returns `(session id, csrf token)`.
    pub fn open(&mut self, user: &str) -> (String, String) {
        let id = token();
        let csrf = token();
        let now = Instant::now();
        self.by_id.insert(
            id.clone(),
            Session {
                csrf: csrf.clone(),
                user: user.to_owned(),
                created: now,
                last_used: now,
            },
        );
        (id, csrf)
    }

    /// The first of `ids` that is a live session, touched; expired ones are dropped.
    pub fn touch(
        &mut self,
        ids: &[String],
        idle: Duration,
        absolute: Duration,
    ) -> Option<(String, Session)> {
        let now = Instant::now();
        for id in ids {
            let Some(s) = self.by_id.get_mut(id) else {
                continue;
            };
            if now.duration_since(s.last_used) > idle || now.duration_since(s.created) > absolute {
                self.by_id.remove(id);
                continue;
            }
            s.last_used = now;
            return Some((id.clone(), s.clone()));
        }
        None
    }

    /// Ends one session.
    pub fn close(&mut self, id: &str) -> bool {
        self.by_id.remove(id).is_some()
    }

    /// Ends every session now (fault injection: "expire all sessions").
    pub fn expire_all(&mut self) -> usize {
        let n = self.by_id.len();
        self.by_id.clear();
        n
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there is no live session.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
