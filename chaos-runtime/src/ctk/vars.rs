//! `chaos run`'s `--var name[:type]=value` and `--var-file` (JSON or YAML with `configuration`
//! and `secrets`, or a `.env` file of `NAME=value` lines), into [`Inputs`].

use super::build::convert;
use super::validate::Inputs;
use serde_json::Value;
use std::path::Path;

impl Inputs {
    /// Adds `--var name[:type]=value`: a configuration value, converted to `type` (`str`,
    /// `int`, `float`, `bool`, `json`, `bytes`).
    ///
    /// ```
    /// use chaos_runtime::ctk::Inputs;
    /// let mut inputs = Inputs::default();
    /// inputs.add_var("replicas:int=3")?;
    /// inputs.add_var("url=http://x/?a=b")?;
    /// assert_eq!(inputs.vars["replicas"], 3);
    /// assert_eq!(inputs.vars["url"], "http://x/?a=b");
    /// assert!(inputs.add_var("nothing").is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn add_var(&mut self, text: &str) -> Result<(), String> {
        let (key, value) = text.split_once('=').ok_or_else(|| {
            format!("--var {text:?}: var needs to be in the format name[:type]=value")
        })?;
        let (name, ty) = match key.rsplit_once(':') {
            Some((name, ty)) => (name, Some(ty)),
            None => (key, None),
        };
        if name.is_empty() {
            return Err(format!("--var {text:?}: the name is empty"));
        }
        let v = convert(ty, Value::String(value.to_owned()))
            .map_err(|e| format!("--var {text:?}: {e}"))?;
        self.vars.insert(name.to_owned(), v);
        Ok(())
    }

    /// Adds a `--var-file`: `.json`, `.yaml` or `.yml` give `configuration` values (and
    /// `secrets`, which are not supported here: an error says so); any other file is read as
    /// `.env` lines (`NAME=value`; blank lines and `#` comments skipped) into the environment.
    pub fn add_var_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("Cannot read var file '{}': {e}", path.display()))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let structured: Option<Value> = match ext.as_str() {
            "json" => {
                Some(serde_json::from_str(&text).map_err(|e| {
                    format!("Failed to parse variable file '{}': {e}", path.display())
                })?)
            }
            "yaml" | "yml" => {
                let docs = super::doc::parse(&text, super::doc::Schema::Yaml11).map_err(|e| {
                    format!("Failed to parse variable file '{}': {e}", path.display())
                })?;
                docs.first().map(super::doc::Node::to_json)
            }
            _ => None,
        };
        match structured.filter(|v| !v.is_null()) {
            Some(v) => {
                if let Some(Value::Object(config)) = v.get("configuration") {
                    for (k, v) in config {
                        self.vars.insert(k.clone(), v.clone());
                    }
                }
                if v.get("secrets")
                    .is_some_and(|s| s.as_object().is_some_and(|m| !m.is_empty()))
                {
                    return Err(format!(
                        "{}: `secrets` in a var file are not supported here: give them in the experiment (inline or `type: env`)",
                        path.display()
                    ));
                }
            }
            None => {
                for (i, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let (k, v) = line.split_once('=').ok_or_else(|| {
                        format!("{}:{}: not `NAME=value`: {line:?}", path.display(), i + 1)
                    })?;
                    self.env_over.insert(k.trim().to_owned(), v.to_owned());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn var_files_of_each_kind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let yaml = dir.path().join("vars.yaml");
        std::fs::write(&yaml, "configuration:\n  replicas: 3\n  enabled: yes\n").expect("write");
        let env = dir.path().join("vars.env");
        std::fs::write(&env, "# comment\nAPI_URL=http://x/?a=b\n\nTOKEN= spaced\n").expect("write");
        let mut inputs = Inputs::default();
        inputs.add_var_file(&yaml).expect("yaml");
        inputs.add_var_file(&env).expect("env");
        assert_eq!(inputs.vars["replicas"], json!(3));
        assert_eq!(inputs.vars["enabled"], json!(true));
        assert_eq!(inputs.env_over["API_URL"], "http://x/?a=b");
        assert_eq!(inputs.env_over["TOKEN"], " spaced");
        std::fs::write(&env, "NOEQUALS\n").expect("write");
        let e = inputs.add_var_file(&env).expect_err("bad line");
        assert!(
            e.ends_with("vars.env:1: not `NAME=value`: \"NOEQUALS\""),
            "{e}"
        );
        let mut inputs = Inputs::default();
        assert!(inputs
            .add_var("n:int=x")
            .unwrap_err()
            .contains("not an integer"));
        inputs.add_var("flag:bool=no").expect("bool");
        assert_eq!(inputs.vars["flag"], json!(false));
    }
}
