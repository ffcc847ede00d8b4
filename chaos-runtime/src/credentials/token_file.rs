//! [`TokenFile`]: a bearer token read from a file, afresh on every load.

use super::{CredentialError, CredentialErrorKind, CredentialProvider, Credentials};
use std::path::{Path, PathBuf};

/// A bearer token read from a file (Kallisti's `TOKEN_FILE`). Kind: `token-file`.
///
/// The file is read on every load, so a rotated token is picked up; trailing whitespace (the
/// final newline) is trimmed, and a file that is empty after trimming is an error.
///
/// ```
/// use chaos_runtime::credentials::{CredentialProvider, TokenFile};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("token");
/// std::fs::write(&path, "token-file-doc-value\n")?;
/// let creds = TokenFile::new(&path).load()?;
/// assert_eq!(creds.token.unwrap().expose(), "token-file-doc-value");
///
/// std::fs::write(&path, "\n")?;
/// let err = TokenFile::new(&path).load().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     format!("credentials (token-file): token file `{}` is empty", path.display())
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    /// The kind, as [`CredentialProvider::kind`] returns it.
    ///
    /// ```
    /// use chaos_runtime::credentials::TokenFile;
    /// assert_eq!(TokenFile::KIND, "token-file");
    /// ```
    pub const KIND: &'static str = "token-file";

    /// Reads the token from `path` (relative paths: from the current directory).
    ///
    /// ```
    /// use chaos_runtime::credentials::TokenFile;
    /// let provider = TokenFile::new("/run/secrets/api-token");
    /// assert_eq!(provider.path(), std::path::Path::new("/run/secrets/api-token"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenFile { path: path.into() }
    }

    /// The token file.
    ///
    /// ```
    /// use chaos_runtime::credentials::TokenFile;
    /// assert_eq!(TokenFile::new("token").path(), std::path::Path::new("token"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl CredentialProvider for TokenFile {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn load(&self) -> Result<Credentials, CredentialError> {
        let token = read_token(Self::KIND, &self.path)?;
        tracing::debug!(path = %self.path.display(), "read a token file");
        Ok(Credentials::from_token(token))
    }
}

/// Reads a token file: trailing whitespace trimmed, empty is an error.
pub(super) fn read_token(provider: &'static str, path: &Path) -> Result<String, CredentialError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        CredentialError::new(
            provider,
            CredentialErrorKind::Read {
                file: "token file",
                path: path.to_owned(),
                source,
            },
        )
    })?;
    let token = text.trim_end();
    if token.is_empty() {
        return Err(CredentialError::new(
            provider,
            CredentialErrorKind::EmptyFile {
                file: "token file",
                path: path.to_owned(),
            },
        ));
    }
    Ok(token.to_owned())
}
