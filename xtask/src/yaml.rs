//! A small, deterministic YAML emitter for JSON-shaped data: Helm's `toYaml` for the chart
//! renderer. Keys are sorted (as `toYaml` sorts them), sequences sit at their key's indentation
//! (as `toYaml` writes them), and a string is written plain only when YAML cannot read it as
//! anything else; otherwise it is double-quoted.
//!
//! ```
//! let v = serde_json::json!({"limits": {"cpu": "1", "memory": "1Gi"}, "drop": ["ALL"]});
//! assert_eq!(
//!     xtask::yaml::to_yaml(&v),
//!     "drop:\n- ALL\nlimits:\n  cpu: \"1\"\n  memory: \"1Gi\"\n"
//! );
//! ```

use serde_json::Value;

/// `value` as a YAML document (block style), ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for k in keys {
        let v = &m[k];
        pad(out, indent);
        out.push_str(&string(k));
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, indent);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        if is_block(item) {
            // Render the item at indent + 2, then put the dash over its first indentation.
            let mut inner = String::new();
            match item {
                Value::Object(m) => write_map(&mut inner, m, indent + 2),
                Value::Array(a) => write_seq(&mut inner, a, indent + 2),
                _ => unreachable!("is_block"),
            }
            pad(out, indent);
            out.push_str("- ");
            out.push_str(&inner[indent + 2..]);
        } else {
            pad(out, indent);
            out.push_str("- ");
            out.push_str(&scalar(item));
            out.push('\n');
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
    }
}

/// A string as a plain scalar when that reads back as the same string, else double-quoted.
fn string(s: &str) -> String {
    if is_plain(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn is_plain(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    if WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return false;
    }
    // Anything that starts like a number (1, -1, .5, 0x1f, 1e3, 1_000) stays quoted.
    if first.is_ascii_digit() || ((first == '-' || first == '.' || first == '+') && s.len() > 1) {
        return false;
    }
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_that_read_back_as_something_else_are_quoted() {
        let v = json!({"a": "true", "b": "1", "c": "", "d": "x: y", "e": "Memory", "f": "0.0.0.0:8080", "g": "-1"});
        assert_eq!(
            to_yaml(&v),
            "a: \"true\"\nb: \"1\"\nc: \"\"\nd: \"x: y\"\ne: Memory\nf: \"0.0.0.0:8080\"\ng: \"-1\"\n"
        );
    }

    #[test]
    fn sequences_of_maps_put_the_dash_on_the_first_key() {
        let v = json!({"tolerations": [{"key": "k", "operator": "Exists"}, {"effect": "NoSchedule"}], "e": {}, "l": []});
        assert_eq!(
            to_yaml(&v),
            "e: {}\nl: []\ntolerations:\n- key: k\n  operator: Exists\n- effect: NoSchedule\n"
        );
        let back: Value = serde_saphyr::from_str(&to_yaml(&v)).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn nested_sequences_and_maps_read_back_equal() {
        let v = json!({"a": [[1, 2], {"b": [true, null, "x y"]}], "c": {"d": {"e": 1.5}}});
        let back: Value = serde_saphyr::from_str(&to_yaml(&v)).unwrap();
        assert_eq!(back, v);
    }
}
