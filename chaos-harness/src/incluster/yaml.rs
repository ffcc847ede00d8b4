//! JSON values as YAML documents (kubectl reads either; people read YAML), through
//! yaml-rust2's emitter: keys in the order of the JSON object (alphabetical, which puts a
//! manifest's `apiVersion`, `kind`, `metadata` and `spec` in the usual order), multi-line
//! strings as literal blocks.

use serde_json::Value;
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

fn to_yaml(v: &Value) -> Yaml {
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(a) => Yaml::Array(a.iter().map(to_yaml).collect()),
        Value::Object(m) => {
            let mut h = Hash::new();
            for (k, v) in m {
                h.insert(Yaml::String(k.clone()), to_yaml(v));
            }
            Yaml::Hash(h)
        }
    }
}

/// `docs` as one YAML stream, `---` before each document.
pub(crate) fn stream(docs: &[Value]) -> String {
    let mut out = String::new();
    for d in docs {
        let mut text = String::new();
        let mut e = YamlEmitter::new(&mut text);
        e.multiline_strings(true);
        if e.dump(&to_yaml(d)).is_ok() {
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_keep_their_key_order_and_blocks() {
        let doc = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"chaos.toml": "[a]\nb = 1\n"}});
        let y = super::stream(&[doc.clone(), doc]);
        assert!(y.starts_with("---\napiVersion: v1\n"), "{y}");
        assert!(y.contains("\nkind: ConfigMap\n"), "{y}");
        assert!(y.contains("chaos.toml: |\n    [a]\n    b = 1\n"), "{y}");
        assert_eq!(y.matches("---\n").count(), 2);
    }
}
