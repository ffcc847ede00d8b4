//! JSONPath as Chaos Toolkit's `jsonpath` tolerance reads it (the jsonpath2 package's dialect):
//! `$`, `.name`, `.*`, `..name`, `["key"]`, `[0]`, `[-1]`, `[1:3]`, `[*]`, unions `[0,2]`, and
//! filters `[?(@.a = 1 and not @.b)]` with `=` (or `==`), `!=`, `<`, `<=`, `>`, `>=`, `and`,
//! `or`, `not` and parentheses. As in jsonpath2, a filter tests the node it is applied to (it
//! keeps or drops that node); `.*` first to test each child: `$.items.*[?(@.n > 1)]`.

use serde_json::Value;

/// A parsed path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path(Vec<Step>);

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Child(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Union(Vec<Step>),
    Filter(Expr),
    /// `..` then a step: the step applied to the node and every node under it.
    Descend(Box<Step>),
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Operand, Op, Operand),
    Exists(Operand),
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    /// `@...` (relative) or `$...` (from the root).
    Path {
        relative: bool,
        path: Path,
    },
    Literal(Value),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Path {
    /// Parses `text`, which must start with `$`.
    pub(crate) fn parse(text: &str) -> Result<Path, String> {
        let mut p = Parser {
            s: text.trim().as_bytes(),
            i: 0,
        };
        p.skip_ws();
        if !p.eat(b'$') {
            return Err("a path starts with `$`".into());
        }
        let path = p.steps()?;
        p.skip_ws();
        if p.i < p.s.len() {
            return Err(format!("unexpected `{}` at {}", p.rest(), p.i + 1));
        }
        Ok(path)
    }

    /// The values `root` has at this path, in document order.
    pub(crate) fn find(&self, root: &Value) -> Vec<Value> {
        self.find_from(root, root).into_iter().cloned().collect()
    }

    fn find_from<'a>(&self, node: &'a Value, root: &'a Value) -> Vec<&'a Value> {
        let mut nodes = vec![node];
        for step in &self.0 {
            nodes = nodes
                .into_iter()
                .flat_map(|n| apply(step, n, root))
                .collect();
        }
        nodes
    }
}

fn apply<'a>(step: &Step, node: &'a Value, root: &'a Value) -> Vec<&'a Value> {
    match step {
        Step::Child(name) => node.get(name.as_str()).into_iter().collect(),
        Step::Wildcard => match node {
            Value::Object(m) => m.values().collect(),
            Value::Array(a) => a.iter().collect(),
            _ => Vec::new(),
        },
        Step::Index(i) => match node {
            Value::Array(a) => {
                let i = if *i < 0 { a.len() as i64 + i } else { *i };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| a.get(i))
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        },
        Step::Slice(start, end, step) => match node {
            Value::Array(a) => {
                let len = a.len() as i64;
                let norm = |v: i64| if v < 0 { (len + v).max(0) } else { v.min(len) };
                let step = step.unwrap_or(1);
                if step <= 0 {
                    return Vec::new();
                }
                let (s, e) = (norm(start.unwrap_or(0)), norm(end.unwrap_or(len)));
                (s..e)
                    .step_by(step as usize)
                    .filter_map(|i| a.get(i as usize))
                    .collect()
            }
            _ => Vec::new(),
        },
        Step::Union(steps) => steps.iter().flat_map(|s| apply(s, node, root)).collect(),
        Step::Filter(expr) => {
            if eval(expr, node, root) {
                vec![node]
            } else {
                Vec::new()
            }
        }
        Step::Descend(inner) => {
            let mut all = Vec::new();
            descendants(node, &mut all);
            all.into_iter()
                .flat_map(|n| apply(inner, n, root))
                .collect()
        }
    }
}

fn descendants<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(node);
    match node {
        Value::Object(m) => m.values().for_each(|v| descendants(v, out)),
        Value::Array(a) => a.iter().for_each(|v| descendants(v, out)),
        _ => {}
    }
}

fn eval(e: &Expr, node: &Value, root: &Value) -> bool {
    match e {
        Expr::Or(all) => all.iter().any(|e| eval(e, node, root)),
        Expr::And(all) => all.iter().all(|e| eval(e, node, root)),
        Expr::Not(e) => !eval(e, node, root),
        Expr::Exists(o) => !values(o, node, root).is_empty(),
        Expr::Cmp(l, op, r) => {
            let (l, r) = (values(l, node, root), values(r, node, root));
            l.iter().any(|a| r.iter().any(|b| compare(a, *op, b)))
        }
    }
}

fn values(o: &Operand, node: &Value, root: &Value) -> Vec<Value> {
    match o {
        Operand::Literal(v) => vec![v.clone()],
        Operand::Path { relative, path } => path
            .find_from(if *relative { node } else { root }, root)
            .into_iter()
            .cloned()
            .collect(),
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    use super::tolerance::py_eq;
    match op {
        Op::Eq => py_eq(a, b),
        Op::Ne => !py_eq(a, b),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => match op {
                Op::Lt => x < y,
                Op::Le => x <= y,
                Op::Gt => x > y,
                _ => x >= y,
            },
            _ => false,
        },
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.i..]).into_owned()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.s[self.i..].starts_with(s.as_bytes()) {
            self.i += s.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    /// The steps after `$` or `@`, up to something that is not a step.
    fn steps(&mut self) -> Result<Path, String> {
        let mut steps = Vec::new();
        loop {
            if self.eat_str("..") {
                let inner = if self.eat(b'*') {
                    Step::Wildcard
                } else if self.peek() == Some(b'[') {
                    self.bracket()?
                } else {
                    Step::Child(self.name()?)
                };
                steps.push(Step::Descend(Box::new(inner)));
            } else if self.eat(b'.') {
                if self.eat(b'*') {
                    steps.push(Step::Wildcard);
                } else {
                    steps.push(Step::Child(self.name()?));
                }
            } else if self.peek() == Some(b'[') {
                steps.push(self.bracket()?);
            } else {
                return Ok(Path(steps));
            }
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80)
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("a name was expected at {}", self.i + 1));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// `[...]`: subscripts separated by commas.
    fn bracket(&mut self) -> Result<Step, String> {
        self.i += 1;
        let mut parts = Vec::new();
        loop {
            self.skip_ws();
            parts.push(self.subscript()?);
            self.skip_ws();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b']') {
                break;
            }
            return Err(format!("`]` was expected at {}", self.i + 1));
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Step::Union(parts)
        })
    }

    fn subscript(&mut self) -> Result<Step, String> {
        if self.eat(b'*') {
            return Ok(Step::Wildcard);
        }
        if self.eat(b'?') {
            self.skip_ws();
            if !self.eat(b'(') {
                return Err(format!("`(` was expected after `?` at {}", self.i + 1));
            }
            let e = self.or()?;
            self.skip_ws();
            if !self.eat(b')') {
                return Err(format!("`)` was expected at {}", self.i + 1));
            }
            return Ok(Step::Filter(e));
        }
        if matches!(self.peek(), Some(b'"' | b'\'')) {
            return match self.literal()? {
                Value::String(s) => Ok(Step::Child(s)),
                _ => unreachable!("a quoted literal is a string"),
            };
        }
        let int = |p: &mut Parser| -> Option<i64> {
            let start = p.i;
            p.eat(b'-');
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            std::str::from_utf8(&p.s[start..p.i]).ok()?.parse().ok()
        };
        let first = int(self);
        self.skip_ws();
        if self.eat(b':') {
            self.skip_ws();
            let end = int(self);
            self.skip_ws();
            let step = if self.eat(b':') {
                self.skip_ws();
                int(self)
            } else {
                None
            };
            return Ok(Step::Slice(first, end, step));
        }
        first
            .map(Step::Index)
            .ok_or_else(|| format!("a subscript was expected at {}", self.i + 1))
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut all = vec![self.and()?];
        while self.keyword("or") {
            all.push(self.and()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::Or(all)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut all = vec![self.unary()?];
        while self.keyword("and") {
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::And(all)
        })
    }

    fn keyword(&mut self, k: &str) -> bool {
        self.skip_ws();
        let after = self.s.get(self.i + k.len()).copied();
        if self.s[self.i..].starts_with(k.as_bytes())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.i += k.len();
            true
        } else {
            false
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.skip_ws();
        if self.eat(b'(') {
            let e = self.or()?;
            self.skip_ws();
            if !self.eat(b')') {
                return Err(format!("`)` was expected at {}", self.i + 1));
            }
            return Ok(e);
        }
        let left = self.operand()?;
        self.skip_ws();
        let op = if self.eat_str("==") || self.eat(b'=') {
            Op::Eq
        } else if self.eat_str("!=") {
            Op::Ne
        } else if self.eat_str("<=") {
            Op::Le
        } else if self.eat_str(">=") {
            Op::Ge
        } else if self.eat(b'<') {
            Op::Lt
        } else if self.eat(b'>') {
            Op::Gt
        } else {
            return Ok(Expr::Exists(left));
        };
        self.skip_ws();
        Ok(Expr::Cmp(left, op, self.operand()?))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.skip_ws();
        if self.eat(b'@') {
            return Ok(Operand::Path {
                relative: true,
                path: self.steps()?,
            });
        }
        if self.eat(b'$') {
            return Ok(Operand::Path {
                relative: false,
                path: self.steps()?,
            });
        }
        self.literal().map(Operand::Literal)
    }

    /// A JSON literal (single-quoted strings too).
    fn literal(&mut self) -> Result<Value, String> {
        self.skip_ws();
        let start = self.i;
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    match self.peek() {
                        None => return Err("an unclosed string".into()),
                        Some(c) if c == q => {
                            self.i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            self.i += 1;
                            if let Some(c) = self.peek() {
                                out.push(c as char);
                                self.i += 1;
                            }
                        }
                        Some(_) => {
                            let rest = std::str::from_utf8(&self.s[self.i..])
                                .map_err(|e| e.to_string())?;
                            let c = rest.chars().next().unwrap_or_default();
                            out.push(c);
                            self.i += c.len_utf8();
                        }
                    }
                }
                Ok(Value::String(out))
            }
            _ => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
                {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
                serde_json::from_str(word)
                    .map_err(|_| format!("a value was expected at {} (found `{word}`)", start + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Path;
    use serde_json::{json, Value};

    fn find(path: &str, v: Value) -> Vec<Value> {
        Path::parse(path).expect(path).find(&v)
    }

    #[test]
    fn paths_of_the_jsonpath2_dialect() {
        let doc =
            json!({"foo": [{"baz": 1, "n": "a"}, {"baz": 2, "n": "b"}], "x": {"y": {"z": 3}}});
        assert_eq!(find("$.foo[*].baz", doc.clone()), vec![json!(1), json!(2)]);
        assert_eq!(find("$.foo[-1].n", doc.clone()), vec![json!("b")]);
        assert_eq!(find("$[\"x\"]['y'].z", doc.clone()), vec![json!(3)]);
        assert_eq!(find("$..z", doc.clone()), vec![json!(3)]);
        assert_eq!(find("$.foo[0:1].n", doc.clone()), vec![json!("a")]);
        assert_eq!(
            find("$.foo[0,1].baz", doc.clone()),
            vec![json!(1), json!(2)]
        );
        // A filter tests the node it follows: after `.*`, each item.
        assert_eq!(
            find("$.foo.*[?(@.baz = 2)].n", doc.clone()),
            vec![json!("b")]
        );
        assert_eq!(
            find("$.foo.*[?(@.baz > 1 or @.n == \"a\")].n", doc.clone()).len(),
            2
        );
        assert_eq!(
            find("$.foo.*[?(not @.missing and @.baz != 1)].baz", doc.clone()),
            vec![json!(2)]
        );
        assert_eq!(find("$.x[?(@.y)].y.z", doc.clone()), vec![json!(3)]);
        assert_eq!(find("$.nothing", doc), Vec::<Value>::new());
        for bad in ["foo", "$.", "$[?(@.a = )]", "$[1", "$.a b"] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
    }
}
