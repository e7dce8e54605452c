//! What the controller tells users through Events: the notices the translators ask for
//! (ambient or mixed backends, Istio objects pending, routes accepted or rejected, ...).
//!
//! An Event is raised when its fact becomes true, not at every reconcile: a resync repeats
//! nothing, and a fact that stops and starts again is raised again.

use std::collections::BTreeSet;

use translate_core::Notice;

/// The notices already raised, so that each is raised once while it holds.
#[derive(Debug, Default)]
pub struct Reported {
    seen: BTreeSet<Notice>,
}

impl Reported {
    /// The notices of `now` that were not true at the last call; `now` becomes what is
    /// remembered, so a notice that went away is raised again when it comes back.
    ///
    /// When `complete` is false (the sync failed part-way), notices that went missing are
    /// kept: their absence may only mean the pass stopped early.
    pub fn fresh(&mut self, now: Vec<Notice>, complete: bool) -> Vec<Notice> {
        let fresh: Vec<Notice> = now
            .iter()
            .filter(|n| !self.seen.contains(*n))
            .cloned()
            .collect();
        if complete {
            self.seen = now.into_iter().collect();
        } else {
            self.seen.extend(now);
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use translate_core::ObjectKey;

    use super::*;

    fn accepted(name: &str) -> Notice {
        Notice::normal(
            ObjectKey::new("networking.k8s.io", "Ingress", "apps", name),
            "Accepted",
            "served",
        )
    }

    #[test]
    fn a_notice_is_raised_once_while_it_holds_and_again_when_it_returns() {
        let mut reported = Reported::default();
        assert_eq!(reported.fresh(vec![accepted("a")], true).len(), 1);
        assert!(
            reported.fresh(vec![accepted("a")], true).is_empty(),
            "a resync repeats nothing"
        );
        let rejected = Notice::warning(accepted("a").object, "Rejected", "no");
        assert_eq!(reported.fresh(vec![rejected], true).len(), 1);
        assert_eq!(
            reported.fresh(vec![accepted("a")], true).len(),
            1,
            "accepted again is news"
        );
    }

    #[test]
    fn an_incomplete_pass_forgets_nothing() {
        let mut reported = Reported::default();
        let both = vec![accepted("a"), accepted("b")];
        assert_eq!(reported.fresh(both.clone(), true).len(), 2);
        assert!(reported.fresh(Vec::new(), false).is_empty());
        assert!(reported.fresh(both, true).is_empty());
    }
}
