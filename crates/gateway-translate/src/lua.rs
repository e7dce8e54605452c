//! Values as Lua source, for the DataScripts translations write.

/// `s` as a Lua string literal: printable ASCII as it is, except `"` and `\`; everything else
/// (and those two) as a decimal escape, so nothing can end the literal or the line.
pub fn lua_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\{b:03}"));
        }
    }
    out.push('"');
    out
}
