//! JSON texts for the `fastjson` serialization (id 6, spec §3.12): every field of a body is
//! one JSON text followed by `\n`. Values map to and from Hessian [`Value`]s, so the rest of
//! the protocol is the same for both serializations.
//!
//! JSON → `Value`: objects become untyped maps with string keys (which serde decodes into
//! structs too), integers `Int` when they fit 32 bits else `Long`, other numbers `Double`.
//! `Value` → JSON: objects and maps become JSON objects (keys as strings, class names
//! dropped, as fastjson writes them by default), binary becomes base64 text, dates
//! milliseconds.

use base64::Engine as _;

use crate::hessian2::Value;

/// Deepest nesting accepted when parsing.
const MAX_DEPTH: usize = 128;

/// Appends `value` as one compact JSON text.
pub fn write(value: &Value, out: &mut Vec<u8>) {
    write_depth(value, out, 0);
}

fn write_depth(value: &Value, out: &mut Vec<u8>, depth: usize) {
    if depth > MAX_DEPTH {
        out.extend_from_slice(b"null");
        return;
    }
    match value {
        Value::Null | Value::Ref(_) => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Long(l) | Value::Date(l) => out.extend_from_slice(l.to_string().as_bytes()),
        Value::Double(d) if d.is_finite() => {
            let text = d.to_string();
            out.extend_from_slice(text.as_bytes());
            if !text.contains(['.', 'e', 'E']) {
                out.extend_from_slice(b".0");
            }
        }
        Value::Double(_) => out.extend_from_slice(b"null"),
        Value::String(s) => write_string(s, out),
        Value::Binary(b) => {
            write_string(&base64::engine::general_purpose::STANDARD.encode(b), out);
        }
        Value::List { items, .. } => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_depth(item, out, depth + 1);
            }
            out.push(b']');
        }
        Value::Map { entries, .. } => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match k {
                    Value::String(s) => write_string(s, out),
                    other => {
                        let mut key = Vec::new();
                        write_depth(other, &mut key, depth + 1);
                        write_string(&String::from_utf8_lossy(&key), out);
                    }
                }
                out.push(b':');
                write_depth(v, out, depth + 1);
            }
            out.push(b'}');
        }
        Value::Object { fields, .. } => {
            out.push(b'{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_depth(v, out, depth + 1);
            }
            out.push(b'}');
        }
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Reads consecutive JSON texts (one per body field) from a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { input, pos: 0 }
    }

    /// Whether only whitespace is left.
    pub fn is_at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.input.len()
    }

    /// The next JSON text as a value.
    pub fn read_value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        if self.pos >= self.input.len() {
            return Err("unexpected end of JSON body".to_owned());
        }
        self.value(0)
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("invalid JSON at byte {}: {what}", self.pos))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(&format!("expected {:?}", char::from(b)))
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, String> {
        if self.input[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            self.err("unknown literal")
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.skip_ws();
        match self.peek() {
            None => self.err("unexpected end"),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::list(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::list(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::map(entries));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return self.err("expected a string key");
                    }
                    let key = self.string()?;
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    entries.push((Value::String(key), value));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::map(entries));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let mut float = false;
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' | b'-' | b'+' => {}
                b'.' | b'e' | b'E' => float = true,
                _ => break,
            }
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.input[start..self.pos]).unwrap_or("");
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(i32::try_from(i).map_or(Value::Long(i), Value::Int));
            }
        }
        match text.parse::<f64>() {
            Ok(d) => Ok(Value::Double(d)),
            Err(_) => {
                self.pos = start;
                self.err("malformed number")
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .input
            .get(self.pos..self.pos + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok());
        match digits {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => self.err("bad \\u escape"),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return self.err("unterminated string");
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return self.err("unterminated escape");
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp)
                                && self.input[self.pos..].starts_with(b"\\u")
                            {
                                self.pos += 2;
                                let low = self.hex4()?;
                                if (0xdc00..0xe000).contains(&low) {
                                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                                }
                            }
                            let c = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return self.err("unknown escape"),
                    }
                }
                b => out.push(b),
            }
        }
        String::from_utf8(out).or_else(|_| self.err("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_json(v: &Value) -> String {
        let mut out = Vec::new();
        write(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_round_trip() {
        let v = Value::map(vec![
            ("path".into(), "demo.Greeter".into()),
            ("n".into(), Value::Int(-3)),
            ("big".into(), Value::Long(1 << 40)),
            ("d".into(), Value::Double(1.5)),
            ("whole".into(), Value::Double(2.0)),
            ("ok".into(), Value::Bool(true)),
            ("none".into(), Value::Null),
            (
                "list".into(),
                Value::list(vec![Value::from("a\"b\\c\n\u{1}中😀"), Value::list(vec![])]),
            ),
        ]);
        let text = to_json(&v);
        let back = Reader::new(text.as_bytes()).read_value().unwrap();
        assert_eq!(back, v, "{text}");
    }

    #[test]
    fn objects_lose_their_class_and_binary_becomes_base64() {
        let obj = Value::object(
            "demo.Pair",
            vec![
                ("id".into(), Value::Int(7)),
                ("b".into(), Value::Binary(vec![1, 2])),
            ],
        );
        assert_eq!(to_json(&obj), r#"{"id":7,"b":"AQI="}"#);
        assert_eq!(to_json(&Value::Double(f64::NAN)), "null");
    }

    #[test]
    fn reader_reads_consecutive_lines_and_rejects_garbage() {
        let body = b"\"2.0.2\"\n4\n{\"dubbo\":\"2.0.2\"}\n";
        let mut r = Reader::new(body);
        assert_eq!(r.read_value().unwrap(), Value::from("2.0.2"));
        assert_eq!(r.read_value().unwrap(), Value::Int(4));
        assert!(r.read_value().unwrap().get("dubbo").is_some());
        assert!(r.is_at_end());
        assert!(r.read_value().is_err());
        for bad in [
            &b"{"[..],
            b"[1,",
            b"\"abc",
            b"tru",
            b"{1:2}",
            b"-",
            b"\"\\u12\"",
            b"@",
            b"[1 2]",
        ] {
            assert!(Reader::new(bad).read_value().is_err(), "{bad:?}");
        }
        let deep = "[".repeat(1000);
        assert!(Reader::new(deep.as_bytes()).read_value().is_err());
        assert_eq!(
            Reader::new(b"\"\\ud83d\\ude00\"").read_value().unwrap(),
            Value::from("😀")
        );
    }
}
