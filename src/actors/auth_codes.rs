//! AuthCodes actor: authorization codes — issued after consent, redeemed once at the token
//! endpoint with PKCE, replay reported so the caller can revoke what the first redemption got.
//!
//! Codes are stored only as SHA-256 hashes. Storage is the source of truth (codes live minutes);
//! the actor serialises redemption and the store's `mark_code_redeemed` is itself conditional,
//! so a code is redeemed at most once.

use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{ActorHandle, NoAnswer, reply};
use crate::auth::code::{CodeRecord, CodeRequest};
use crate::auth::pkce::PkceError;
use crate::auth::secrets::{EntropyError, Secret};
use crate::auth::token::{FamilyId, Grant};
use crate::clock::{Clock, secs};
use crate::ports::{CodeStore, StorageError};

/// Why a code was not redeemed. All but `Storage`, `Entropy` and `Unavailable` are
/// `invalid_grant` on the wire.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("unknown authorization code")]
    Invalid,
    #[error("authorization code expired")]
    Expired,
    #[error("authorization code was issued to another client")]
    WrongClient,
    #[error("redirect_uri differs from the authorization request")]
    RedirectMismatch,
    #[error(transparent)]
    Pkce(#[from] PkceError),
    /// The code was already redeemed: revoke the tokens issued under `issued_family`.
    #[error("authorization code was already used")]
    Replayed { issued_family: FamilyId },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The actor is stopped or did not answer in time (see [`NoAnswer`]).
    #[error("the authorization codes are not answering")]
    Unavailable,
}

impl From<NoAnswer> for CodeError {
    fn from(_: NoAnswer) -> Self {
        CodeError::Unavailable
    }
}

pub enum AuthCodesMsg {
    /// Issues a code for an approved request; the reply holds it in clear, to redirect with once.
    Issue {
        request: CodeRequest,
        reply: RpcReplyPort<Result<Secret, CodeError>>,
    },
    /// Redeems a code at the token endpoint: checks client, redirect URI and PKCE verifier.
    /// A failed check leaves the code redeemable (a wrong guess must not let an attacker burn
    /// the legitimate client's code); a second redemption answers `Replayed`.
    Redeem {
        code: Secret,
        client_id: String,
        redirect_uri: Option<String>,
        code_verifier: Secret,
        reply: RpcReplyPort<Result<Grant, CodeError>>,
    },
    /// Deletes expired codes (replays are recognised until then); answers how many.
    /// Also sent without a reply port every `sweep_interval`.
    Sweep {
        reply: Option<RpcReplyPort<Result<u64, CodeError>>>,
    },
}

pub type AuthCodesRef = ActorRef<super::Envelope<AuthCodesMsg>>;
impl super::ActorMessage for AuthCodesMsg {
    const ACTOR: &'static str = "auth_codes";
    const SPAN: &'static str = "actor.auth_codes";

    fn kind(&self) -> &'static str {
        match self {
            AuthCodesMsg::Issue { .. } => "Issue",
            AuthCodesMsg::Redeem { .. } => "Redeem",
            AuthCodesMsg::Sweep { .. } => "Sweep",
        }
    }
}

#[derive(Clone, Copy)]
pub struct AuthCodes;

#[derive(Clone)]
pub struct Arguments {
    pub store: Arc<dyn CodeStore>,
    pub clock: Clock,
    /// Lifetime of a code; RFC 6749 §4.1.2 recommends at most 10 minutes.
    pub code_ttl: Duration,
    pub sweep_interval: Duration,
}

/// Nothing is cached (see the module doc): the arguments are the whole state.
pub type State = Arguments;

impl Actor for AuthCodes {
    type Msg = super::Envelope<AuthCodesMsg>;
    type State = State;
    type Arguments = Arguments;

    async fn pre_start(
        &self,
        _myself: AuthCodesRef,
        args: Arguments,
    ) -> Result<State, ActorProcessingErr> {
        Ok(args)
    }

    async fn post_start(
        &self,
        myself: AuthCodesRef,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        myself.send_interval(state.sweep_interval, || {
            AuthCodesMsg::Sweep { reply: None }.into()
        });
        Ok(())
    }

    async fn handle(
        &self,
        _myself: AuthCodesRef,
        msg: super::Envelope<AuthCodesMsg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Every failure is answered through a reply port; nothing here may stop the actor.
        msg.handle(|msg| handle_msg(state, msg)).await;
        Ok(())
    }
}

async fn handle_msg(state: &State, msg: AuthCodesMsg) {
    match msg {
        AuthCodesMsg::Issue {
            request,
            reply: port,
        } => reply(port, issue(state, request).await),
        AuthCodesMsg::Redeem {
            code,
            client_id,
            redirect_uri,
            code_verifier,
            reply: port,
        } => {
            let presented = Presented {
                client_id: &client_id,
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: &code_verifier,
            };
            reply(port, redeem(state, &code, presented).await);
        }
        AuthCodesMsg::Sweep { reply: port } => {
            let swept = state.store.delete_expired_codes(state.clock.now()).await;
            match &swept {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "swept expired authorization codes"),
                Err(e) => tracing::warn!(error = %e, "code sweep failed; retrying next time"),
            }
            if let Some(port) = port {
                reply(port, swept.map_err(Into::into));
            }
        }
    }
}

async fn issue(state: &State, request: CodeRequest) -> Result<Secret, CodeError> {
    let code = Secret::generate()?;
    let record = CodeRecord {
        hash: code.hash(),
        client_id: request.client_id,
        redirect_uri: request.redirect_uri,
        code_challenge: request.code_challenge,
        scopes: request.scopes,
        resource: request.resource,
        family: FamilyId::generate()?,
        expires_at: state.clock.now().saturating_add(secs(state.code_ttl)),
        redeemed_at: None,
    };
    state.store.insert_code(&record).await?;
    Ok(code)
}

async fn redeem(
    state: &State,
    code: &Secret,
    presented: Presented<'_>,
) -> Result<Grant, CodeError> {
    let hash = code.hash();
    let record = state
        .store
        .get_code(&hash)
        .await?
        .ok_or(CodeError::Invalid)?;
    let now = state.clock.now();
    check_redemption(&record, &presented, now)?;
    if !state.store.mark_code_redeemed(&hash, now).await? {
        return Err(CodeError::Replayed {
            issued_family: record.family,
        });
    }
    Ok(Grant {
        client_id: record.client_id,
        scopes: record.scopes,
        resource: record.resource,
        family: record.family,
    })
}

/// What the token request presented along with the code.
struct Presented<'a> {
    client_id: &'a str,
    redirect_uri: Option<&'a str>,
    code_verifier: &'a Secret,
}

/// The redemption rules, in order: replay first (whoever replays, the tokens are suspect), then
/// expiry, client, redirect URI and PKCE.
fn check_redemption(
    record: &CodeRecord,
    presented: &Presented<'_>,
    now: i64,
) -> Result<(), CodeError> {
    if record.redeemed_at.is_some() {
        return Err(CodeError::Replayed {
            issued_family: record.family.clone(),
        });
    }
    if now >= record.expires_at {
        return Err(CodeError::Expired);
    }
    if presented.client_id != record.client_id {
        return Err(CodeError::WrongClient);
    }
    // RFC 6749 §4.1.3: required, and identical, only when the authorization request had one.
    if let Some(expected) = record.redirect_uri.as_deref()
        && presented.redirect_uri != Some(expected)
    {
        return Err(CodeError::RedirectMismatch);
    }
    record.code_challenge.verify(presented.code_verifier)?;
    Ok(())
}

/// The codes' typed handle: one method per request, each bounded by the call timeout.
#[derive(Clone)]
pub struct AuthCodesHandle(ActorHandle<AuthCodesMsg>);

impl AuthCodesHandle {
    pub fn new(actor: ActorHandle<AuthCodesMsg>) -> Self {
        AuthCodesHandle(actor)
    }

    /// Issues a code for an approved request; it is in clear only in this answer.
    pub async fn issue(&self, request: CodeRequest) -> Result<Secret, CodeError> {
        self.0
            .ask(|reply| AuthCodesMsg::Issue { request, reply })
            .await
    }

    /// Redeems a code at the token endpoint (see [`AuthCodesMsg::Redeem`]).
    pub async fn redeem(
        &self,
        code: Secret,
        client_id: &str,
        redirect_uri: Option<String>,
        code_verifier: Secret,
    ) -> Result<Grant, CodeError> {
        let client_id = client_id.to_string();
        self.0
            .ask(|reply| AuthCodesMsg::Redeem {
                code,
                client_id,
                redirect_uri,
                code_verifier,
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
    use crate::auth::pkce::CodeChallenge;

    const T0: i64 = 1_800_000_000;
    const TTL: Duration = Duration::from_secs(300);
    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://localhost:40000/callback";

    async fn start() -> (AuthCodesHandle, Arc<FakeStore>, Clock) {
        let store = Arc::new(FakeStore::default());
        let clock = Clock::manual(T0);
        let args = Arguments {
            store: store.clone(),
            clock: clock.clone(),
            code_ttl: TTL,
            sweep_interval: Duration::from_secs(3600),
        };
        let actor = ActorHandle::spawn(AuthCodes, args, Duration::from_secs(5)).await;
        (AuthCodesHandle::new(actor), store, clock)
    }

    async fn issue(actor: &AuthCodesHandle) -> Result<Secret, CodeError> {
        let request = CodeRequest {
            client_id: "client-a".into(),
            redirect_uri: Some(REDIRECT.into()),
            code_challenge: CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap(),
            scopes: vec!["food:read".into(), "food:write".into()],
            resource: "https://food.example/mcp".into(),
        };
        actor.issue(request).await
    }

    async fn redeem_with(
        actor: &AuthCodesHandle,
        code: &Secret,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: &str,
    ) -> Result<Grant, CodeError> {
        let redirect_uri = redirect_uri.map(str::to_owned);
        let code_verifier = Secret::from_presented(verifier);
        actor
            .redeem(code.clone(), client_id, redirect_uri, code_verifier)
            .await
    }

    async fn redeem(actor: &AuthCodesHandle, code: &Secret) -> Result<Grant, CodeError> {
        redeem_with(actor, code, "client-a", Some(REDIRECT), VERIFIER).await
    }

    #[tokio::test]
    async fn a_code_redeems_once_and_a_replay_names_the_issued_family() {
        let (actor, store, _clock) = start().await;
        let code = issue(&actor).await.unwrap();
        {
            let codes = store.codes.lock().unwrap();
            assert!(codes.contains_key(&code.hash()), "stored under its hash");
            assert_eq!(codes[&code.hash()].expires_at, T0 + 300);
        }
        let grant = redeem(&actor, &code).await.unwrap();
        assert_eq!(grant.client_id, "client-a");
        assert_eq!(grant.scopes, ["food:read", "food:write"]);
        assert_eq!(grant.resource, "https://food.example/mcp");

        match redeem(&actor, &code).await {
            Err(CodeError::Replayed { issued_family }) => assert_eq!(issued_family, grant.family),
            other => panic!("expected a replay, got {other:?}"),
        }
        let unknown = Secret::generate().unwrap();
        assert!(matches!(
            redeem(&actor, &unknown).await,
            Err(CodeError::Invalid)
        ));
    }

    #[tokio::test]
    async fn failed_checks_refuse_without_burning_the_code() {
        let (actor, _store, _clock) = start().await;
        let code = issue(&actor).await.unwrap();
        let wrong_verifier = VERIFIER.replace('d', "e");
        let other_port = "http://localhost:40001/callback";
        assert!(matches!(
            redeem_with(&actor, &code, "client-b", Some(REDIRECT), VERIFIER).await,
            Err(CodeError::WrongClient)
        ));
        for redirect in [None, Some(other_port)] {
            assert!(matches!(
                redeem_with(&actor, &code, "client-a", redirect, VERIFIER).await,
                Err(CodeError::RedirectMismatch)
            ));
        }
        assert!(matches!(
            redeem_with(&actor, &code, "client-a", Some(REDIRECT), &wrong_verifier).await,
            Err(CodeError::Pkce(PkceError::Mismatch))
        ));
        assert!(redeem(&actor, &code).await.is_ok());
    }

    #[tokio::test]
    async fn codes_expire_and_the_sweep_forgets_them() {
        let (actor, store, clock) = start().await;
        let code = issue(&actor).await.unwrap();
        clock.advance(TTL);
        assert!(matches!(
            redeem(&actor, &code).await,
            Err(CodeError::Expired)
        ));
        let swept = actor
            .0
            .ask(|reply| AuthCodesMsg::Sweep { reply: Some(reply) })
            .await;
        assert_eq!(swept.unwrap(), 1);
        assert!(store.codes.lock().unwrap().is_empty());
        assert!(matches!(
            redeem(&actor, &code).await,
            Err(CodeError::Invalid)
        ));
    }

    #[tokio::test]
    async fn failing_storage_answers_an_error_and_changes_nothing() {
        let (actor, store, _clock) = start().await;
        let code = issue(&actor).await.unwrap();
        store.fail_writes(true);
        assert!(matches!(issue(&actor).await, Err(CodeError::Storage(_))));
        assert!(matches!(
            redeem(&actor, &code).await,
            Err(CodeError::Storage(_))
        ));
        assert_eq!(store.codes.lock().unwrap().len(), 1);

        store.fail_writes(false);
        assert!(
            redeem(&actor, &code).await.is_ok(),
            "still redeemable once storage is back"
        );
    }
}
