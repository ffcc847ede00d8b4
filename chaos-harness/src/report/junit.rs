//! The JUnit XML file of a harness run (`[report] junit`, `CHAOS_JUNIT`): one testsuite per
//! experiment (its properties: outcome, expected outcome, seed, journal) holding one testcase,
//! classname the experiment's module path and name its function (or file) name.
//!
//! Outcomes map as CI systems read them: `passed` (or the outcome an experiment `expect`s) is a
//! success; `deviated`, a snapshot that differs, or an outcome other than the expected one is a
//! `<failure>` (the system missed its hypothesis); `baseline-not-met`, `activity-failed`,
//! `rollback-failed`, `aborted`, `interrupted` and `error` are an `<error>` (the experiment could
//! not test its hypothesis); an ignored experiment is `<skipped>`. The verdict is the message
//! (its first line) and the body.
//!
//! The file validates against the JUnit schema Jenkins' xUnit plugin ships (`junit-10.xsd`),
//! which GitLab reads too; quick-junit (nextest's writer) is not used because it writes
//! attributes that schema refuses (`skipped` on `<testsuites>`).
//!
//! The cases come from [`super::cases`], which also gathers them across nextest's processes.

pub(crate) use super::cases::Case;
use chaos_runtime::Outcome;
use quick_xml::events::BytesText;
use quick_xml::Writer;
use std::io;

/// How CI systems read a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Success,
    Failure,
    Error,
    Skipped,
}

impl Case {
    pub(super) fn status(&self) -> Status {
        match self.outcome {
            None => Status::Skipped,
            Some(_) if self.problems.is_empty() => Status::Success,
            Some(o) if o == self.expected => Status::Failure, // a snapshot that differs
            Some(Outcome::Deviated) | Some(Outcome::Passed) => Status::Failure,
            Some(_) if self.expected != Outcome::Passed => Status::Failure,
            Some(_) => Status::Error,
        }
    }

    /// `(classname, name)`: the module path and the last segment.
    pub(super) fn names(&self, target: &str) -> (String, String) {
        match self.name.rsplit_once("::") {
            Some((module, f)) => (module.to_owned(), f.to_owned()),
            None => (target.to_owned(), self.name.clone()),
        }
    }
}

/// Text as XML may hold it: no control characters but tab and newlines.
fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .collect()
}

/// The JUnit XML of `cases`, for the test target `target`.
pub(crate) fn render(target: &str, cases: &[Case]) -> Vec<u8> {
    let count = |s: Status| cases.iter().filter(|c| c.status() == s).count();
    let total: f64 = cases.iter().map(|c| c.seconds).sum();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let result = (|| -> io::Result<()> {
        w.write_event(quick_xml::events::Event::Decl(
            quick_xml::events::BytesDecl::new("1.0", Some("UTF-8"), None),
        ))?;
        w.create_element("testsuites")
            .with_attribute(("name", target))
            .with_attribute(("tests", cases.len().to_string().as_str()))
            .with_attribute(("failures", count(Status::Failure).to_string().as_str()))
            .with_attribute(("errors", count(Status::Error).to_string().as_str()))
            .with_attribute(("time", format!("{total:.3}").as_str()))
            .write_inner_content(|w| {
                for case in cases {
                    suite(w, target, case)?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    // Writing to a Vec cannot fail.
    debug_assert!(result.is_ok());
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}

fn suite(w: &mut Writer<Vec<u8>>, target: &str, case: &Case) -> io::Result<()> {
    let status = case.status();
    let one = |s: Status| if status == s { "1" } else { "0" };
    let time = format!("{:.3}", case.seconds.max(0.0));
    let mut el = w
        .create_element("testsuite")
        .with_attribute(("name", case.name.as_str()))
        .with_attribute(("tests", "1"))
        .with_attribute(("failures", one(Status::Failure)))
        .with_attribute(("errors", one(Status::Error)))
        .with_attribute(("skipped", one(Status::Skipped)))
        .with_attribute(("time", time.as_str()));
    if let Some(start) = &case.start {
        el = el.with_attribute(("timestamp", start.as_str()));
    }
    el.write_inner_content(|w| {
        w.create_element("properties").write_inner_content(|w| {
            let outcome = case.outcome.map_or("not run", |o| o.as_str());
            let seed = case.seed.map(|s| s.to_string());
            let journal = case.journal.as_ref().map(|j| j.display().to_string());
            let props = [
                ("outcome", Some(outcome)),
                ("expected", Some(case.expected.as_str())),
                ("seed", seed.as_deref()),
                ("journal", journal.as_deref()),
            ];
            for (name, value) in props {
                if let Some(value) = value {
                    w.create_element("property")
                        .with_attribute(("name", name))
                        .with_attribute(("value", xml_text(value).as_str()))
                        .write_empty()?;
                }
            }
            Ok(())
        })?;
        let (classname, name) = case.names(target);
        let tc = w
            .create_element("testcase")
            .with_attribute(("name", name.as_str()))
            .with_attribute(("classname", classname.as_str()))
            .with_attribute(("time", time.as_str()));
        let body = xml_text(&case.problems.join("\n"));
        let message = body.lines().next().unwrap_or_default().to_owned();
        let outcome = case.outcome.map_or("ignored", |o| o.as_str());
        match status {
            Status::Success => {
                tc.write_empty()?;
            }
            Status::Skipped => {
                tc.write_inner_content(|w| {
                    w.create_element("skipped")
                        .with_attribute((
                            "message",
                            xml_text(case.skipped.as_deref().unwrap_or("ignored")).as_str(),
                        ))
                        .write_empty()?;
                    Ok(())
                })?;
            }
            Status::Failure | Status::Error => {
                let element = if status == Status::Failure {
                    "failure"
                } else {
                    "error"
                };
                tc.write_inner_content(|w| {
                    w.create_element(element)
                        .with_attribute(("type", outcome))
                        .with_attribute(("message", message.as_str()))
                        .write_text_content(BytesText::new(&body))?;
                    Ok(())
                })?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests;
