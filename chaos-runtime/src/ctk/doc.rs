//! A Chaos Toolkit file as a tree that remembers where each key and value was, so that every
//! validation error can name the line, and that keeps every key of a mapping, duplicates
//! included, so that a key written twice is an error rather than silently the last one.
//!
//! YAML and JSON are both read with `yaml-rust2`'s event parser (JSON is YAML's flow style).
//! Plain scalars are typed as the file's own loader would type them: JSON's rules for `.json`
//! files (Chaos Toolkit reads them with `json.load`), PyYAML's YAML 1.1 rules for YAML files
//! (`yes`, `no`, `on` and `off` are booleans, `0755` is octal, `1e5` is a string).

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A value and where it starts (1-based line and column).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Its line, 1-based.
    pub line: usize,
    /// Its column, 1-based.
    pub col: usize,
    /// The value.
    pub value: Value,
}

/// A value of the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, its keys in file order, duplicates kept.
    Map(Vec<Entry>),
}

/// A key of a mapping, where it is, and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key (a non-string key as the file wrote it).
    pub key: String,
    /// The key's line, 1-based.
    pub line: usize,
    /// The key's column, 1-based.
    pub col: usize,
    /// Its value.
    pub value: Node,
}

/// How plain scalars are typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// JSON's: `true`, `false`, `null` and JSON numbers.
    Json,
    /// PyYAML's YAML 1.1 resolver, as Chaos Toolkit reads YAML.
    Yaml11,
}

/// A file that is not well-formed YAML or JSON: the parser's message and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {col}: {message}")]
pub struct SyntaxError {
    /// The line, 1-based.
    pub line: usize,
    /// The column, 1-based.
    pub col: usize,
    /// What the parser says.
    pub message: String,
}

impl Node {
    /// What kind of value it is, for messages (`a string`, `a mapping`...).
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The entries of a mapping (none for other values).
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    /// The value of `key` in a mapping: the last one, as Chaos Toolkit's loaders keep it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// The entry of `key` in a mapping (the last one).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().rev().find(|e| e.key == key)
    }

    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence (none for other values).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The value as JSON, without positions; of duplicate keys, the last one.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut map = serde_json::Map::new();
                for e in entries {
                    // Later duplicates win, in the place of the first.
                    map.insert(e.key.clone(), e.value.to_json());
                }
                J::Object(map)
            }
        }
    }

    /// Moves every position down by `lines` (a document embedded in another file).
    pub fn shift(&mut self, lines: usize) {
        self.line += lines;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.shift(lines)),
            Value::Map(entries) => entries.iter_mut().for_each(|e| {
                e.line += lines;
                e.value.shift(lines);
            }),
            _ => {}
        }
    }
}

/// Parses every document of `text`.
pub fn parse(text: &str, schema: Schema) -> Result<Vec<Node>, SyntaxError> {
    let text = match schema {
        Schema::Json => {
            // JSON's own grammar first: YAML's flow style accepts more (`{"a": }`).
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
                return Err(SyntaxError {
                    line: e.line(),
                    col: e.column(),
                    message: {
                        let m = e.to_string();
                        m.split(" at line ").next().unwrap_or_default().to_owned()
                    },
                });
            }
            // Raw tabs in valid JSON are only whitespace; YAML refuses some as indentation.
            text.replace('\t', " ")
        }
        Schema::Yaml11 => text.to_owned(),
    };
    let mut builder = Builder {
        schema,
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
    };
    let mut parser = Parser::new_from_str(&text);
    parser.load(&mut builder, true).map_err(|e| SyntaxError {
        line: e.marker().line(),
        col: e.marker().col() + 1,
        message: e.info().to_owned(),
    })?;
    Ok(builder.docs)
}

/// A collection being built.
enum Frame {
    Seq {
        node: Node,
        anchor: usize,
    },
    Map {
        node: Node,
        anchor: usize,
        key: Option<(String, usize, usize)>,
    },
}

struct Builder {
    schema: Schema,
    docs: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    /// Puts a finished value where it belongs: the open sequence, the open mapping (as key or
    /// value), or the documents.
    fn put(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { node: seq, .. }) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Frame::Map { node: map, key, .. }) => match key.take() {
                None => {
                    let text = match &node.value {
                        Value::Str(s) => s.clone(),
                        Value::Null => "null".to_owned(),
                        Value::Bool(b) => b.to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::Float(f) => f.to_string(),
                        other => format!("{other:?}"),
                    };
                    *key = Some((text, node.line, node.col));
                }
                Some((k, line, col)) => {
                    if let Value::Map(entries) = &mut map.value {
                        if k == "<<" {
                            // A merge key: the merged mapping's keys, where not given.
                            merge(entries, node);
                        } else {
                            entries.push(Entry {
                                key: k,
                                line,
                                col,
                                value: node,
                            });
                        }
                    }
                }
            },
        }
    }
}

fn merge(entries: &mut Vec<Entry>, node: Node) {
    let sources = match node.value {
        Value::Seq(items) => items,
        _ => vec![node],
    };
    for source in sources {
        if let Value::Map(more) = source.value {
            for e in more {
                if !entries.iter().any(|x| x.key == e.key) {
                    entries.push(e);
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let (line, col) = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style != TScalarStyle::Plain || tagged_str {
                    Value::Str(text)
                } else {
                    resolve(&text, self.schema)
                };
                let node = Node { line, col, value };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.put(node);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                node: Node {
                    line,
                    col,
                    value: Value::Seq(Vec::new()),
                },
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                node: Node {
                    line,
                    col,
                    value: Value::Map(Vec::new()),
                },
                anchor,
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { node, anchor }) | Some(Frame::Map { node, anchor, .. }) => {
                        (node, anchor)
                    }
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.put(node);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    line,
                    col,
                    value: Value::Null,
                });
                self.put(node);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

/// Types a plain scalar.
fn resolve(text: &str, schema: Schema) -> Value {
    match schema {
        Schema::Json => match text {
            "null" | "Null" | "NULL" | "~" | "" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => json_number(text).unwrap_or_else(|| Value::Str(text.to_owned())),
        },
        Schema::Yaml11 => match text {
            "null" | "Null" | "NULL" | "~" | "" => Value::Null,
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
                Value::Bool(true)
            }
            "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
                Value::Bool(false)
            }
            _ => yaml11_int(text)
                .or_else(|| yaml11_float(text))
                .unwrap_or_else(|| Value::Str(text.to_owned())),
        },
    }
}

fn json_number(text: &str) -> Option<Value> {
    let body = text.strip_prefix('-').unwrap_or(text);
    let first = body.chars().next()?;
    if !first.is_ascii_digit() {
        return None;
    }
    if body.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            text.parse::<i64>()
                .map(Value::Int)
                .unwrap_or_else(|_| Value::Float(text.parse().unwrap_or(f64::NAN))),
        );
    }
    if body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return text.parse::<f64>().ok().map(Value::Float);
    }
    None
}

/// PyYAML's `int`: binary, octal (a leading 0), decimal, hexadecimal, sexagesimal; `_` allowed.
fn yaml11_int(text: &str) -> Option<Value> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = |s: &str, radix: u32| -> Option<i64> {
        let clean: String = s.chars().filter(|c| *c != '_').collect();
        if clean.is_empty() || !s.chars().all(|c| c == '_' || c.is_digit(radix)) {
            return None;
        }
        i64::from_str_radix(&clean, radix).ok()
    };
    let n = if let Some(b) = body.strip_prefix("0b") {
        digits(b, 2)?
    } else if let Some(h) = body.strip_prefix("0x") {
        digits(h, 16)?
    } else if body == "0" {
        0
    } else if let Some(o) = body.strip_prefix('0') {
        digits(o, 8)?
    } else if body.contains(':') {
        let mut n: i64 = 0;
        for (i, part) in body.split(':').enumerate() {
            let v = digits(part, 10)?;
            if i > 0 && v >= 60 {
                return None;
            }
            n = n.checked_mul(60)?.checked_add(v)?;
        }
        n
    } else {
        if !body.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        digits(body, 10)?
    };
    Some(Value::Int(if neg { -n } else { n }))
}

/// PyYAML's `float`: a dot is required (`1.5`, `.5`, `1.`, `1.0e+3`: the exponent's sign
/// too), `.inf`, `.nan`.
fn yaml11_float(text: &str) -> Option<Value> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(Value::Float(sign * f64::INFINITY)),
        ".nan" | ".NaN" | ".NAN" if text == body => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.')?;
    let ok_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !ok_digits(int) || !ok_digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    if int.is_empty() && frac.starts_with('_') {
        return None;
    }
    if let Some(e) = exponent {
        let digits = e.strip_prefix(['+', '-'])?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let v: f64 = if clean.starts_with('.') {
        format!("0{clean}").parse().ok()?
    } else {
        clean.parse().ok()?
    };
    Some(Value::Float(sign * v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str, schema: Schema) -> Node {
        parse(text, schema).expect("parses").remove(0)
    }

    #[test]
    fn yaml_11_scalars_as_pyyaml_types_them() {
        let n = one(
            "a: yes\nb: Off\nc: 0755\nd: 1e5\ne: 1.0e+3\nf: ~\ng: '42'\nh: 1_000\ni: .5\nj: 0x1F\nk: 1:30\nl: hello\nm: -3\nn: 2.\no: !!str 12\n",
            Schema::Yaml11,
        );
        let v = |k: &str| n.get(k).expect(k).value.clone();
        assert_eq!(v("a"), Value::Bool(true));
        assert_eq!(v("b"), Value::Bool(false));
        assert_eq!(v("c"), Value::Int(0o755));
        assert_eq!(v("d"), Value::Str("1e5".into()));
        assert_eq!(v("e"), Value::Float(1000.0));
        assert_eq!(v("f"), Value::Null);
        assert_eq!(v("g"), Value::Str("42".into()));
        assert_eq!(v("h"), Value::Int(1000));
        assert_eq!(v("i"), Value::Float(0.5));
        assert_eq!(v("j"), Value::Int(31));
        assert_eq!(v("k"), Value::Int(90));
        assert_eq!(v("l"), Value::Str("hello".into()));
        assert_eq!(v("m"), Value::Int(-3));
        assert_eq!(v("n"), Value::Float(2.0));
        assert_eq!(v("o"), Value::Str("12".into()));
    }

    #[test]
    fn json_scalars_as_json_types_them_with_positions_and_duplicates() {
        let n = one(
            "{\n\t\"a\": 1e5,\n  \"b\": [true, null, -2, \"x\"],\n  \"a\": \"yes\"\n}",
            Schema::Json,
        );
        assert_eq!(n.entries().len(), 3);
        assert_eq!(n.entries()[0].value.value, Value::Float(1e5));
        assert_eq!((n.entries()[0].line, n.entries()[0].col), (2, 2));
        let b = n.get("b").expect("b");
        assert_eq!(b.line, 3);
        assert_eq!(
            b.to_json(),
            serde_json::json!([true, null, -2, "x"]),
            "{b:?}"
        );
        assert_eq!(n.get("a").expect("a").value, Value::Str("yes".into()));
        assert_eq!(n.to_json()["a"], "yes");
    }

    #[test]
    fn anchors_merges_documents_and_errors() {
        let docs = parse(
            "base: &b {x: 1}\nthis:\n  <<: *b\n  y: 2\n---\nsecond: true\n",
            Schema::Yaml11,
        )
        .expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0].get("this").expect("this").to_json(),
            serde_json::json!({"x": 1, "y": 2})
        );
        let e = parse("a: [1, 2\nb: 3\n", Schema::Yaml11).expect_err("unclosed");
        assert!(e.line >= 1, "{e}");
        let mut n = one("a:\n  b: 1\n", Schema::Yaml11);
        n.shift(10);
        assert_eq!(n.entry("a").expect("a").line, 11);
        assert_eq!(n.get("a").expect("a").entry("b").expect("b").line, 12);
    }
}
