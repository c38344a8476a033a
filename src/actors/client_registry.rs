//! ClientRegistry actor: dynamically registered OAuth clients (RFC 7591), their authentication at
//! the token endpoint, and the sweep of registrations nobody ever used.
//!
//! Registration is open to anyone, so clients are not cached in memory: storage is the source of
//! truth, and the actor serialises every read-check-write. No lookup here is on the /mcp hot path.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SpawnErr};
use tokio::task::JoinHandle;

use super::reply;
use crate::clock::{Clock, secs};
use crate::oauth::redirect::RedirectUri;
use crate::oauth::secrets::{EntropyError, Secret, SecretHash, new_id};
use crate::storage::StorageError;

/// Longest accepted `client_name`; it is shown on the consent page.
const MAX_CLIENT_NAME_CHARS: usize = 200;

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

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// RFC 7591 `invalid_redirect_uri`.
    #[error("invalid redirect_uris: {0}")]
    InvalidRedirectUri(String),
    /// RFC 7591 `invalid_client_metadata`.
    #[error("invalid client metadata: {0}")]
    InvalidMetadata(String),
    #[error("unknown client")]
    UnknownClient,
    /// RFC 6749 `invalid_client`: unknown client, wrong secret or wrong method alike.
    #[error("client authentication failed")]
    AuthenticationFailed,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// Where registrations live.
#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn insert_client(&self, client: &Client) -> Result<(), StorageError>;
    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StorageError>;
    async fn list_clients(&self) -> Result<Vec<Client>, StorageError>;
    /// Records a successful authentication.
    async fn touch_client(&self, client_id: &str, at: i64) -> Result<(), StorageError>;
    /// Returns whether the client existed.
    async fn delete_client(&self, client_id: &str) -> Result<bool, StorageError>;
    /// Deletes clients created before `created_before` that never authenticated; returns how many.
    async fn delete_unused_clients(&self, created_before: i64) -> Result<u64, StorageError>;
}

pub enum ClientRegistryMsg {
    /// Registers a client; confidential clients get their secret in the reply, once.
    Register {
        metadata: ClientMetadata,
        reply: RpcReplyPort<Result<Registered, ClientError>>,
    },
    /// Looks a client up (for /authorize).
    Get {
        client_id: String,
        reply: RpcReplyPort<Result<Client, ClientError>>,
    },
    /// Authenticates a client at the token or revocation endpoint and records the use.
    Authenticate {
        client_id: String,
        credential: ClientCredential,
        reply: RpcReplyPort<Result<Client, ClientError>>,
    },
    /// Deletes a registration. The caller also revokes the client's tokens
    /// (`TokenStoreMsg::RevokeClient`).
    Delete {
        client_id: String,
        reply: RpcReplyPort<Result<(), ClientError>>,
    },
    /// Lists every registration (CLI `clients list`).
    List {
        reply: RpcReplyPort<Result<Vec<Client>, ClientError>>,
    },
    /// Deletes registrations that never authenticated within `unused_ttl` of registering;
    /// answers how many. Also sent without a reply port every `sweep_interval`.
    Sweep {
        reply: Option<RpcReplyPort<Result<u64, ClientError>>>,
    },
}

pub type ClientRegistryRef = ActorRef<super::Envelope<ClientRegistryMsg>>;
impl super::ActorMessage for ClientRegistryMsg {
    const ACTOR: &'static str = "client_registry";
    const SPAN: &'static str = "actor.client_registry";

    fn kind(&self) -> &'static str {
        match self {
            ClientRegistryMsg::Register { .. } => "Register",
            ClientRegistryMsg::Get { .. } => "Get",
            ClientRegistryMsg::Authenticate { .. } => "Authenticate",
            ClientRegistryMsg::Delete { .. } => "Delete",
            ClientRegistryMsg::List { .. } => "List",
            ClientRegistryMsg::Sweep { .. } => "Sweep",
        }
    }
}

pub struct ClientRegistry;

pub struct Arguments {
    pub store: Arc<dyn ClientStore>,
    pub clock: Clock,
    /// Most redirect URIs one registration may carry.
    pub max_redirect_uris: usize,
    /// How long a registration may stay unused before the sweep deletes it.
    pub unused_ttl: Duration,
    pub sweep_interval: Duration,
}

/// Nothing is cached (see the module doc): the arguments are the whole state.
pub type State = Arguments;

pub async fn spawn(args: Arguments) -> Result<(ClientRegistryRef, JoinHandle<()>), SpawnErr> {
    Actor::spawn(None, ClientRegistry, args).await
}

impl Actor for ClientRegistry {
    type Msg = super::Envelope<ClientRegistryMsg>;
    type State = State;
    type Arguments = Arguments;

    async fn pre_start(
        &self,
        _myself: ClientRegistryRef,
        args: Arguments,
    ) -> Result<State, ActorProcessingErr> {
        Ok(args)
    }

    async fn post_start(
        &self,
        myself: ClientRegistryRef,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // A message, so the sweep is serial with registrations.
        myself.send_interval(state.sweep_interval, || {
            ClientRegistryMsg::Sweep { reply: None }.into()
        });
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ClientRegistryRef,
        msg: super::Envelope<ClientRegistryMsg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Every failure is answered through a reply port; nothing here may stop the actor.
        msg.handle(|msg| handle_msg(state, msg)).await;
        Ok(())
    }
}

async fn handle_msg(state: &State, msg: ClientRegistryMsg) {
    let store = state.store.as_ref();
    match msg {
        ClientRegistryMsg::Register {
            metadata,
            reply: port,
        } => {
            reply(port, register(state, metadata).await);
        }
        ClientRegistryMsg::Get {
            client_id,
            reply: port,
        } => {
            let found = store
                .get_client(&client_id)
                .await
                .map_err(ClientError::from);
            reply(
                port,
                found.and_then(|c| c.ok_or(ClientError::UnknownClient)),
            );
        }
        ClientRegistryMsg::Authenticate {
            client_id,
            credential,
            reply: port,
        } => {
            reply(port, authenticate(state, &client_id, &credential).await);
        }
        ClientRegistryMsg::Delete {
            client_id,
            reply: port,
        } => {
            let deleted = match store.delete_client(&client_id).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(ClientError::UnknownClient),
                Err(e) => Err(e.into()),
            };
            reply(port, deleted);
        }
        ClientRegistryMsg::List { reply: port } => {
            reply(port, store.list_clients().await.map_err(Into::into));
        }
        ClientRegistryMsg::Sweep { reply: port } => {
            let cutoff = state.clock.now().saturating_sub(secs(state.unused_ttl));
            let swept = store.delete_unused_clients(cutoff).await;
            match &swept {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "swept unused client registrations"),
                Err(e) => tracing::warn!(error = %e, "client sweep failed; retrying next time"),
            }
            if let Some(port) = port {
                reply(port, swept.map_err(Into::into));
            }
        }
    }
}

async fn register(state: &State, metadata: ClientMetadata) -> Result<Registered, ClientError> {
    let valid = validate(metadata, state.max_redirect_uris)?;
    let client_secret = match valid.auth_method {
        AuthMethod::None => None,
        AuthMethod::ClientSecretPost | AuthMethod::ClientSecretBasic => Some(Secret::generate()?),
    };
    let client = Client {
        client_id: new_id()?,
        client_name: valid.client_name,
        redirect_uris: valid.redirect_uris,
        grant_types: valid.grant_types,
        auth_method: valid.auth_method,
        secret_hash: client_secret.as_ref().map(Secret::hash),
        created_at: state.clock.now(),
        last_used_at: None,
    };
    state.store.insert_client(&client).await?;
    Ok(Registered {
        client,
        client_secret,
    })
}

async fn authenticate(
    state: &State,
    client_id: &str,
    credential: &ClientCredential,
) -> Result<Client, ClientError> {
    let mut client = state
        .store
        .get_client(client_id)
        .await?
        .ok_or(ClientError::AuthenticationFailed)?;
    if !credential_fits(&client, credential) {
        return Err(ClientError::AuthenticationFailed);
    }
    let now = state.clock.now();
    state.store.touch_client(client_id, now).await?;
    client.last_used_at = Some(now);
    Ok(client)
}

/// Whether the credential uses the registered method and, for confidential clients, carries the
/// registered secret (hash comparison is constant-time).
fn credential_fits(client: &Client, credential: &ClientCredential) -> bool {
    match (client.auth_method, credential, &client.secret_hash) {
        (AuthMethod::None, ClientCredential::None, _) => true,
        (AuthMethod::ClientSecretPost, ClientCredential::SecretPost(secret), Some(hash))
        | (AuthMethod::ClientSecretBasic, ClientCredential::SecretBasic(secret), Some(hash)) => {
            secret.hash() == *hash
        }
        _ => false,
    }
}

struct ValidMetadata {
    client_name: Option<String>,
    redirect_uris: Vec<RedirectUri>,
    grant_types: Vec<GrantType>,
    auth_method: AuthMethod,
}

fn validate(
    metadata: ClientMetadata,
    max_redirect_uris: usize,
) -> Result<ValidMetadata, ClientError> {
    use ClientError::{InvalidMetadata, InvalidRedirectUri};

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

    let client_name = match metadata.client_name.map(|n| n.trim().to_owned()) {
        Some(name) if name.chars().count() > MAX_CLIENT_NAME_CHARS => {
            return Err(InvalidMetadata(format!(
                "client_name is longer than {MAX_CLIENT_NAME_CHARS} characters"
            )));
        }
        Some(name) if name.chars().any(char::is_control) => {
            return Err(InvalidMetadata(
                "client_name contains control characters".into(),
            ));
        }
        Some(name) if name.is_empty() => None,
        other => other,
    };

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
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::actors::fakes::{FakeStore, ask};

    const T0: i64 = 1_800_000_000;
    const DAY: Duration = Duration::from_secs(86_400);

    async fn start() -> (ClientRegistryRef, Arc<FakeStore>, Clock) {
        let store = Arc::new(FakeStore::default());
        let clock = Clock::manual(T0);
        let args = Arguments {
            store: store.clone(),
            clock: clock.clone(),
            max_redirect_uris: 3,
            unused_ttl: DAY,
            sweep_interval: DAY,
        };
        let (actor, _join) = spawn(args).await.unwrap();
        (actor, store, clock)
    }

    fn metadata(method: Option<&str>) -> ClientMetadata {
        ClientMetadata {
            client_name: Some("Claude Code".into()),
            redirect_uris: vec!["http://localhost:33418/callback".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            token_endpoint_auth_method: method.map(Into::into),
        }
    }

    async fn register(
        actor: &ClientRegistryRef,
        metadata: ClientMetadata,
    ) -> Result<Registered, ClientError> {
        ask(actor, |reply| ClientRegistryMsg::Register {
            metadata,
            reply,
        })
        .await
    }

    async fn authenticate(
        actor: &ClientRegistryRef,
        id: &str,
        credential: ClientCredential,
    ) -> Result<Client, ClientError> {
        let client_id = id.to_owned();
        ask(actor, |reply| ClientRegistryMsg::Authenticate {
            client_id,
            credential,
            reply,
        })
        .await
    }

    async fn list(actor: &ClientRegistryRef) -> Vec<Client> {
        ask(actor, |reply| ClientRegistryMsg::List { reply })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn public_client_registers_without_secret_and_authenticates_with_none() {
        let (actor, _store, _clock) = start().await;
        let registered = register(&actor, metadata(Some("none"))).await.unwrap();
        assert!(registered.client_secret.is_none());
        let client = registered.client;
        assert_eq!(client.auth_method, AuthMethod::None);
        assert_eq!(
            client.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert!(client.allows_redirect("http://localhost:50000/callback"));
        assert!(!client.allows_redirect("http://localhost:50000/other"));

        let id = client.client_id.clone();
        let got = ask(&actor, |reply| ClientRegistryMsg::Get {
            client_id: id,
            reply,
        })
        .await;
        assert_eq!(got.unwrap(), client);
        let used = authenticate(&actor, &client.client_id, ClientCredential::None)
            .await
            .unwrap();
        assert_eq!(used.last_used_at, Some(T0));
        let secret = Secret::from_presented("anything");
        let presented = authenticate(
            &actor,
            &client.client_id,
            ClientCredential::SecretPost(secret),
        )
        .await;
        assert!(matches!(presented, Err(ClientError::AuthenticationFailed)));
    }

    #[tokio::test]
    async fn confidential_client_secret_is_returned_once_and_stored_hashed() {
        let (actor, store, _clock) = start().await;
        // No method given: RFC 7591 defaults to client_secret_basic.
        let registered = register(&actor, metadata(None)).await.unwrap();
        let secret = registered.client_secret.unwrap();
        let id = registered.client.client_id;
        let stored = store.clients.lock().unwrap()[&id].clone();
        assert_eq!(stored.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(stored.secret_hash, Some(secret.hash()));

        let ok = authenticate(&actor, &id, ClientCredential::SecretBasic(secret.clone())).await;
        assert!(ok.is_ok());
        let wrong = Secret::from_presented(format!("{}x", secret.expose()));
        for credential in [
            ClientCredential::SecretBasic(wrong),
            ClientCredential::SecretPost(secret.clone()),
            ClientCredential::None,
        ] {
            let refused = authenticate(&actor, &id, credential).await;
            assert!(matches!(refused, Err(ClientError::AuthenticationFailed)));
        }
        let unknown = authenticate(&actor, "nobody", ClientCredential::SecretBasic(secret)).await;
        assert!(matches!(unknown, Err(ClientError::AuthenticationFailed)));
    }

    #[tokio::test]
    async fn invalid_metadata_is_refused_with_the_rfc7591_error() {
        let (actor, store, _clock) = start().await;
        type Breaker = fn(&mut ClientMetadata);
        // (how the metadata is broken, whether RFC 7591 calls it invalid_redirect_uri)
        let cases: [(Breaker, bool); 9] = [
            (|m| m.redirect_uris.clear(), true),
            (
                |m| m.redirect_uris = vec!["https://a.example/cb".into(); 4],
                true,
            ),
            (
                |m| m.redirect_uris = vec!["http://app.example.com/cb".into()],
                true,
            ),
            (
                |m| m.redirect_uris = vec!["https://app.example.com/cb#x".into()],
                true,
            ),
            (|m| m.grant_types = vec!["implicit".into()], false),
            (|m| m.grant_types = vec!["refresh_token".into()], false),
            (
                |m| m.token_endpoint_auth_method = Some("private_key_jwt".into()),
                false,
            ),
            (|m| m.client_name = Some("x".repeat(201)), false),
            (|m| m.client_name = Some("evil\u{7}".into()), false),
        ];
        for (break_it, is_redirect_error) in cases {
            let mut bad = metadata(Some("none"));
            break_it(&mut bad);
            match register(&actor, bad).await {
                Err(ClientError::InvalidRedirectUri(_)) if is_redirect_error => {}
                Err(ClientError::InvalidMetadata(_)) if !is_redirect_error => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(store.clients.lock().unwrap().is_empty());

        // Defaults: grant types and an empty name.
        let mut minimal = metadata(Some("none"));
        minimal.grant_types.clear();
        minimal.client_name = Some("  ".into());
        let client = register(&actor, minimal).await.unwrap().client;
        assert_eq!(client.grant_types, [GrantType::AuthorizationCode]);
        assert_eq!(client.client_name, None);
    }

    #[tokio::test]
    async fn sweep_deletes_only_registrations_never_used_in_time() {
        let (actor, _store, clock) = start().await;
        let used = register(&actor, metadata(Some("none")))
            .await
            .unwrap()
            .client;
        let unused = register(&actor, metadata(Some("none")))
            .await
            .unwrap()
            .client;
        authenticate(&actor, &used.client_id, ClientCredential::None)
            .await
            .unwrap();
        clock.advance(DAY / 2);
        let young = register(&actor, metadata(Some("none")))
            .await
            .unwrap()
            .client;

        clock.advance(DAY / 2 + Duration::from_secs(1));
        let swept = ask(&actor, |reply| ClientRegistryMsg::Sweep {
            reply: Some(reply),
        })
        .await;
        assert_eq!(swept.unwrap(), 1);
        let left: Vec<String> = list(&actor)
            .await
            .into_iter()
            .map(|c| c.client_id)
            .collect();
        assert!(left.contains(&used.client_id) && left.contains(&young.client_id));
        assert!(!left.contains(&unused.client_id));
    }

    #[tokio::test]
    async fn delete_removes_the_registration() {
        let (actor, _store, _clock) = start().await;
        let client = register(&actor, metadata(Some("none")))
            .await
            .unwrap()
            .client;
        for expected_ok in [true, false] {
            let id = client.client_id.clone();
            let deleted = ask(&actor, |reply| ClientRegistryMsg::Delete {
                client_id: id,
                reply,
            })
            .await;
            assert_eq!(deleted.is_ok(), expected_ok);
        }
        let id = client.client_id.clone();
        let got = ask(&actor, |reply| ClientRegistryMsg::Get {
            client_id: id,
            reply,
        })
        .await;
        assert!(matches!(got, Err(ClientError::UnknownClient)));
    }

    #[tokio::test]
    async fn failing_storage_answers_an_error_and_changes_nothing() {
        let (actor, store, _clock) = start().await;
        let client = register(&actor, metadata(Some("none")))
            .await
            .unwrap()
            .client;
        store.fail_writes(true);
        assert!(matches!(
            register(&actor, metadata(None)).await,
            Err(ClientError::Storage(_))
        ));
        let auth = authenticate(&actor, &client.client_id, ClientCredential::None).await;
        assert!(matches!(auth, Err(ClientError::Storage(_))));
        let swept = ask(&actor, |reply| ClientRegistryMsg::Sweep {
            reply: Some(reply),
        })
        .await;
        assert!(matches!(swept, Err(ClientError::Storage(_))));

        store.fail_writes(false);
        let all = list(&actor).await;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].last_used_at, None);
    }
}
