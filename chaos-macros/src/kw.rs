//! The macro's vocabulary: every word it accepts, each table written once.
//!
//! A table is an enum whose variants are the words of one place in the syntax (the attribute's
//! keys, the outcomes of `expect`, the activity options, ...), with the name as written and,
//! where the help shows more than the name, the form it is written in. The parser recognises
//! words through [`Word::parse`], and every "expected ..." list in an error message is built
//! from the same table by [`Word::expected`]: there is no second, hand-kept list.
//!
//! The outcomes are the one table that mirrors another crate: [`Outcome`]'s variants are named
//! like `chaos_runtime::Outcome`'s (the expansion emits `Outcome::<Variant>`), and the UI pass
//! test `chaos-harness/tests/ui/pass/outcomes.rs` uses every name of this table and checks
//! that together they are `chaos_runtime::Outcome::ALL`. (The macro cannot use the runtime's
//! own list: a proc-macro crate runs at compile time and does not link `chaos-runtime`.)

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::Ident;

// Keywords that the parser peeks at outside of a table.
syn::custom_keyword!(matches);

/// How an "expected ..." list reads.
#[derive(Clone, Copy)]
pub(crate) enum ListStyle {
    /// "one of `a`, `b`, `c`", for long lists.
    OneOf,
    /// "`a`, `b` or `c`".
    Or,
}

/// One table of words.
pub(crate) trait Word: Copy + Sized + 'static {
    /// Every word, in the order of the documentation.
    const ALL: &'static [Self];
    /// What a word of this table is, for errors: "experiment key".
    const WHAT: &'static str;
    const STYLE: ListStyle;
    /// The word as written.
    fn name(self) -> &'static str;
    /// How the help shows it (the name, or a form with its value).
    fn form(self) -> &'static str;

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|w| w.name() == name)
    }

    /// The list of words for an error message: "one of `a`, `b`" or "`a`, `b` or `c`".
    fn expected() -> String {
        let forms: Vec<String> = Self::ALL
            .iter()
            .map(|w| format!("`{}`", w.form()))
            .collect();
        match Self::STYLE {
            ListStyle::OneOf => format!("one of {}", forms.join(", ")),
            ListStyle::Or => match forms.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            },
        }
    }

    /// Parses one word of the table (any identifier, keywords included, so that `crate` and
    /// `r#type` are read too); an identifier outside the table is an error that lists the
    /// table.
    fn parse(input: ParseStream) -> syn::Result<(Self, Span)> {
        let ident = input.call(Ident::parse_any)?;
        Self::from_ident(&ident)
    }

    fn from_ident(ident: &Ident) -> syn::Result<(Self, Span)> {
        let name = ident.unraw().to_string();
        match Self::from_name(&name) {
            Some(w) => Ok((w, ident.span())),
            None => Err(syn::Error::new(
                ident.span(),
                format!(
                    "unknown {} `{name}`; expected {}",
                    Self::WHAT,
                    Self::expected()
                ),
            )),
        }
    }
}

/// Defines one table: `Variant = "name"` or `Variant = "name" => "form as shown in help"`.
macro_rules! table {
    (
        $(#[$doc:meta])*
        $Enum:ident ($what:literal, $style:ident) {
            $($(#[$vdoc:meta])* $Variant:ident = $name:literal $(=> $form:literal)?,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub(crate) enum $Enum {
            $($(#[$vdoc])* $Variant,)+
        }

        impl Word for $Enum {
            const ALL: &'static [Self] = &[$($Enum::$Variant,)+];
            const WHAT: &'static str = $what;
            const STYLE: ListStyle = ListStyle::$style;
            fn name(self) -> &'static str {
                match self {
                    $($Enum::$Variant => $name,)+
                }
            }
            fn form(self) -> &'static str {
                match self {
                    $($Enum::$Variant => table!(@form $name $(, $form)?),)+
                }
            }
        }

        impl $Enum {
            /// The variant's name, as the runtime spells its counterpart.
            #[allow(dead_code)]
            pub(crate) fn variant(self) -> &'static str {
                match self {
                    $($Enum::$Variant => stringify!($Variant),)+
                }
            }
        }
    };
    (@form $name:literal) => { $name };
    (@form $name:literal, $form:literal) => { $form };
}

table! {
    /// The keys of `#[experiment(...)]`.
    Key("experiment key", OneOf) {
        Title = "title",
        Description = "description",
        Tags = "tags",
        Hypothesis = "hypothesis",
        Rollbacks = "rollbacks",
        Timeout = "timeout",
        Ignore = "ignore",
        Snapshot = "snapshot",
        Expect = "expect",
        Group = "group",
        Parallel = "parallel",
        Weight = "weight",
        /// When it may run: a window text, or `"always"`.
        Window = "window",
        /// The least time between two starts.
        MinInterval = "min_interval",
        /// What it touches in a cluster, for the RBAC of its in-cluster Job.
        Touches = "touches",
        /// The path of the `chaos_harness` crate, for a renamed or re-exported dependency.
        Crate = "crate",
    }
}

table! {
    /// The outcomes `expect = ...` names: `chaos_runtime::Outcome`'s variants, in snake case.
    Outcome("outcome", OneOf) {
        Passed = "passed",
        BaselineNotMet = "baseline_not_met",
        Deviated = "deviated",
        ActivityFailed = "activity_failed",
        RollbackFailed = "rollback_failed",
        Aborted = "aborted",
        Interrupted = "interrupted",
        Error = "error",
    }
}

table! {
    /// `hypothesis = ...`: `chaos_runtime::Hypothesis`'s variants.
    Strategy("hypothesis strategy", Or) {
        Default = "default",
        BeforeMethodOnly = "before_method_only",
        AfterMethodOnly = "after_method_only",
        DuringMethodOnly = "during_method_only" => "during_method_only(every = 1s, fail_fast)",
        Continuously = "continuously" => "continuously(every = 1s, fail_fast)",
    }
}

impl Strategy {
    /// Whether the strategy samples during the method, and so takes `(every, fail_fast)`.
    pub(crate) fn samples(self) -> bool {
        matches!(self, Strategy::DuringMethodOnly | Strategy::Continuously)
    }
}

table! {
    /// The arguments of a sampling strategy, `continuously(every = 1s, fail_fast)`.
    HypothesisOption("hypothesis option", Or) {
        Every = "every" => "every = <duration>",
        FailFast = "fail_fast",
    }
}

table! {
    /// `rollbacks = ...`: `chaos_runtime::RollbackStrategy`'s variants.
    Rollbacks("rollback strategy", Or) {
        Always = "always",
        Never = "never",
        Deviated = "deviated",
    }
}

table! {
    /// The options of an activity, in `[...]`.
    ActivityOption("activity option", Or) {
        Timeout = "timeout" => "timeout = <duration>",
        PauseBefore = "pause_before" => "pause_before = <duration>",
        PauseAfter = "pause_after" => "pause_after = <duration>",
        Background = "background",
    }
}

table! {
    /// The blocks of an experiment's body, and the builder methods they feed.
    Block("block", Or) {
        SteadyState = "steady_state" => "steady_state!",
        Method = "method" => "method!",
        Rollback = "rollback" => "rollback!",
    }
}

table! {
    /// The activities of a block.
    ActivityKind("activity", Or) {
        Probe = "probe" => "probe \"name\" { ... }",
        Action = "action" => "action \"name\" { ... }",
        Pause = "pause" => "pause <duration>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_come_from_the_tables() {
        assert_eq!(Rollbacks::expected(), "`always`, `never` or `deviated`");
        assert_eq!(
            HypothesisOption::expected(),
            "`every = <duration>` or `fail_fast`"
        );
        assert!(Key::expected().starts_with("one of `title`, `description`,"));
        assert!(Key::expected()
            .ends_with("`parallel`, `weight`, `window`, `min_interval`, `touches`, `crate`"));
        assert_eq!(Block::SteadyState.form(), "steady_state!");
        assert_eq!(Outcome::BaselineNotMet.variant(), "BaselineNotMet");
    }

    #[test]
    fn words_parse_raw_and_reserved() {
        let p = |s: &str| syn::parse::Parser::parse_str(Key::parse, s).map(|(k, _)| k);
        assert_eq!(p("crate").unwrap(), Key::Crate);
        assert_eq!(p("r#title").unwrap(), Key::Title);
        let e = p("titel").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown experiment key `titel`; expected one of `title`"),
            "{e}"
        );
    }

    /// The outcome names are the runtime's `Outcome` variants in snake case, and the runtime's
    /// kebab-case names with `_` (`baseline-not-met`). The pass test `outcomes.rs` checks the
    /// same against `chaos_runtime::Outcome::ALL`.
    #[test]
    fn outcome_names_are_snake_case_variants() {
        for o in Outcome::ALL {
            let snake: String = o
                .variant()
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let sep = (i > 0 && c.is_ascii_uppercase()).then_some('_');
                    sep.into_iter().chain([c.to_ascii_lowercase()])
                })
                .collect();
            assert_eq!(snake, o.name());
        }
    }
}
