//! Activities: probes, actions and pauses, with their options and tolerances.

use crate::context::Context;
use crate::error::BoxError;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Timeout, pauses and background flag of one activity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivityOptions {
    /// Cancel the activity after this long (it then fails).
    pub timeout: Option<Duration>,
    /// Sleep this long before the activity.
    pub pause_before: Option<Duration>,
    /// Sleep this long after the activity.
    pub pause_after: Option<Duration>,
    /// Run the activity in the background: the method goes on at once, and the activity is
    /// joined at the end of the method.
    pub background: bool,
}

/// What kind of activity an [`Activity`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    /// Observes the system; may carry a tolerance.
    Probe,
    /// Changes the system.
    Action,
    /// Waits.
    Pause,
}

/// The value an activity produced, serialized, with its tolerance verdict.
#[derive(Clone, Debug)]
pub(crate) struct Produced {
    pub output: Value,
    pub tolerance_met: Option<bool>,
}

pub(crate) type RunFn =
    Arc<dyn Fn(Context) -> BoxFuture<'static, Result<Produced, BoxError>> + Send + Sync>;

/// One step of an experiment: a probe, an action or a pause, type-erased.
///
/// Made from a [`Probe`], an [`Action`] or [`Activity::pause`].
#[derive(Clone)]
pub struct Activity {
    pub(crate) name: String,
    pub(crate) kind: ActivityKind,
    pub(crate) options: ActivityOptions,
    pub(crate) tolerance: Option<String>,
    pub(crate) run: Option<RunFn>,
    pub(crate) pause: Option<Duration>,
    /// How journals show it, when given (a Chaos Toolkit activity's own definition).
    pub(crate) definition: Option<Value>,
}

impl Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("options", &self.options)
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl Activity {
    /// A pause of `duration`.
    ///
    /// ```
    /// use chaos_runtime::Activity;
    /// let p = Activity::pause(std::time::Duration::from_millis(500));
    /// assert_eq!(p.name(), "pause 500ms");
    /// ```
    pub fn pause(duration: Duration) -> Activity {
        Activity {
            name: format!("pause {}", crate::time::human(duration)),
            kind: ActivityKind::Pause,
            options: ActivityOptions::default(),
            tolerance: None,
            run: None,
            pause: Some(duration),
            definition: None,
        }
    }

    /// The activity's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Probe, action or pause.
    pub fn kind(&self) -> ActivityKind {
        self.kind
    }
    /// The activity's options.
    pub fn options(&self) -> &ActivityOptions {
        &self.options
    }
    /// The tolerance's text, when the activity is a probe with one.
    pub fn tolerance(&self) -> Option<&str> {
        self.tolerance.as_deref()
    }

    /// The activity as JSON in Chaos Toolkit's keys: the journal's `activity` field (its
    /// [definition](Probe::definition) when it has one).
    pub fn to_json(&self) -> Value {
        if let Some(d) = &self.definition {
            return d.clone();
        }
        let mut v = json!({ "type": self.kind, "name": self.name });
        let m = v.as_object_mut().expect("object");
        if let Some(t) = &self.tolerance {
            m.insert("tolerance".into(), json!(t));
        }
        if let Some(d) = self.pause {
            m.insert("seconds".into(), json!(d.as_secs_f64()));
        }
        if let Some(t) = self.options.timeout {
            m.insert("timeout".into(), json!(t.as_secs_f64()));
        }
        if self.options.background {
            m.insert("background".into(), json!(true));
        }
        if self.options.pause_before.is_some() || self.options.pause_after.is_some() {
            let mut p = serde_json::Map::new();
            if let Some(d) = self.options.pause_before {
                p.insert("before".into(), json!(d.as_secs_f64()));
            }
            if let Some(d) = self.options.pause_after {
                p.insert("after".into(), json!(d.as_secs_f64()));
            }
            m.insert("pauses".into(), Value::Object(p));
        }
        if self.kind != ActivityKind::Pause {
            m.insert("provider".into(), json!({ "type": "rust" }));
        }
        v
    }
}

macro_rules! option_setters {
    () => {
        /// Cancels the activity after `d`; it then fails.
        pub fn timeout(mut self, d: Duration) -> Self {
            self.options.timeout = Some(d);
            self
        }
        /// Sleeps `d` before the activity.
        pub fn pause_before(mut self, d: Duration) -> Self {
            self.options.pause_before = Some(d);
            self
        }
        /// Sleeps `d` after the activity.
        pub fn pause_after(mut self, d: Duration) -> Self {
            self.options.pause_after = Some(d);
            self
        }
        /// Runs the activity in the background (method only): the method goes on at once and
        /// the activity is joined at the end of the method.
        pub fn background(mut self) -> Self {
            self.options.background = true;
            self
        }
        /// How journals show the activity (their `activity` field), instead of what is built
        /// from it: a Chaos Toolkit activity's own definition, with its provider.
        pub fn definition(mut self, json: Value) -> Self {
            self.definition = Some(json);
            self
        }
    };
}

type TypedFn<T> = Arc<dyn Fn(Context) -> BoxFuture<'static, Result<T, BoxError>> + Send + Sync>;
type Check<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;

/// A probe under construction: observes the system and yields a value of type `T`.
///
/// ```
/// use chaos_runtime::{Probe, Activity};
/// let probe = Probe::new("answer", |_cx| async { Ok(42u32) })
///     .tolerance("== 42", |v| *v == 42)
///     .timeout(std::time::Duration::from_secs(1));
/// let activity: Activity = probe.into();
/// assert_eq!(activity.tolerance(), Some("== 42"));
/// ```
pub struct Probe<T> {
    name: String,
    options: ActivityOptions,
    run: TypedFn<T>,
    tolerance: Option<(String, Check<T>)>,
    definition: Option<Value>,
}

impl<T: Serialize + Send + 'static> Probe<T> {
    /// A probe named `name` whose value is what `f`'s future yields.
    pub fn new<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, BoxError>> + Send + 'static,
    {
        Probe {
            name: name.into(),
            options: ActivityOptions::default(),
            run: Arc::new(move |cx| Box::pin(f(cx))),
            tolerance: None,
            definition: None,
        }
    }

    /// The tolerance: `check` says whether the value is within it; `description` is how the
    /// journal and the verdict write it (`== 200`, `in 200..300`).
    pub fn tolerance(
        mut self,
        description: impl Into<String>,
        check: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.tolerance = Some((description.into(), Arc::new(check)));
        self
    }

    option_setters!();
}

impl<T: Serialize + Send + 'static> From<Probe<T>> for Activity {
    fn from(p: Probe<T>) -> Activity {
        let (tolerance, check) = match p.tolerance {
            Some((d, c)) => (Some(d), Some(c)),
            None => (None, None),
        };
        let user = p.run;
        let run: RunFn = Arc::new(move |cx| {
            let fut = user(cx);
            let check = check.clone();
            Box::pin(async move {
                let value = fut.await?;
                let tolerance_met = check.map(|c| c(&value));
                let output = serde_json::to_value(&value)
                    .map_err(|e| format!("the probe's value could not be serialized: {e}"))?;
                Ok(Produced {
                    output,
                    tolerance_met,
                })
            })
        });
        Activity {
            name: p.name,
            kind: ActivityKind::Probe,
            options: p.options,
            tolerance,
            run: Some(run),
            pause: None,
            definition: p.definition,
        }
    }
}

/// An action under construction: changes the system; its value (if any) is recorded.
///
/// ```
/// use chaos_runtime::{Action, Activity};
/// let action: Activity = Action::new("say hello", |_cx| async { Ok("hello") }).into();
/// assert_eq!(action.name(), "say hello");
/// ```
pub struct Action<T> {
    name: String,
    options: ActivityOptions,
    run: TypedFn<T>,
    definition: Option<Value>,
}

impl<T: Serialize + Send + 'static> Action<T> {
    /// An action named `name` that runs `f`'s future.
    pub fn new<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, BoxError>> + Send + 'static,
    {
        Action {
            name: name.into(),
            options: ActivityOptions::default(),
            run: Arc::new(move |cx| Box::pin(f(cx))),
            definition: None,
        }
    }

    option_setters!();
}

impl<T: Serialize + Send + 'static> From<Action<T>> for Activity {
    fn from(a: Action<T>) -> Activity {
        let user = a.run;
        let run: RunFn = Arc::new(move |cx| {
            let fut = user(cx);
            Box::pin(async move {
                let value = fut.await?;
                let output = serde_json::to_value(&value)
                    .map_err(|e| format!("the action's value could not be serialized: {e}"))?;
                Ok(Produced {
                    output,
                    tolerance_met: None,
                })
            })
        });
        Activity {
            name: a.name,
            kind: ActivityKind::Action,
            options: a.options,
            tolerance: None,
            run: Some(run),
            pause: None,
            definition: a.definition,
        }
    }
}
