//! Chaos Toolkit's `process` provider: `path` (found in `$PATH`, or as given when it holds a
//! `/`), `arguments` as a string (run through `/bin/sh -c "<path> <arguments>"`), a list (run
//! directly; `null` and empty items dropped) or a mapping (flattened to key, value, ...), and
//! `timeout` in seconds. Its value is `{status, stdout, stderr}`; a non-zero status does not fail
//! the activity (the tolerance decides), a timeout does, and the process is killed.

use super::substitute::python_str;
use super::validate::find_program;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// One `process` provider, its arguments' placeholders replaced.
#[derive(Clone, Debug)]
pub(crate) struct ProcessCall {
    pub path: String,
    pub arguments: Option<Value>,
    pub timeout: Option<Duration>,
}

impl ProcessCall {
    /// The call a provider mapping describes.
    pub(crate) fn from_provider(p: &Map<String, Value>) -> Result<ProcessCall, String> {
        let path = match p.get("path") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            other => {
                return Err(format!(
                    "the process provider's path is {}",
                    other.map_or("missing".into(), Value::to_string)
                ))
            }
        };
        let timeout = match p.get("timeout") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_f64()
                    .filter(|s| *s > 0.0 && s.is_finite())
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        format!("the process provider's timeout {v} is not a positive number of seconds")
                    })?,
            ),
        };
        Ok(ProcessCall {
            path,
            arguments: p.get("arguments").filter(|a| !a.is_null()).cloned(),
            timeout,
        })
    }

    /// Runs it: `{status, stdout, stderr}`.
    pub(crate) async fn run(&self) -> Result<Value, String> {
        let expanded = match self.path.strip_prefix("~/") {
            Some(rest) => {
                std::env::var("HOME").map_or(self.path.clone(), |h| format!("{h}/{rest}"))
            }
            None => self.path.clone(),
        };
        let program = find_program(&expanded)
            .ok_or_else(|| format!("path '{}' cannot be found", self.path))?;
        let mut cmd = match &self.arguments {
            Some(Value::String(args)) => {
                let mut c = tokio::process::Command::new("/bin/sh");
                c.arg("-c").arg(format!("{} {args}", program.display()));
                c
            }
            other => {
                let mut c = tokio::process::Command::new(&program);
                let items: Vec<Value> = match other {
                    Some(Value::Array(items)) => items.clone(),
                    Some(Value::Object(m)) => m
                        .iter()
                        .flat_map(|(k, v)| [Value::String(k.clone()), v.clone()])
                        .collect(),
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                };
                c.args(
                    items
                        .iter()
                        .filter(|v| !v.is_null() && v.as_str() != Some(""))
                        .map(python_str),
                );
                c
            }
        };
        cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
        let out = cmd.output();
        let out = match self.timeout {
            Some(t) => tokio::time::timeout(t, out)
                .await
                .map_err(|_| "process activity took too long to complete".to_owned())?,
            None => out.await,
        }
        .map_err(|e| format!("could not run {}: {e}", program.display()))?;
        let status = match out.status.code() {
            Some(c) => c,
            None => {
                use std::os::unix::process::ExitStatusExt;
                -out.status.signal().unwrap_or(0)
            }
        };
        Ok(json!({
            "status": status,
            "stdout": String::from_utf8_lossy(&out.stdout),
            "stderr": String::from_utf8_lossy(&out.stderr),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: Value) -> Value {
        let call = ProcessCall::from_provider(p.as_object().expect("map")).expect("a call");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(call.run())
            .expect("runs")
    }

    #[test]
    fn strings_run_through_a_shell_and_lists_directly() {
        let out = run(json!({"path": "echo", "arguments": "a  'b c' | tr a A"}));
        assert_eq!(out, json!({"status": 0, "stdout": "A b c\n", "stderr": ""}));
        let out = run(json!({"path": "echo", "arguments": ["a", null, "", 1, true, "b c"]}));
        assert_eq!(out["stdout"], "a 1 True b c\n");
        let out = run(json!({"path": "sh", "arguments": ["-c", "echo err >&2; exit 3"]}));
        assert_eq!(out, json!({"status": 3, "stdout": "", "stderr": "err\n"}));
        let call = ProcessCall::from_provider(
            json!({"path": "sleep", "arguments": ["5"], "timeout": 0.2})
                .as_object()
                .expect("map"),
        )
        .expect("a call");
        let e = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(call.run())
            .expect_err("too long");
        assert_eq!(e, "process activity took too long to complete");
    }
}
