//! [`Credentials`]: what a provider yields, and the `Authorization` values made from it.

use crate::redact::{self, Secret};

/// What a provider yields. The secret parts are [`Secret`]s, registered with the redactor when
/// they were loaded.
///
/// `Debug` shows the user name and `***` for the secrets.
///
/// ```
/// use chaos_runtime::credentials::Credentials;
/// use chaos_runtime::redact::Secret;
///
/// let creds = Credentials {
///     username: Some("ops".into()),
///     password: Some(Secret::new("struct-doc-password")),
///     token: None,
/// };
/// assert_eq!(
///     format!("{creds:?}"),
///     r#"Credentials { username: Some("ops"), password: Some(***), token: None }"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The user name, when the provider has one (for a Kubernetes service account: its
    /// namespace).
    pub username: Option<String>,
    /// The password.
    pub password: Option<Secret>,
    /// The bearer token.
    pub token: Option<Secret>,
}

impl Credentials {
    /// Credentials made of a token alone; the token is registered with the redactor.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_token("from-token-doc-value");
    /// assert_eq!(creds.token.unwrap().expose(), "from-token-doc-value");
    /// assert_eq!(creds.username, None);
    /// ```
    pub fn from_token(token: impl Into<String>) -> Self {
        Credentials {
            token: Some(Secret::new(token)),
            ..Credentials::default()
        }
    }

    /// Credentials made of a user name and a password; the password is registered with the
    /// redactor.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_user_password("ops", "from-user-password-doc");
    /// assert_eq!(creds.username.as_deref(), Some("ops"));
    /// assert_eq!(creds.password.unwrap().expose(), "from-user-password-doc");
    /// ```
    pub fn from_user_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: Some(username.into()),
            password: Some(Secret::new(password)),
            token: None,
        }
    }

    /// The `Authorization` header value for the token, `Bearer <token>`; `None` without a
    /// token. The token inside is redacted wherever the value is written.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_token("bearer-doc-token");
    /// assert_eq!(creds.bearer().as_deref(), Some("Bearer bearer-doc-token"));
    /// assert_eq!(chaos_runtime::redact::redact(&creds.bearer().unwrap()), "Bearer ***");
    /// assert_eq!(Credentials::default().bearer(), None);
    /// ```
    pub fn bearer(&self) -> Option<String> {
        self.token
            .as_ref()
            .map(|token| format!("Bearer {}", token.expose()))
    }

    /// The `Authorization` header value for HTTP basic authentication,
    /// `Basic base64(<username>:<password>)` (RFC 7617, UTF-8); `None` unless both the user
    /// name and the password are set.
    ///
    /// The encoded part is registered with the redactor too, so the header value shows as
    /// `Basic ***` wherever it is written. A user name must not contain `:` (RFC 7617): the
    /// server would split it there.
    ///
    /// ```
    /// use chaos_runtime::credentials::Credentials;
    /// let creds = Credentials::from_user_password("Aladdin", "open sesame");
    /// let header = creds.basic().unwrap();
    /// assert_eq!(header, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    /// assert_eq!(chaos_runtime::redact::redact(&header), "Basic ***");
    /// assert_eq!(Credentials::from_token("only-a-token").basic(), None);
    /// ```
    pub fn basic(&self) -> Option<String> {
        let username = self.username.as_ref()?;
        let password = self.password.as_ref()?;
        let encoded = base64(format!("{username}:{}", password.expose()).as_bytes());
        redact::register(&encoded);
        Some(format!("Basic {encoded}"))
    }
}

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (group >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(input.as_bytes()), encoded, "{input:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
    }
}
