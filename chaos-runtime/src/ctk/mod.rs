//! Chaos Toolkit experiments, unchanged: read from JSON or YAML files (or the Kubernetes
//! ConfigMap manifests the Chaos Toolkit operator reads), validated as `chaos validate` does
//! it and stricter where Chaos Toolkit is silently wrong.
//!
//! ```
//! use chaos_runtime::ctk::ExperimentFile;
//! let file = ExperimentFile::from_text(
//!     "exp.json".as_ref(),
//!     r#"{"title": "t", "description": "d", "method": []}"#,
//! )?;
//! assert_eq!(file.title(), Some("t"));
//! # Ok::<(), chaos_runtime::ctk::LoadError>(())
//! ```

mod build;
pub(crate) mod doc;
pub mod functions;
mod http;
mod jsonpath;
mod process;
mod python;
#[cfg(feature = "aws")]
mod python_aws;
#[cfg(feature = "k8s")]
mod python_k8s;
mod source;
mod substitute;
mod tolerance;
mod validate;
mod vars;

pub use build::{CtkError, RunOptions};
pub use source::{ExperimentFile, LoadError};
pub use validate::{Inputs, Problem, ValidationError};
