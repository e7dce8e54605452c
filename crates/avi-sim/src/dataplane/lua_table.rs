//! The one Lua construct the emulator reads in a controller's DataScripts: a table literal of
//! strings, booleans and nested tables (`local name = { key = "value", {"a", "b"} }`), with
//! Lua's string escapes. Anything else is no table: the script is then not one the emulator
//! knows, and is ignored.

/// A Lua value of the table subset the scripts use.
#[derive(Debug, Clone, PartialEq)]
pub enum Lua {
    /// `true` or `false`.
    Bool(bool),
    /// A string literal, escapes resolved.
    Str(String),
    /// Entries in order, keyed (`k = v`) or positional.
    Table(Vec<(Option<String>, Lua)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

/// How deep tables may nest (the CORS table has two levels).
const MAX_DEPTH: usize = 4;

impl Lua {
    /// The table assigned by `local <name> = {` in `script`.
    pub fn local(script: &str, name: &str) -> Option<Lua> {
        let start = script.find(&format!("local {name} = {{"))? + format!("local {name} = ").len();
        let mut p = Parser {
            s: script.as_bytes(),
            i: start,
        };
        p.value(0)
    }
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn string(&mut self) -> Option<String> {
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    if e.is_ascii_digit() {
                        let mut n: u32 = 0;
                        let mut digits = 0;
                        while digits < 3 && self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                            n = n * 10 + u32::from(self.s[self.i] - b'0');
                            self.i += 1;
                            digits += 1;
                        }
                        out.push(u8::try_from(n).ok()?);
                    } else {
                        self.i += 1;
                        out.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'r' => b'\r',
                            other => other,
                        });
                    }
                }
                b'\n' => return None,
                other => out.push(other),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Lua> {
        self.skip_ws();
        match self.s.get(self.i)? {
            b'"' => {
                self.i += 1;
                self.string().map(Lua::Str)
            }
            b'{' if depth < MAX_DEPTH => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b'}') {
                        return Some(Lua::Table(items));
                    }
                    let save = self.i;
                    let key = match self.ident() {
                        Some(k) if self.eat(b'=') => Some(k),
                        _ => {
                            self.i = save;
                            None
                        }
                    };
                    let v = self.value(depth + 1)?;
                    items.push((key, v));
                    if !self.eat(b',') {
                        return self.eat(b'}').then_some(Lua::Table(items));
                    }
                }
            }
            _ => match self.ident()?.as_str() {
                "true" => Some(Lua::Bool(true)),
                "false" => Some(Lua::Bool(false)),
                _ => None,
            },
        }
    }
}
