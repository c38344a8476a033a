//! The OAuth HTTP surface: shared state for the endpoints, the router, and the helpers every
//! endpoint uses (client lookup, client authentication, body limits, the caller's address).

pub mod authorize;
pub mod csrf;
pub mod error;
pub mod metadata;
pub mod register;
pub mod revoke;
pub mod token;

use std::{net::IpAddr, sync::Arc};

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, header},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use tower_http::cors::CorsLayer;

use crate::actors::auth_codes::AuthCodesHandle;
use crate::actors::client_registry::{ClientError, ClientRegistryHandle};
use crate::actors::token_store::TokenStoreHandle;
use crate::auth::client::{AuthMethod, Client, ClientCredential};
use crate::auth::secrets::Secret;
use crate::clock::Clock;
use crate::config::{Config, ConsentMode};
use crate::http::cimd::CimdFetcher;
use crate::http::client_addr::TrustedProxies;
use crate::http::owner::OwnerPassword;
use crate::http::rate_limit::{IpRateLimiter, PasswordLockout};
use csrf::CsrfKey;
use error::OAuthError;

/// Largest form body /token and /revoke read; real requests are a few hundred bytes.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The actors and settings the endpoints share; cheap to clone.
#[derive(Clone)]
pub struct OAuthState(Arc<Inner>);

pub struct Inner {
    pub issuer: String,
    pub resource: String,
    pub consent: ConsentMode,
    pub access_ttl_secs: i64,
    pub max_registration_bytes: usize,
    pub clients: ClientRegistryHandle,
    pub codes: AuthCodesHandle,
    pub tokens: TokenStoreHandle,
    pub cimd: CimdFetcher,
    pub cimd_enabled: bool,
    pub owner: OwnerPassword,
    /// Issues and checks the consent form's CSRF tokens.
    pub csrf: CsrfKey,
    pub register_limit: IpRateLimiter,
    pub token_limit: IpRateLimiter,
    pub consent_limit: IpRateLimiter,
    pub lockout: PasswordLockout,
    /// Who a request's forwarding header may name its client (`proxy.trusted`).
    pub proxies: Arc<TrustedProxies>,
    pub clock: Clock,
}

impl axum::extract::FromRef<OAuthState> for Arc<TrustedProxies> {
    fn from_ref(state: &OAuthState) -> Arc<TrustedProxies> {
        state.proxies.clone()
    }
}

impl std::ops::Deref for OAuthState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The actors the endpoints talk to.
pub struct Actors {
    pub clients: ClientRegistryHandle,
    pub codes: AuthCodesHandle,
    pub tokens: TokenStoreHandle,
}

impl OAuthState {
    pub fn new(
        config: &Config,
        actors: Actors,
        owner: OwnerPassword,
        clock: Clock,
    ) -> anyhow::Result<OAuthState> {
        let auth = &config.auth;
        let lockout = PasswordLockout::new(
            crate::http::rate_limit::LockoutSettings {
                max_failures: auth.max_password_failures,
                window: auth.lockout,
                lockout: auth.lockout,
                global_failures: auth.global_password_failures,
                backoff: auth.password_backoff,
                max_backoff: auth.max_password_backoff,
            },
            clock.clone(),
        );
        Ok(OAuthState(Arc::new(Inner {
            issuer: config.issuer(),
            resource: config.mcp_resource(),
            consent: auth.consent,
            access_ttl_secs: crate::clock::secs(auth.access_token_ttl),
            max_registration_bytes: auth.max_registration_bytes,
            clients: actors.clients,
            codes: actors.codes,
            tokens: actors.tokens,
            cimd: CimdFetcher::new(auth.cimd.clone(), &config.openfoodfacts.user_agent)?,
            cimd_enabled: auth.cimd.enabled,
            owner,
            csrf: CsrfKey::generate(auth.consent_form_ttl)?,
            register_limit: IpRateLimiter::per_minute(auth.register_per_minute),
            token_limit: IpRateLimiter::per_minute(auth.token_per_minute),
            consent_limit: IpRateLimiter::per_minute(auth.consent_per_minute),
            lockout,
            proxies: Arc::new(TrustedProxies::new(&config.proxy)),
            clock,
        })))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub fn cimd_enabled(&self) -> bool {
        self.cimd_enabled
    }

    /// Forgets rate-limit state of quiet addresses; call periodically.
    pub fn retain_recent(&self) {
        self.register_limit.retain_recent();
        self.token_limit.retain_recent();
        self.consent_limit.retain_recent();
    }

    /// Checks a `resource` parameter (RFC 8707): absent means this server's MCP endpoint.
    pub fn check_resource(&self, resource: Option<&str>) -> Result<String, String> {
        match resource {
            None | Some("") => Ok(self.resource.clone()),
            Some(r) if r.trim_end_matches('/') == self.resource => Ok(self.resource.clone()),
            Some(r) => Err(format!(
                "resource {r} is not this server; use {}",
                self.resource
            )),
        }
    }

    /// A client by id: from the registry, or from its metadata document when the id is a URL.
    pub async fn client(&self, client_id: &str) -> Result<Client, LookupError> {
        if self.cimd.handles(client_id) {
            let doc = self
                .cimd
                .resolve(client_id)
                .await
                .map_err(|e| LookupError::Unknown(e.to_string()))?;
            return Ok(Client {
                client_id: doc.client_id,
                client_name: doc.client_name,
                redirect_uris: doc.redirect_uris,
                grant_types: doc.grant_types,
                auth_method: AuthMethod::None,
                secret_hash: None,
                created_at: self.clock.now(),
                last_used_at: None,
            });
        }
        match self.clients.get(client_id).await {
            Ok(client) => Ok(client),
            Err(ClientError::UnknownClient) => Err(LookupError::Unknown(
                "unknown client_id; register the client again".into(),
            )),
            Err(ClientError::Unavailable) => Err(LookupError::Unavailable),
            Err(err) => Err(LookupError::Internal(err.to_string())),
        }
    }

    /// Authenticates the client of a /token or /revoke request (RFC 6749 §2.3): HTTP Basic,
    /// `client_secret` in the body, or only `client_id` for public clients.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        body_client_id: Option<&str>,
        body_secret: Option<&str>,
    ) -> Result<Client, OAuthError> {
        let basic = basic_credentials(headers)?;
        let (client_id, credential) = match (basic, body_secret) {
            (Some(_), Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not two",
                ));
            }
            (Some((id, secret)), None) => {
                if body_client_id.is_some_and(|b| b != id) {
                    return Err(OAuthError::invalid_request(
                        "client_id differs from the Authorization header",
                    ));
                }
                (
                    id,
                    ClientCredential::SecretBasic(Secret::from_presented(secret)),
                )
            }
            (None, Some(secret)) => {
                let id = body_client_id
                    .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
                (
                    id.to_string(),
                    ClientCredential::SecretPost(Secret::from_presented(secret)),
                )
            }
            (None, None) => {
                let id = body_client_id
                    .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
                (id.to_string(), ClientCredential::None)
            }
        };
        let was_basic = matches!(credential, ClientCredential::SecretBasic(_));
        let failed = |message: String| {
            if was_basic {
                OAuthError::invalid_client_basic(message)
            } else {
                OAuthError::invalid_client(message)
            }
        };
        if self.cimd.handles(&client_id) {
            if !matches!(credential, ClientCredential::None) {
                return Err(failed(
                    "a client identified by a metadata document has no secret".into(),
                ));
            }
            return match self.client(&client_id).await {
                Ok(client) => Ok(client),
                Err(LookupError::Unknown(message)) => Err(failed(message)),
                Err(LookupError::Unavailable) => Err(OAuthError::temporarily_unavailable()),
                Err(LookupError::Internal(err)) => Err(internal(err)),
            };
        }
        match self.clients.authenticate(&client_id, credential).await {
            Ok(client) => Ok(client),
            Err(ClientError::UnknownClient) => Err(failed(
                "unknown client_id; register the client again".into(),
            )),
            Err(ClientError::AuthenticationFailed) => {
                Err(failed("client authentication failed".into()))
            }
            Err(ClientError::Unavailable) => Err(OAuthError::temporarily_unavailable()),
            Err(err) => Err(internal(err)),
        }
    }
}

/// Why a client could not be looked up.
pub enum LookupError {
    /// Safe to show: unknown id, or a metadata document that could not be used.
    Unknown(String),
    /// The client registry is not answering; retrying soon may work.
    Unavailable,
    Internal(String),
}

/// Logs an internal failure and answers the generic server error.
pub fn internal(detail: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %detail, "oauth request failed");
    OAuthError::server_error()
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`, when present.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client_basic("malformed Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(OAuthError::invalid_request(
            "only HTTP Basic client authentication is supported here",
        ));
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Reads a request body up to `limit` bytes, answering an OAuth error past it.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, OAuthError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        OAuthError::invalid_request(format!("request body is larger than {limit} bytes"))
    })
}

/// Parses an `application/x-www-form-urlencoded` body of at most [`MAX_FORM_BYTES`].
pub async fn read_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = read_body(body, MAX_FORM_BYTES).await?;
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| OAuthError::invalid_request(format!("malformed form body: {e}")))
}

/// The start of every /token and /revoke request: the per-address limit, then the form.
pub async fn limited_form<T: serde::de::DeserializeOwned>(
    oauth: &OAuthState,
    client: IpAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, OAuthError> {
    oauth
        .token_limit
        .check(client)
        .map_err(OAuthError::too_many_requests)?;
    read_form(headers, body).await
}

/// The authorization server's routes. Discovery, registration, token and revocation answer
/// browser-based clients' CORS requests; /authorize is a page and does not.
pub fn router(state: OAuthState) -> Router {
    let api = Router::new()
        .route(
            metadata::RESOURCE_METADATA_PATH,
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server),
        )
        .route("/register", post(register::register))
        .route("/token", post(token::token))
        .route("/revoke", post(revoke::revoke))
        .layer(CorsLayer::permissive().max_age(std::time::Duration::from_secs(3600)));
    Router::new()
        .route("/authorize", get(authorize::show).post(authorize::decide))
        .merge(api)
        .with_state(state)
}
