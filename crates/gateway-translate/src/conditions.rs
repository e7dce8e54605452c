//! Status conditions: the wanted set, with `lastTransitionTime` kept from the previous status
//! when a condition's status did not change (so a re-translation writes nothing new), and
//! `observedGeneration` on every condition.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// One condition we want to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Condition type (`Accepted`, `Programmed`, ...).
    pub type_: &'static str,
    /// True or False.
    pub status: bool,
    /// CamelCase reason.
    pub reason: String,
    /// Human message.
    pub message: String,
}

impl Wanted {
    /// A condition that holds.
    pub fn yes(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        let message = translate_core::text::condition_message(message.into());
        Wanted {
            type_,
            status: true,
            reason: reason.into(),
            message,
        }
    }

    /// A condition that does not hold.
    pub fn no(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        let message = translate_core::text::condition_message(message.into());
        Wanted {
            type_,
            status: false,
            reason: reason.into(),
            message,
        }
    }
}

/// The conditions to write: `wanted` in order, each stamped with `generation`, keeping the
/// previous `lastTransitionTime` of a condition whose status is unchanged, `now` otherwise.
pub fn conditions(
    previous: &[Condition],
    wanted: Vec<Wanted>,
    generation: Option<i64>,
    now: &Time,
) -> Vec<Condition> {
    wanted
        .into_iter()
        .map(|w| {
            let status = if w.status { "True" } else { "False" }.to_owned();
            let since = previous
                .iter()
                .find(|p| p.type_ == w.type_ && p.status == status)
                .map_or_else(|| now.clone(), |p| p.last_transition_time.clone());
            Condition {
                type_: w.type_.to_owned(),
                status,
                reason: w.reason,
                message: w.message,
                observed_generation: generation,
                last_transition_time: since,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn at(secs: i64) -> Time {
        Time(Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let first = conditions(
            &[],
            vec![Wanted::yes("Accepted", "Accepted", "ok")],
            Some(1),
            &at(100),
        );
        assert_eq!(first[0].last_transition_time, at(100));
        assert_eq!(first[0].observed_generation, Some(1));
        let same = conditions(
            &first,
            vec![Wanted::yes("Accepted", "Accepted", "still ok")],
            Some(2),
            &at(200),
        );
        assert_eq!(same[0].last_transition_time, at(100));
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = conditions(
            &same,
            vec![Wanted::no("Accepted", "Invalid", "bad")],
            Some(3),
            &at(300),
        );
        assert_eq!(flipped[0].last_transition_time, at(300));
        assert_eq!(flipped[0].status, "False");
    }
}
