//! Label selectors (equality- and set-based, as `labels.Parse` reads them) and field selectors
//! (`fields.ParseSelector`).

use serde_json::{Map, Value};
use std::fmt;

/// One requirement's operator.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Exists,
    NotExists,
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Gt(i64),
    Lt(i64),
}

/// A parsed label selector; empty selects everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LabelSelector {
    reqs: Vec<(String, Op)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Eq,
    DoubleEq,
    NotEq,
    Not,
    Open,
    Close,
    Comma,
    Gt,
    Lt,
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "{s}"),
            Tok::Eq => write!(f, "="),
            Tok::DoubleEq => write!(f, "=="),
            Tok::NotEq => write!(f, "!="),
            Tok::Not => write!(f, "!"),
            Tok::Open => write!(f, "("),
            Tok::Close => write!(f, ")"),
            Tok::Comma => write!(f, ","),
            Tok::Gt => write!(f, ">"),
            Tok::Lt => write!(f, "<"),
            Tok::End => Ok(()),
        }
    }
}

fn tokenize(s: &str) -> Vec<Tok> {
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = b.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            ('=', Some('=')) => (Tok::DoubleEq, 2),
            ('=', _) => (Tok::Eq, 1),
            ('!', Some('=')) => (Tok::NotEq, 2),
            ('!', _) => (Tok::Not, 1),
            ('(', _) => (Tok::Open, 1),
            (')', _) => (Tok::Close, 1),
            (',', _) => (Tok::Comma, 1),
            ('>', _) => (Tok::Gt, 1),
            ('<', _) => (Tok::Lt, 1),
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_whitespace() && !"=!(),<>".contains(b[i]) {
                    i += 1;
                }
                out.push(Tok::Ident(b[start..i].iter().collect()));
                continue;
            }
        };
        out.push(tok);
        i += len;
    }
    out.push(Tok::End);
    out
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Validates a label key (`[prefix/]name`), as `validation.IsQualifiedName`.
fn check_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let prefix_ok = prefix.is_none_or(crate::util::is_dns_subdomain);
    if prefix_ok && valid_name(name) {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: <nil>: Invalid value: \"{k}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn check_value(v: &str) -> Result<(), String> {
    if v.is_empty() || valid_name(v) {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: values[0][{v}]: Invalid value: \"{v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).unwrap_or(&Tok::End)
    }
    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn expected(found: &Tok, what: &str) -> String {
        format!("unable to parse requirement: found '{found}', expected: {what}")
    }
    /// A single value after `=`/`!=` (may be empty).
    fn value(&mut self) -> Result<String, String> {
        match self.peek() {
            Tok::Ident(_) => match self.next() {
                Tok::Ident(v) => {
                    check_value(&v)?;
                    Ok(v)
                }
                _ => Ok(String::new()),
            },
            Tok::Comma | Tok::End => Ok(String::new()),
            other => Err(Parser::expected(other, "identifier")),
        }
    }
    fn values(&mut self) -> Result<Vec<String>, String> {
        let open = self.next();
        if open != Tok::Open {
            return Err(Parser::expected(&open, "'('"));
        }
        let mut vals = Vec::new();
        loop {
            match self.next() {
                Tok::Ident(v) => {
                    check_value(&v)?;
                    vals.push(v);
                    match self.next() {
                        Tok::Comma => continue,
                        Tok::Close => break,
                        other => return Err(Parser::expected(&other, "',' or ')'")),
                    }
                }
                Tok::Comma => vals.push(String::new()),
                Tok::Close => break,
                other => return Err(Parser::expected(&other, "',', ')' or identifier")),
            }
        }
        if vals.is_empty() {
            return Err(
                "unable to parse requirement: for 'in', 'notin' operators, values set can't be empty"
                    .into(),
            );
        }
        Ok(vals)
    }
    fn number(&mut self) -> Result<i64, String> {
        match self.next() {
            Tok::Ident(v) => v.parse().map_err(|_| {
                format!("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: {v}")
            }),
            other => Err(Parser::expected(&other, "integer")),
        }
    }
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (f,g),!h,i`.
    pub(crate) fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut p = Parser {
            toks: tokenize(s),
            pos: 0,
        };
        let mut reqs = Vec::new();
        if *p.peek() == Tok::End {
            return Ok(LabelSelector { reqs });
        }
        loop {
            match p.next() {
                Tok::Not => match p.next() {
                    Tok::Ident(k) => {
                        check_key(&k)?;
                        reqs.push((k, Op::NotExists));
                    }
                    other => return Err(Parser::expected(&other, "identifier")),
                },
                Tok::Ident(k) => {
                    check_key(&k)?;
                    let op = match p.peek().clone() {
                        Tok::Comma | Tok::End => Op::Exists,
                        Tok::Eq | Tok::DoubleEq => {
                            p.next();
                            Op::Eq(p.value()?)
                        }
                        Tok::NotEq => {
                            p.next();
                            Op::NotEq(p.value()?)
                        }
                        Tok::Gt => {
                            p.next();
                            Op::Gt(p.number()?)
                        }
                        Tok::Lt => {
                            p.next();
                            Op::Lt(p.number()?)
                        }
                        Tok::Ident(w) if w == "in" => {
                            p.next();
                            Op::In(p.values()?)
                        }
                        Tok::Ident(w) if w == "notin" => {
                            p.next();
                            Op::NotIn(p.values()?)
                        }
                        other => {
                            return Err(Parser::expected(&other, "'=', '!=', '==', 'in', notin'"))
                        }
                    };
                    reqs.push((k, op));
                }
                other => return Err(Parser::expected(&other, "!, identifier")),
            }
            match p.next() {
                Tok::End => break,
                Tok::Comma => continue,
                other => return Err(Parser::expected(&other, "','")),
            }
        }
        Ok(LabelSelector { reqs })
    }

    /// From a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
    pub(crate) fn from_json(v: &Value) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        if let Some(ml) = v.get("matchLabels").and_then(Value::as_object) {
            for (k, val) in ml {
                reqs.push((
                    k.clone(),
                    Op::Eq(val.as_str().unwrap_or_default().to_string()),
                ));
            }
        }
        if let Some(exprs) = v.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e["key"].as_str().unwrap_or_default().to_string();
                let vals: Vec<String> = e["values"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let op = match e["operator"].as_str().unwrap_or_default() {
                    "In" => Op::In(vals),
                    "NotIn" => Op::NotIn(vals),
                    "Exists" => Op::Exists,
                    "DoesNotExist" => Op::NotExists,
                    other => {
                        return Err(format!("{other:?} is not a valid label selector operator"))
                    }
                };
                reqs.push((key, op));
            }
        }
        Ok(LabelSelector { reqs })
    }

    /// Whether nothing is required.
    pub(crate) fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Whether an object with these labels is selected.
    pub(crate) fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.reqs.iter().all(|(k, op)| {
            let v = labels.and_then(|l| l.get(k)).and_then(Value::as_str);
            match op {
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
                Op::Eq(x) => v == Some(x.as_str()),
                Op::NotEq(x) => v != Some(x.as_str()),
                Op::In(xs) => v.is_some_and(|v| xs.iter().any(|x| x == v)),
                Op::NotIn(xs) => v.is_none_or(|v| !xs.iter().any(|x| x == v)),
                Op::Gt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > *n),
                Op::Lt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v < *n),
            }
        })
    }

    /// Whether the `metadata.labels` of `obj` are selected.
    pub(crate) fn matches_obj(&self, obj: &Value) -> bool {
        self.is_empty() || self.matches(obj["metadata"]["labels"].as_object())
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, op)) in self.reqs.iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            match op {
                Op::Exists => write!(f, "{k}")?,
                Op::NotExists => write!(f, "!{k}")?,
                Op::Eq(v) => write!(f, "{k}={v}")?,
                Op::NotEq(v) => write!(f, "{k}!={v}")?,
                Op::In(vs) => write!(f, "{k} in ({})", vs.join(","))?,
                Op::NotIn(vs) => write!(f, "{k} notin ({})", vs.join(","))?,
                Op::Gt(n) => write!(f, "{k}>{n}")?,
                Op::Lt(n) => write!(f, "{k}<{n}")?,
            }
        }
        Ok(())
    }
}

/// A parsed field selector: `field=value`, `field==value`, `field!=value`, comma-separated.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector {
    /// (field, equal?, value).
    pub reqs: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses a field selector; `\,`, `\=` and `\\` escape in values.
    pub(crate) fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for term in split_unescaped(s) {
            if term.is_empty() {
                continue;
            }
            let mut found = None;
            for (i, _) in term.char_indices() {
                let rest = &term[i..];
                if let Some(op) = ["!=", "==", "="]
                    .into_iter()
                    .find(|op| rest.starts_with(op))
                {
                    found = Some((i, op));
                    break;
                }
            }
            let Some((i, op)) = found else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                ));
            };
            let field = term[..i].trim().to_string();
            let value = unescape(&term[i + op.len()..])
                .map_err(|e| format!("invalid selector: '{s}'; {e}"))?;
            reqs.push((field, op != "!=", value));
        }
        Ok(FieldSelector { reqs })
    }

    /// Whether nothing is required.
    pub(crate) fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Whether `value_of(field)` satisfies every requirement.
    pub(crate) fn matches(&self, value_of: impl Fn(&str) -> String) -> bool {
        self.reqs
            .iter()
            .all(|(f, eq, v)| (value_of(f) == *v) == *eq)
    }
}

fn split_unescaped(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\\');
    }
    out.push(cur);
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(format!("invalid escape sequence: \\{e}")),
                None => return Err("unterminated escape sequence".into()),
            }
        } else if c == ',' || c == '=' {
            return Err(format!("invalid selector: unescaped '{c}'"));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn label_selectors_parse_and_match() {
        let l = labels(json!({"app": "web", "tier": "frontend", "n": "5"}));
        let yes = [
            "",
            "app=web",
            "app==web",
            "app = web , tier=frontend",
            "app!=db",
            "missing!=x",
            "tier in (frontend,backend)",
            "tier in (frontend)",
            "tier notin (backend)",
            "missing notin (a)",
            "app",
            "!missing",
            "n>4",
            "n<6",
            "example.com/x notin (a)",
        ];
        for s in yes {
            let sel = LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert!(sel.matches(Some(&l)), "{s} should match");
        }
        let no = [
            "app=db",
            "app!=web",
            "tier in (backend)",
            "tier notin (frontend)",
            "!app",
            "missing",
            "n>5",
        ];
        for s in no {
            let sel = LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert!(!sel.matches(Some(&l)), "{s} should not match");
        }
        assert!(LabelSelector::parse("app=").is_ok_and(|s| !s.matches(Some(&l))));
        assert!(LabelSelector::parse("missing=").is_ok_and(|s| !s.matches(Some(&l))));
        for bad in [
            "app=web,",
            "=web",
            "app in ()",
            "app in (a",
            "app in a",
            "a b",
            "app=w=b",
            "-bad=x",
            "app=(x)",
            "n>x",
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad} should fail");
        }
        assert_eq!(
            LabelSelector::parse("a=b,c in (d,e)").map(|s| s.to_string()),
            Ok("a=b,c in (d,e)".to_string())
        );
        let from = LabelSelector::from_json(
            &json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]}),
        );
        assert!(from.is_ok_and(|s| s.matches(Some(&l))));
    }

    #[test]
    fn field_selectors_parse_and_match() {
        let f =
            FieldSelector::parse("metadata.name=web-1,status.phase!=Failed").unwrap_or_default();
        assert_eq!(f.reqs.len(), 2);
        let get = |field: &str| match field {
            "metadata.name" => "web-1".to_string(),
            "status.phase" => "Running".to_string(),
            _ => String::new(),
        };
        assert!(f.matches(get));
        assert!(!FieldSelector::parse("status.phase==Failed")
            .unwrap_or_default()
            .matches(get));
        assert!(FieldSelector::parse("").is_ok_and(|f| f.is_empty()));
        assert!(FieldSelector::parse("nope").is_err());
        assert_eq!(
            FieldSelector::parse(r"a=x\,y").map(|f| f.reqs[0].2.clone()),
            Ok("x,y".to_string())
        );
        assert!(FieldSelector::parse(r"a=x\q").is_err());
    }
}
