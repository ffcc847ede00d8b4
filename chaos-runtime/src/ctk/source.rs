//! Where a Chaos Toolkit experiment comes from: a `.json`, `.yaml` or `.yml` file, or a
//! Kubernetes ConfigMap manifest holding one (as the Chaos Toolkit operator reads them), with
//! the environment the operator's custom resource gives it.

use super::doc::{self, Node, Schema, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys of a ConfigMap's `data` that may hold the experiment, in the order tried.
const DATA_KEYS: [&str; 3] = ["experiment.json", "experiment.yaml", "experiment.yml"];

/// A Chaos Toolkit experiment read from a file, not yet validated.
#[derive(Clone, Debug)]
pub struct ExperimentFile {
    path: PathBuf,
    /// Where in the file, for a manifest: `ConfigMap hello-world, data.experiment.json`.
    within: Option<String>,
    pub(crate) root: Node,
    env: BTreeMap<String, String>,
}

/// A file that holds no experiment one can read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read it: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file (or the experiment in a manifest) is not well-formed.
    #[error("{path}:{line}:{col}: not valid {format}{within}: {message}", within = within_text(.within))]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where in a manifest, if there.
        within: Option<String>,
        /// The line, in the file.
        line: usize,
        /// The column.
        col: usize,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// The file is well-formed but holds no experiment (or more than one).
    #[error("{path}: {why}")]
    NoExperiment {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        why: String,
    },
}

fn within_text(within: &Option<String>) -> String {
    within
        .as_ref()
        .map(|w| format!(" (in {w})"))
        .unwrap_or_default()
}

impl ExperimentFile {
    /// Reads the experiment in `path`: JSON for `.json`, YAML for `.yaml` and `.yml` (other
    /// names: JSON when the text starts with `{`); in a YAML manifest, the ConfigMap whose
    /// `data` holds `experiment.json` or `experiment.yaml`, and the environment of the
    /// `ChaosToolkitExperiment` resource that names it (`spec.pod.env`, a list of `name` and
    /// `value`).
    ///
    /// ```
    /// use chaos_runtime::ctk::ExperimentFile;
    /// let dir = std::env::temp_dir().join(format!("ctk-load-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("hello.yaml");
    /// std::fs::write(&path, "title: hello\ndescription: d\nmethod: []\n")?;
    /// let file = ExperimentFile::load(&path)?;
    /// assert_eq!(file.title(), Some("hello"));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<ExperimentFile, LoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        ExperimentFile::from_text(path, &text)
    }

    /// As [`ExperimentFile::load`], from `text` said to be the file `path`.
    pub fn from_text(path: &Path, text: &str) -> Result<ExperimentFile, LoadError> {
        let schema = schema_of(&path.to_string_lossy(), text);
        let docs = parse(path, None, text, schema, 0)?;
        let no = |why: String| LoadError::NoExperiment {
            path: path.to_owned(),
            why,
        };
        let maps: Vec<&Node> = docs
            .iter()
            .filter(|d| matches!(d.value, Value::Map(_)))
            .collect();
        let config_maps: Vec<&Node> = maps
            .iter()
            .copied()
            .filter(|d| d.get("kind").and_then(Node::as_str) == Some("ConfigMap"))
            .filter(|d| {
                d.get("data")
                    .is_some_and(|data| DATA_KEYS.iter().any(|k| data.get(k).is_some()))
            })
            .collect();
        match config_maps.as_slice() {
            [] => {}
            [cm] => return ExperimentFile::from_config_map(path, cm, &maps),
            many => {
                return Err(no(format!(
                    "holds {} experiment ConfigMaps ({}): one experiment per file",
                    many.len(),
                    many.iter()
                        .map(|cm| name_of(cm).unwrap_or("?"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
        match maps.as_slice() {
            [root] => Ok(ExperimentFile {
                path: path.to_owned(),
                within: None,
                root: (*root).clone(),
                env: BTreeMap::new(),
            }),
            [] => Err(no(match docs.first() {
                None => "is empty: an experiment is a mapping with a title, a description and a method".to_owned(),
                Some(d) => format!(
                    "holds {}, not an experiment (a mapping with a title, a description and a method)",
                    d.kind()
                ),
            })),
            many => Err(no(format!(
                "holds {} documents and none is a ConfigMap with {}: one experiment per file",
                many.len(),
                DATA_KEYS.join(" or ")
            ))),
        }
    }

    fn from_config_map(
        path: &Path,
        cm: &Node,
        docs: &[&Node],
    ) -> Result<ExperimentFile, LoadError> {
        let name = name_of(cm).unwrap_or_default().to_owned();
        let data = cm.get("data").expect("checked by the caller");
        let (key, text_node) = DATA_KEYS
            .iter()
            .find_map(|k| data.get(k).map(|n| (*k, n)))
            .expect("checked by the caller");
        let within = format!("ConfigMap {name}, data.{key}");
        let Some(text) = text_node.as_str() else {
            return Err(LoadError::NoExperiment {
                path: path.to_owned(),
                why: format!(
                    "{within} is {}, not the experiment's text",
                    text_node.kind()
                ),
            });
        };
        // A block scalar's text starts on the line after its key; a quoted one on its line.
        let offset = if text_node.line > data.entry(key).map_or(0, |e| e.line) {
            text_node.line - 1
        } else {
            text_node.line
        };
        let schema = schema_of(key, text);
        let mut inner = parse(path, Some(&within), text, schema, offset)?;
        let root = match inner.iter().position(|d| matches!(d.value, Value::Map(_))) {
            Some(i) => inner.swap_remove(i),
            None => {
                return Err(LoadError::NoExperiment {
                    path: path.to_owned(),
                    why: format!("{within} holds no experiment (a mapping)"),
                })
            }
        };
        // The environment the operator's resource for this ConfigMap gives the run.
        let mut env = BTreeMap::new();
        for d in docs {
            let Some(pod) = d.get("spec").and_then(|s| s.get("pod")) else {
                continue;
            };
            let names_it = pod
                .get("experiment")
                .and_then(|e| e.get("configMapName"))
                .and_then(Node::as_str)
                .is_none_or(|n| n == name);
            if !names_it {
                continue;
            }
            for var in pod.get("env").map(Node::items).unwrap_or_default() {
                if let (Some(k), Some(v)) = (var.get("name"), var.get("value")) {
                    if let Some(k) = k.as_str() {
                        env.insert(k.to_owned(), scalar_text(v));
                    }
                }
            }
        }
        Ok(ExperimentFile {
            path: path.to_owned(),
            within: Some(within),
            root,
            env,
        })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where it is in a manifest (`ConfigMap hello-world, data.experiment.json`), if in one.
    pub fn within(&self) -> Option<&str> {
        self.within.as_deref()
    }

    /// Its `title`, if it is a string.
    pub fn title(&self) -> Option<&str> {
        self.root.get("title").and_then(Node::as_str)
    }

    /// The environment a manifest's custom resource gives the run (`spec.pod.env`); the
    /// process's own environment wins over it.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// The experiment as JSON (of duplicate keys, the last one, as Chaos Toolkit reads it).
    pub fn to_json(&self) -> serde_json::Value {
        self.root.to_json()
    }

    /// The file's name for messages: its path, and where in it for a manifest.
    pub fn display_name(&self) -> String {
        format!("{}{}", self.path.display(), within_text(&self.within))
    }
}

/// JSON for a `.json` name or text that starts with `{`, YAML (PyYAML's rules) otherwise.
fn schema_of(name: &str, text: &str) -> Schema {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Schema::Json
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Schema::Yaml11
    } else if text.trim_start().starts_with('{') {
        Schema::Json
    } else {
        Schema::Yaml11
    }
}

fn parse(
    path: &Path,
    within: Option<&str>,
    text: &str,
    schema: Schema,
    offset: usize,
) -> Result<Vec<Node>, LoadError> {
    let mut docs = doc::parse(text, schema).map_err(|e| LoadError::Syntax {
        path: path.to_owned(),
        within: within.map(str::to_owned),
        line: e.line + offset,
        col: e.col,
        format: match schema {
            Schema::Json => "JSON",
            Schema::Yaml11 => "YAML",
        },
        message: e.message,
    })?;
    if offset > 0 {
        docs.iter_mut().for_each(|d| d.shift(offset));
    }
    Ok(docs)
}

fn name_of(d: &Node) -> Option<&str> {
    d.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
}

/// A scalar as environment text (`"8080"` for 8080).
fn scalar_text(n: &Node) -> String {
    match &n.value {
        Value::Str(s) => s.clone(),
        Value::Null => String::new(),
        _ => n.to_json().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kill\ndata:\n  experiment.json: |-\n    {\n      \"title\": \"t\",\n      \"method\": 3\n    }\n---\nkind: ChaosToolkitExperiment\nspec:\n  pod:\n    env:\n    - name: NAMESPACE\n      value: sock-shop\n    - name: PORT\n      value: 8080\n    experiment:\n      configMapName: kill\n";

    #[test]
    fn a_config_map_manifest_gives_the_experiment_with_file_lines_and_the_resources_env() {
        let f = ExperimentFile::from_text(Path::new("kill.yaml"), MANIFEST).expect("loads");
        assert_eq!(f.within(), Some("ConfigMap kill, data.experiment.json"));
        assert_eq!(f.title(), Some("t"));
        // `"method": 3` is on line 10 of the manifest.
        assert_eq!(f.root.entry("method").expect("method").line, 10);
        assert_eq!(f.env()["NAMESPACE"], "sock-shop");
        assert_eq!(f.env()["PORT"], "8080");
        assert!(f.display_name().starts_with("kill.yaml (in ConfigMap kill"));
    }

    #[test]
    fn syntax_errors_name_the_file_and_the_manifest_line() {
        let broken = MANIFEST.replace("\"method\": 3", "\"method\": ");
        let e = ExperimentFile::from_text(Path::new("kill.yaml"), &broken).expect_err("broken");
        let text = e.to_string();
        assert!(text.starts_with("kill.yaml:11:"), "{text}");
        assert!(text.contains("not valid JSON (in ConfigMap kill"), "{text}");
        let e = ExperimentFile::from_text(Path::new("x.json"), "{\"a\": [1,\n}").expect_err("x");
        assert!(e.to_string().starts_with("x.json:2:"), "{e}");
    }

    #[test]
    fn files_without_one_experiment_say_what_they_hold() {
        for (text, says) in [
            ("", "is empty"),
            ("[1, 2]", "holds a list"),
            ("a: 1\n---\nb: 2\n", "holds 2 documents"),
        ] {
            let e = ExperimentFile::from_text(Path::new("f.yaml"), text).expect_err(text);
            assert!(e.to_string().contains(says), "{e}");
        }
        let plain = ExperimentFile::from_text(Path::new("f.yml"), "title: x\n").expect("one");
        assert_eq!(plain.within(), None);
        assert!(plain.env().is_empty());
    }
}
