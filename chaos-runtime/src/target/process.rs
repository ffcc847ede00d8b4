//! The process target: run a program with arguments, environment and timeout; exit status,
//! stdout and stderr as values.
//!
//! ```
//! # async fn action() -> Result<(), chaos_runtime::BoxError> {
//! use chaos_runtime::target::process;
//! let out = process::run("echo").arg("hello").await?;
//! assert_eq!(out.status, Some(0));
//! assert_eq!(out.stdout, "hello\n");
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(action()).unwrap();
//! ```

use serde::Serialize;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

/// A command under construction; `.await` it (or call [`Command::output`]) to run it.
#[derive(Clone, Debug)]
#[must_use = "a command does nothing until it is awaited"]
pub struct Command {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    current_dir: Option<std::path::PathBuf>,
    timeout: Option<Duration>,
    check: bool,
}

/// A command running `program` (looked up in `PATH` unless it is a path).
pub fn run(program: impl Into<String>) -> Command {
    Command {
        program: program.into(),
        args: Vec::new(),
        env: Vec::new(),
        current_dir: None,
        timeout: None,
        check: false,
    }
}

impl Command {
    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
    /// Adds arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
    /// Sets an environment variable for the process.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }
    /// Runs the process in `dir`.
    pub fn current_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }
    /// Kills the process and fails after `d`.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
    /// Makes a non-zero exit status an error (by default it is a value to check).
    pub fn check(mut self) -> Self {
        self.check = true;
        self
    }

    fn describe(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the command to completion and collects its output. The process is killed if the
    /// future is dropped (an activity timeout) or its own timeout passes.
    pub async fn output(self) -> Result<Output, ProcessError> {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(d) = &self.current_dir {
            cmd.current_dir(d);
        }
        let child = cmd.output();
        let out = match self.timeout {
            Some(t) => tokio::time::timeout(t, child)
                .await
                .map_err(|_| ProcessError::Timeout {
                    command: self.describe(),
                    timeout: t,
                })?,
            None => child.await,
        }
        .map_err(|source| ProcessError::Spawn {
            command: self.describe(),
            source,
        })?;
        let output = Output {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        if self.check && output.status != Some(0) {
            return Err(ProcessError::Failed {
                command: self.describe(),
                status: output.status,
                stderr: output.stderr.trim().to_owned(),
            });
        }
        Ok(output)
    }
}

impl IntoFuture for Command {
    type Output = Result<Output, ProcessError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.output())
    }
}

/// What a process did. Serializes as Chaos Toolkit's process output:
/// `{"status", "stdout", "stderr"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Output {
    /// The exit code; `None` when a signal ended the process.
    pub status: Option<i32>,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
}

impl Output {
    /// Whether the process exited with status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
}

/// A process could not be run, ran too long, or (with [`Command::check`]) failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The process could not be started or waited for.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The error.
        source: std::io::Error,
    },
    /// The timeout passed; the process was killed.
    #[error("`{command}` did not finish within {}; killed", crate::time::human(*timeout))]
    Timeout {
        /// The command line.
        command: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The process exited with a non-zero status.
    #[error("`{command}` exited with status {}: {stderr}", status.map(|s| s.to_string()).unwrap_or_else(|| "signal".into()))]
    Failed {
        /// The command line.
        command: String,
        /// The exit code.
        status: Option<i32>,
        /// Its standard error, trimmed.
        stderr: String,
    },
}
