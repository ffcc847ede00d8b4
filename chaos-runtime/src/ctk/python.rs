//! Calls of Chaos Toolkit's Python functions, run by their native equivalents on this
//! framework's targets (see [`functions`](super::functions) for the list): arguments read with
//! the Python signature's names and defaults, values shaped as the Python function returns
//! them so that tolerances written against it hold.

use super::functions::{self, Target};
use crate::Context;
use serde_json::{Map, Value};

/// Calls `module.func` with `args`.
pub(crate) async fn call(
    module: &str,
    func: &str,
    args: &Map<String, Value>,
    cx: &Context,
) -> Result<Value, String> {
    let f = functions::find(module, func)
        .ok_or_else(|| format!("`{module}.{func}` has no native equivalent here"))?;
    // A deprecated name runs the function it calls.
    let path = f.calls.map_or_else(|| f.path(), str::to_owned);
    let args = Args {
        f: &f.path(),
        map: args,
    };
    match f.target {
        #[cfg(feature = "k8s")]
        Target::Kubernetes => super::python_k8s::call(&path, f.name, &args, cx).await,
        #[cfg(feature = "aws")]
        Target::Ec2 => super::python_aws::call(&path, &args, cx).await,
        #[allow(unreachable_patterns)]
        target => {
            let _ = (cx, &path);
            Err(format!(
                "`{}` runs on the {} target: build with the `{}` feature of chaos-harness",
                args.f,
                match target {
                    Target::Kubernetes => "Kubernetes",
                    Target::Ec2 => "AWS EC2",
                },
                match target {
                    Target::Kubernetes => "k8s",
                    Target::Ec2 => "aws",
                }
            ))
        }
    }
}

/// A call's arguments, read with the Python signature's defaults.
pub(crate) struct Args<'a> {
    /// The function, for messages.
    pub f: &'a str,
    pub map: &'a Map<String, Value>,
}

#[cfg_attr(not(feature = "k8s"), allow(dead_code))]
impl Args<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A string argument (`None` when absent or null).
    pub fn str(&self, name: &str) -> Result<Option<String>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(format!(
                "{}: argument `{name}` must be a string, not {v}",
                self.f
            )),
        }
    }

    /// A string argument with a default.
    pub fn str_or(&self, name: &str, default: &str) -> Result<String, String> {
        Ok(self.str(name)?.unwrap_or_else(|| default.to_owned()))
    }

    /// A required string argument.
    pub fn required(&self, name: &str) -> Result<String, String> {
        self.str(name)?
            .ok_or_else(|| format!("{}: argument `{name}` is required", self.f))
    }

    /// An integer argument (a string of digits too, as Python would fail later; we say so).
    pub fn int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
                format!(
                    "{}: argument `{name}` must be an integer, not {s:?}",
                    self.f
                )
            }),
            Some(v) => Err(format!(
                "{}: argument `{name}` must be an integer, not {v}",
                self.f
            )),
        }
    }

    /// A number argument.
    pub fn number(&self, name: &str) -> Result<Option<f64>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| {
                    format!("{}: argument `{name}` must be a number, not {s:?}", self.f)
                })
            }
            Some(v) => Err(format!(
                "{}: argument `{name}` must be a number, not {v}",
                self.f
            )),
        }
    }

    /// A boolean argument with a default (Python truthiness for other values).
    pub fn bool_or(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            Some(_) => true,
        }
    }
}
