//! Path rules of a SPIFFE ID: segments, dots, allowed characters.

use crate::SpiffeIdError;

/// Checks the path part of an ID (`""` or `/seg/seg...`). `input` is the
/// whole ID and is only used in error values. The caller has already
/// rejected `?`, `#` and `%`.
pub(crate) fn validate_path(path: &str, input: &str) -> Result<(), SpiffeIdError> {
    let Some(segments) = path.strip_prefix('/') else {
        // Only the empty path does not start with '/': the authority ends at
        // the first '/'.
        return Ok(());
    };
    if path.ends_with('/') {
        return Err(SpiffeIdError::TrailingSlash {
            input: input.to_owned(),
        });
    }
    segments
        .split('/')
        .try_for_each(|segment| validate_segment(segment, path))
}

/// Checks one path segment. `path` is the text reported in errors: the
/// whole path, or the segment itself when it was given on its own.
pub(crate) fn validate_segment(segment: &str, path: &str) -> Result<(), SpiffeIdError> {
    match segment {
        "" => Err(SpiffeIdError::EmptySegment {
            path: path.to_owned(),
        }),
        "." | ".." => Err(SpiffeIdError::DotSegment {
            path: path.to_owned(),
            segment: segment.to_owned(),
        }),
        _ => match segment.chars().find(|&c| !is_path_char(c)) {
            Some(ch) => Err(SpiffeIdError::BadPathChar {
                segment: segment.to_owned(),
                ch,
            }),
            None => Ok(()),
        },
    }
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_rules() {
        assert_eq!(validate_segment("Ab-9_.x", "p"), Ok(()));
        assert_eq!(validate_segment("...", "p"), Ok(()));
        assert_eq!(
            validate_segment("", "p"),
            Err(SpiffeIdError::EmptySegment { path: "p".into() })
        );
        assert_eq!(
            validate_segment("..", "p"),
            Err(SpiffeIdError::DotSegment {
                path: "p".into(),
                segment: "..".into()
            })
        );
        assert_eq!(
            validate_segment("a:b", "p"),
            Err(SpiffeIdError::BadPathChar {
                segment: "a:b".into(),
                ch: ':'
            })
        );
    }

    #[test]
    fn empty_path_is_fine() {
        assert_eq!(validate_path("", "spiffe://td"), Ok(()));
    }
}
