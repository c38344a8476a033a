//! ClientRegistry actor: dynamically registered OAuth clients (RFC 7591), their authentication at
//! the token endpoint, and the sweep of registrations nobody ever used.
//!
//! Registration is open to anyone, so clients are not cached in memory: storage is the source of
//! truth, and the actor serialises every read-check-write. No lookup here is on the /mcp hot path.

use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{ActorHandle, NoAnswer, reply};
use crate::auth::client::{
    AuthMethod, Client, ClientCredential, ClientMetadata, MetadataError, Registered, validate,
};
use crate::auth::secrets::{EntropyError, Secret, new_id};
use crate::clock::{Clock, secs};
use crate::ports::{ClientStore, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("unknown client")]
    UnknownClient,
    /// RFC 6749 `invalid_client`: unknown client, wrong secret or wrong method alike.
    #[error("client authentication failed")]
    AuthenticationFailed,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The registry is stopped or did not answer in time (see [`NoAnswer`]).
    #[error("the client registry is not answering")]
    Unavailable,
}

impl From<NoAnswer> for ClientError {
    fn from(_: NoAnswer) -> Self {
        ClientError::Unavailable
    }
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
            ClientRegistryMsg::Sweep { .. } => "Sweep",
        }
    }
}

#[derive(Clone, Copy)]
pub struct ClientRegistry;

#[derive(Clone)]
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
    if !client.accepts(credential) {
        return Err(ClientError::AuthenticationFailed);
    }
    let now = state.clock.now();
    state.store.touch_client(client_id, now).await?;
    client.last_used_at = Some(now);
    Ok(client)
}

/// The registry's typed handle: one method per request, each bounded by the call timeout.
#[derive(Clone)]
pub struct ClientRegistryHandle(ActorHandle<ClientRegistryMsg>);

impl ClientRegistryHandle {
    pub fn new(actor: ActorHandle<ClientRegistryMsg>) -> Self {
        ClientRegistryHandle(actor)
    }

    /// Registers a client; a confidential one gets its secret here, once.
    pub async fn register(&self, metadata: ClientMetadata) -> Result<Registered, ClientError> {
        self.0
            .ask(|reply| ClientRegistryMsg::Register { metadata, reply })
            .await
    }

    /// A registered client, or `UnknownClient`.
    pub async fn get(&self, client_id: &str) -> Result<Client, ClientError> {
        let client_id = client_id.to_string();
        self.0
            .ask(|reply| ClientRegistryMsg::Get { client_id, reply })
            .await
    }

    /// Authenticates a client at the token or revocation endpoint.
    pub async fn authenticate(
        &self,
        client_id: &str,
        credential: ClientCredential,
    ) -> Result<Client, ClientError> {
        let client_id = client_id.to_string();
        self.0
            .ask(|reply| ClientRegistryMsg::Authenticate {
                client_id,
                credential,
                reply,
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::actors::fakes::FakeStore;
    use crate::auth::client::GrantType;
    use crate::ports::ClientStore;

    const T0: i64 = 1_800_000_000;
    const DAY: Duration = Duration::from_secs(86_400);

    async fn start() -> (ClientRegistryHandle, Arc<FakeStore>, Clock) {
        let store = Arc::new(FakeStore::default());
        let clock = Clock::manual(T0);
        let args = Arguments {
            store: store.clone(),
            clock: clock.clone(),
            max_redirect_uris: 3,
            unused_ttl: DAY,
            sweep_interval: DAY,
        };
        let actor = ActorHandle::spawn(ClientRegistry, args, Duration::from_secs(5)).await;
        (ClientRegistryHandle::new(actor), store, clock)
    }

    fn metadata(method: Option<&str>) -> ClientMetadata {
        ClientMetadata {
            client_name: Some("Claude Code".into()),
            redirect_uris: vec!["http://localhost:33418/callback".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            token_endpoint_auth_method: method.map(Into::into),
        }
    }

    async fn sweep(actor: &ClientRegistryHandle) -> Result<u64, ClientError> {
        actor
            .0
            .ask(|reply| ClientRegistryMsg::Sweep { reply: Some(reply) })
            .await
    }

    #[tokio::test]
    async fn public_client_registers_without_secret_and_authenticates_with_none() {
        let (actor, _store, _clock) = start().await;
        let registered = actor.register(metadata(Some("none"))).await.unwrap();
        assert!(registered.client_secret.is_none());
        let client = registered.client;
        assert_eq!(client.auth_method, AuthMethod::None);
        assert_eq!(
            client.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert!(client.allows_redirect("http://localhost:50000/callback"));
        assert!(!client.allows_redirect("http://localhost:50000/other"));

        assert_eq!(actor.get(&client.client_id).await.unwrap(), client);
        assert!(matches!(
            actor.get("nobody").await,
            Err(ClientError::UnknownClient)
        ));
        let used = actor
            .authenticate(&client.client_id, ClientCredential::None)
            .await
            .unwrap();
        assert_eq!(used.last_used_at, Some(T0));
        let secret = Secret::from_presented("anything");
        let presented = actor
            .authenticate(&client.client_id, ClientCredential::SecretPost(secret))
            .await;
        assert!(matches!(presented, Err(ClientError::AuthenticationFailed)));
    }

    #[tokio::test]
    async fn confidential_client_secret_is_returned_once_and_stored_hashed() {
        let (actor, store, _clock) = start().await;
        // No method given: RFC 7591 defaults to client_secret_basic.
        let registered = actor.register(metadata(None)).await.unwrap();
        let secret = registered.client_secret.unwrap();
        let id = registered.client.client_id;
        let stored = store.clients.lock().unwrap()[&id].clone();
        assert_eq!(stored.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(stored.secret_hash, Some(secret.hash()));

        let ok = actor
            .authenticate(&id, ClientCredential::SecretBasic(secret.clone()))
            .await;
        assert!(ok.is_ok());
        let wrong = Secret::from_presented(format!("{}x", secret.expose()));
        for credential in [
            ClientCredential::SecretBasic(wrong),
            ClientCredential::SecretPost(secret.clone()),
            ClientCredential::None,
        ] {
            let refused = actor.authenticate(&id, credential).await;
            assert!(matches!(refused, Err(ClientError::AuthenticationFailed)));
        }
        let unknown = actor
            .authenticate("nobody", ClientCredential::SecretBasic(secret))
            .await;
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
            match actor.register(bad).await {
                Err(ClientError::Metadata(MetadataError::InvalidRedirectUri(_)))
                    if is_redirect_error => {}
                Err(ClientError::Metadata(MetadataError::InvalidMetadata(_)))
                    if !is_redirect_error => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(store.clients.lock().unwrap().is_empty());

        // Defaults: grant types and an empty name.
        let mut minimal = metadata(Some("none"));
        minimal.grant_types.clear();
        minimal.client_name = Some("  ".into());
        let client = actor.register(minimal).await.unwrap().client;
        assert_eq!(client.grant_types, [GrantType::AuthorizationCode]);
        assert_eq!(client.client_name, None);
    }

    #[tokio::test]
    async fn sweep_deletes_only_registrations_never_used_in_time() {
        let (actor, store, clock) = start().await;
        let used = actor.register(metadata(Some("none"))).await.unwrap().client;
        let unused = actor.register(metadata(Some("none"))).await.unwrap().client;
        actor
            .authenticate(&used.client_id, ClientCredential::None)
            .await
            .unwrap();
        clock.advance(DAY / 2);
        let young = actor.register(metadata(Some("none"))).await.unwrap().client;

        clock.advance(DAY / 2 + Duration::from_secs(1));
        assert_eq!(sweep(&actor).await.unwrap(), 1);
        let left: Vec<String> = store
            .list_clients()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.client_id)
            .collect();
        assert!(left.contains(&used.client_id) && left.contains(&young.client_id));
        assert!(!left.contains(&unused.client_id));
    }

    #[tokio::test]
    async fn failing_storage_answers_an_error_and_changes_nothing() {
        let (actor, store, _clock) = start().await;
        let client = actor.register(metadata(Some("none"))).await.unwrap().client;
        store.fail_writes(true);
        assert!(matches!(
            actor.register(metadata(None)).await,
            Err(ClientError::Storage(_))
        ));
        let auth = actor
            .authenticate(&client.client_id, ClientCredential::None)
            .await;
        assert!(matches!(auth, Err(ClientError::Storage(_))));
        assert!(matches!(sweep(&actor).await, Err(ClientError::Storage(_))));

        store.fail_writes(false);
        let all = store.list_clients().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].last_used_at, None);
    }
}
