//! How many of the matching objects an action takes, and which: one choice type for every
//! target, drawn from the run's seed, and the selection a target records in the journal.

use crate::context::Context;
use crate::target::TargetContext;
use serde::Serialize;
use serde_json::{Map, Value};

/// How many of the matching objects to take.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Amount {
    /// All of them.
    All,
    /// This many (all of them when fewer match).
    Count(usize),
    /// This percentage, rounded up; at least one when any match.
    Percent(f64),
}

impl Amount {
    /// How many of `matched` objects this amount takes.
    pub fn of(self, matched: usize) -> usize {
        match self {
            Amount::All => matched,
            Amount::Count(n) => n.min(matched),
            Amount::Percent(p) => {
                if matched == 0 {
                    0
                } else {
                    // Rounded up, but 10% of 50 is 5, not 6 (floating point noise).
                    let exact = matched as f64 * p.clamp(0.0, 100.0) / 100.0;
                    let n = (exact - 1e-9).ceil().max(0.0) as usize;
                    n.clamp(1, matched)
                }
            }
        }
    }
}

/// Which of the matching objects to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Order {
    /// At random, from the run's seed (the same seed and the same objects give the same
    /// choice).
    Random,
    /// The oldest first (by creation time, then name).
    Oldest,
    /// The first by name (namespace, then name), as Chaos Toolkit's `order: alphabetic`.
    Name,
}

/// A choice among the matching objects: an [`Amount`] taken in an [`Order`].
///
/// ```
/// use chaos_runtime::target::{Amount, Order, Select};
/// assert_eq!(Select::random(1).amount, Amount::Count(1));
/// assert_eq!(Select::percent(30.0).oldest_first().order, Order::Oldest);
/// assert_eq!(Select::percent(30.0).amount.of(10), 3);
/// assert_eq!(Select::percent(25.0).amount.of(3), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Select {
    /// How many.
    pub amount: Amount,
    /// Which.
    pub order: Order,
}

impl Select {
    /// Every matching object.
    pub fn all() -> Select {
        Select {
            amount: Amount::All,
            order: Order::Random,
        }
    }
    /// `n` of them at random (all when fewer match).
    pub fn random(n: usize) -> Select {
        Select {
            amount: Amount::Count(n),
            order: Order::Random,
        }
    }
    /// `n` of them at random; the same as [`Select::random`].
    pub fn count(n: usize) -> Select {
        Select::random(n)
    }
    /// `p` percent of them (rounded up, at least one when any match), at random.
    pub fn percent(p: f64) -> Select {
        Select {
            amount: Amount::Percent(p),
            order: Order::Random,
        }
    }
    /// The `n` oldest.
    pub fn oldest(n: usize) -> Select {
        Select {
            amount: Amount::Count(n),
            order: Order::Oldest,
        }
    }
    /// The same amount, oldest first instead of at random.
    pub fn oldest_first(self) -> Select {
        Select {
            order: Order::Oldest,
            ..self
        }
    }
    /// The same amount, the first by name instead of at random.
    ///
    /// ```
    /// use chaos_runtime::target::{Order, Select};
    /// assert_eq!(Select::count(2).by_name().order, Order::Name);
    /// assert_eq!(Select::count(2).by_name().describe(), "first 2");
    /// ```
    pub fn by_name(self) -> Select {
        Select {
            order: Order::Name,
            ..self
        }
    }

    /// Picks indices into `names` (sorted), whose creation times are `created` (seconds since
    /// the epoch, same order): at random from the run's seed, or the oldest.
    pub(crate) fn pick(&self, cx: &Context, names: &[String], created: &[i64]) -> Vec<usize> {
        let n = self.amount.of(names.len());
        let mut picked = match self.order {
            Order::Random => cx.with_rng(|r| r.choose_indices(names.len(), n)),
            Order::Name => {
                let mut idx: Vec<usize> = (0..names.len()).collect();
                idx.sort_by(|a, b| names[*a].cmp(&names[*b]));
                idx.truncate(n);
                idx
            }
            Order::Oldest => {
                let mut idx: Vec<usize> = (0..names.len()).collect();
                idx.sort_by(|a, b| {
                    created[*a]
                        .cmp(&created[*b])
                        .then(names[*a].cmp(&names[*b]))
                });
                idx.truncate(n);
                idx
            }
        };
        picked.sort_unstable();
        picked
    }

    /// Chooses among `all` (sorted), named by `name` and created at `created` (seconds since
    /// the epoch; any constant when unknown: the oldest are then the first by name).
    pub fn choose<T: Clone>(
        &self,
        cx: &Context,
        all: &[T],
        name: impl Fn(&T) -> String,
        created: impl Fn(&T) -> i64,
    ) -> Selection<T> {
        let names: Vec<String> = all.iter().map(name).collect();
        let created: Vec<i64> = all.iter().map(created).collect();
        Selection {
            matched: all.len(),
            choice: self.describe(),
            chosen: self
                .pick(cx, &names, &created)
                .into_iter()
                .map(|i| all[i].clone())
                .collect(),
        }
    }

    /// How the journal shows this choice (`random 1`, `oldest 30%`, `all`).
    pub fn describe(&self) -> String {
        let order = match self.order {
            Order::Random => "random",
            Order::Oldest => "oldest",
            Order::Name => "first",
        };
        match self.amount {
            Amount::All => "all".into(),
            Amount::Count(n) => format!("{order} {n}"),
            Amount::Percent(p) => format!("{order} {p}%"),
        }
    }
}

/// The objects a run chose and from what; recorded in the journal's `targets`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Selection<T> {
    /// How many objects matched.
    pub matched: usize,
    /// The choice (`random 1`, `oldest 30%`, `all`).
    pub choice: String,
    /// The chosen objects, in the order of the matching ones (sorted by the target).
    pub chosen: Vec<T>,
}

impl<T> Selection<T> {
    /// Records the selection in the journal's `targets`: `target` (`k8s-pods`, `aws-ec2`),
    /// what was asked for (`query`: namespace, selectors, filters...), the choice, how many
    /// matched, the chosen objects as `name` gives them, and whether this is a dry run.
    ///
    /// ```
    /// use chaos_runtime::target::{Select, TargetContext};
    /// use chaos_runtime::Context;
    /// let cx = Context::builder().seed(1).build();
    /// let all = ["a", "b", "c"];
    /// let sel = Select::random(2).choose(&cx, &all, |s| s.to_string(), |_| 0);
    /// let query = serde_json::json!({ "pattern": "*" });
    /// sel.record(&cx, "doc-things", query, |s| s.to_string(), false);
    /// assert_eq!(cx.recorded_targets()[0]["matched"], 3);
    /// ```
    pub fn record(
        &self,
        cx: &Context,
        target: &str,
        query: Value,
        name: impl Fn(&T) -> String,
        dry_run: bool,
    ) {
        let mut entry = Map::new();
        entry.insert("target".into(), Value::from(target));
        if let Value::Object(query) = query {
            entry.extend(query);
        }
        entry.insert("choice".into(), Value::from(self.choice.clone()));
        entry.insert("matched".into(), Value::from(self.matched));
        let chosen: Vec<Value> = self.chosen.iter().map(|t| Value::from(name(t))).collect();
        entry.insert("chosen".into(), Value::Array(chosen));
        entry.insert("dry_run".into(), Value::from(dry_run));
        cx.record_targets(Value::Object(entry));
    }
}

/// Whether `name` matches the name pattern `pattern`: `*` matches any run of characters, `?`
/// one character; anything else matches itself. Targets use it for `name = "web-*"` filters.
///
/// ```
/// use chaos_runtime::target::glob;
/// assert!(glob("web-*", "web-7f9c"));
/// assert!(!glob("web-?", "web-12"));
/// ```
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_up() {
        assert_eq!(Amount::Percent(10.0).of(50), 5);
        assert_eq!(Amount::Percent(10.0).of(5000), 500);
        assert_eq!(Amount::Percent(1.0).of(5), 1);
        assert_eq!(Amount::Percent(1.0).of(10_000), 100);
        assert_eq!(Amount::Percent(34.0).of(3), 2);
        assert_eq!(Amount::Percent(0.0).of(3), 1);
        assert_eq!(Amount::Percent(50.0).of(0), 0);
        assert_eq!(Amount::Count(7).of(3), 3);
        assert_eq!(Amount::All.of(4), 4);
    }

    #[test]
    fn oldest_first_then_name() {
        let cx = Context::builder().seed(1).build();
        let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let created = [30, 10, 20, 10];
        assert_eq!(Select::oldest(2).pick(&cx, &names, &created), vec![1, 3]);
        assert_eq!(Select::oldest(3).pick(&cx, &names, &created), vec![1, 2, 3]);
    }

    #[test]
    fn random_is_seeded() {
        let names: Vec<String> = (0..100).map(|i| format!("p{i:03}")).collect();
        let created = vec![0; 100];
        let pick =
            |seed| Select::random(5).pick(&Context::builder().seed(seed).build(), &names, &created);
        assert_eq!(pick(7), pick(7));
        assert_ne!(pick(7), pick(8));
        assert_eq!(pick(7).len(), 5);
    }

    #[test]
    fn globs() {
        assert!(glob("web-*", "web-abc12"));
        assert!(!glob("web-*", "api-1"));
        assert!(glob("*-?2", "web-12"));
        assert!(glob("*", ""));
        assert!(glob("web", "web"));
        assert!(!glob("web", "web-1"));
        assert!(glob("a*b*c", "axxbyyc"));
    }
}
