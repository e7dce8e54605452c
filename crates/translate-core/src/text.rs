//! User text as it may go into a message (a status condition, an Event, a log line).

/// The longest piece of user text a message quotes.
pub const MAX_QUOTED_CHARS: usize = 128;

/// Kubernetes' limit on a condition's message, in bytes.
pub const MAX_CONDITION_MESSAGE: usize = 32_768;

/// `s` for a message: control characters escaped (a CR or LF cannot forge a line, an escape
/// sequence cannot reach a terminal), at most [`MAX_QUOTED_CHARS`] characters, then `…`.
pub fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_QUOTED_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if s.chars().count() > MAX_QUOTED_CHARS {
        out.push('…');
    }
    out
}

/// `message` within Kubernetes' limit for a condition, cut at a character boundary with `…`.
pub fn condition_message(mut message: String) -> String {
    if message.len() > MAX_CONDITION_MESSAGE {
        let mut end = MAX_CONDITION_MESSAGE - '…'.len_utf8();
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_escaped_and_bounded() {
        assert_eq!(printable("a\r\nb\u{1b}"), "a\\r\\nb\\u{1b}");
        let long = printable(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_QUOTED_CHARS + 1);
        let m = condition_message("é".repeat(40_000));
        assert!(m.len() <= MAX_CONDITION_MESSAGE && m.ends_with('…'));
        assert_eq!(condition_message("short".into()), "short");
    }
}
