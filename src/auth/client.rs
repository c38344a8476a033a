//! OAuth clients: what a registration (RFC 7591) or a metadata document describes, the rules a
//! client's metadata must follow, and how a presented credential is checked. Pure: no IO.

use crate::auth::redirect::RedirectUri;
use crate::auth::secrets::{Secret, SecretHash};

/// Longest accepted `client_name`; it is shown on the consent page.
pub const MAX_CLIENT_NAME_CHARS: usize = 200;

/// How a client authenticates at the token endpoint (RFC 7591 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A public client (Claude Code and other native apps): PKCE is its only proof.
    None,
    ClientSecretPost,
    ClientSecretBasic,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
        }
    }

    pub fn parse(value: &str) -> Option<AuthMethod> {
        match value {
            "none" => Some(AuthMethod::None),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    /// Every grant this server implements (the metadata's `grant_types_supported`).
    pub const ALL: [GrantType; 2] = [GrantType::AuthorizationCode, GrantType::RefreshToken];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
        }
    }

    pub fn parse(value: &str) -> Option<GrantType> {
        match value {
            "authorization_code" => Some(GrantType::AuthorizationCode),
            "refresh_token" => Some(GrantType::RefreshToken),
            _ => None,
        }
    }
}

/// Client metadata as posted to /register, not yet validated.
#[derive(Debug, Clone, Default)]
pub struct ClientMetadata {
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Empty means `["authorization_code"]` (RFC 7591 §2).
    pub grant_types: Vec<String>,
    /// Absent means `client_secret_basic` (RFC 7591 §2).
    pub token_endpoint_auth_method: Option<String>,
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub auth_method: AuthMethod,
    /// SHA-256 of the client secret; `None` for public clients.
    pub secret_hash: Option<SecretHash>,
    pub created_at: i64,
    /// Last successful authentication at the token endpoint.
    pub last_used_at: Option<i64>,
}

impl Client {
    /// Whether an authorization request may redirect to `presented`.
    pub fn allows_redirect(&self, presented: &str) -> bool {
        self.redirect_uris.iter().any(|uri| uri.matches(presented))
    }
}

/// The answer to a registration: the secret is in clear here and nowhere else, ever.
#[derive(Debug)]
pub struct Registered {
    pub client: Client,
    pub client_secret: Option<Secret>,
}

/// The credential a token request carried.
#[derive(Debug)]
pub enum ClientCredential {
    /// Only `client_id`, as a public client sends.
    None,
    /// `client_secret` in the form body.
    SecretPost(Secret),
    /// `client_secret` in an `Authorization: Basic` header.
    SecretBasic(Secret),
}

/// Why client metadata was refused; the message is for the client's developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// RFC 7591 `invalid_redirect_uri`.
    #[error("invalid redirect_uris: {0}")]
    InvalidRedirectUri(String),
    /// RFC 7591 `invalid_client_metadata`.
    #[error("invalid client metadata: {0}")]
    InvalidMetadata(String),
}

/// The one `client_name` rule, for registrations and metadata documents alike: trimmed, at most
/// [`MAX_CLIENT_NAME_CHARS`], no control characters and no format characters (general category
/// Cf: bidi overrides and isolates, zero-width spaces and joiners), which could make the consent
/// page show a name — or a host inside it — other than the one stored; empty means none.
pub fn client_name(raw: Option<String>) -> Result<Option<String>, String> {
    match raw.map(|n| n.trim().to_owned()) {
        Some(name) if name.chars().count() > MAX_CLIENT_NAME_CHARS => Err(format!(
            "client_name is longer than {MAX_CLIENT_NAME_CHARS} characters"
        )),
        Some(name) if name.chars().any(char::is_control) => {
            Err("client_name contains control characters".into())
        }
        Some(name) if name.chars().any(is_format) => {
            let c = name.chars().find(|&c| is_format(c)).unwrap_or_default();
            Err(format!(
                "client_name contains the invisible formatting character U+{:04X}",
                u32::from(c)
            ))
        }
        Some(name) if name.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// A Unicode format character (general category Cf).
fn is_format(c: char) -> bool {
    use unicode_general_category::{GeneralCategory, get_general_category};
    get_general_category(c) == GeneralCategory::Format
}

impl Client {
    /// Whether the credential uses the registered method and, for confidential clients, carries
    /// the registered secret (hash comparison is constant-time).
    pub fn accepts(&self, credential: &ClientCredential) -> bool {
        match (self.auth_method, credential, &self.secret_hash) {
            (AuthMethod::None, ClientCredential::None, _) => true,
            (AuthMethod::ClientSecretPost, ClientCredential::SecretPost(secret), Some(hash))
            | (AuthMethod::ClientSecretBasic, ClientCredential::SecretBasic(secret), Some(hash)) => {
                secret.hash() == *hash
            }
            _ => false,
        }
    }
}

/// Registration metadata that passed [`validate`].
#[derive(Debug)]
pub struct ValidMetadata {
    pub client_name: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub auth_method: AuthMethod,
}

/// Checks registration metadata (RFC 7591 §2): redirect URIs, name, grant types, auth method.
pub fn validate(
    metadata: ClientMetadata,
    max_redirect_uris: usize,
) -> Result<ValidMetadata, MetadataError> {
    use MetadataError::{InvalidMetadata, InvalidRedirectUri};

    if metadata.redirect_uris.is_empty() {
        return Err(InvalidRedirectUri(
            "at least one redirect URI is required".into(),
        ));
    }
    if metadata.redirect_uris.len() > max_redirect_uris {
        return Err(InvalidRedirectUri(format!(
            "at most {max_redirect_uris} redirect URIs are accepted"
        )));
    }
    let redirect_uris = metadata
        .redirect_uris
        .iter()
        .map(|raw| RedirectUri::parse(raw).map_err(|e| InvalidRedirectUri(format!("{raw:?}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;

    let client_name = client_name(metadata.client_name).map_err(InvalidMetadata)?;

    let mut grant_types = Vec::new();
    for raw in &metadata.grant_types {
        let grant = GrantType::parse(raw)
            .ok_or_else(|| InvalidMetadata(format!("unsupported grant_type {raw:?}")))?;
        if !grant_types.contains(&grant) {
            grant_types.push(grant);
        }
    }
    if grant_types.is_empty() {
        grant_types.push(GrantType::AuthorizationCode);
    }
    if !grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(InvalidMetadata(
            "grant_types must include authorization_code, the only way to obtain tokens".into(),
        ));
    }

    let auth_method = match metadata.token_endpoint_auth_method.as_deref() {
        None => AuthMethod::ClientSecretBasic,
        Some(raw) => AuthMethod::parse(raw).ok_or_else(|| {
            InvalidMetadata(format!("unsupported token_endpoint_auth_method {raw:?}"))
        })?,
    };

    Ok(ValidMetadata {
        client_name,
        redirect_uris,
        grant_types,
        auth_method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_refuse_control_and_format_characters() {
        assert_eq!(
            client_name(Some("  Claude Code ".into())),
            Ok(Some("Claude Code".into()))
        );
        assert_eq!(client_name(Some("   ".into())), Ok(None));
        assert_eq!(
            client_name(Some("Café 東京 Ünïcødé".into())),
            Ok(Some("Café 東京 Ünïcødé".into()))
        );
        for bad in [
            "Claude\u{202E}moc.live\u{202C}",
            "app\u{2066}isolate\u{2069}",
            "zero\u{200B}width",
            "join\u{200D}er",
            "bom\u{FEFF}",
            "soft\u{00AD}hyphen",
            "tab\tname",
        ] {
            assert!(client_name(Some(bad.into())).is_err(), "{bad:?}");
        }
        let err = client_name(Some("a\u{202E}b".into())).unwrap_err();
        assert!(err.contains("U+202E"), "{err}");
    }
}
