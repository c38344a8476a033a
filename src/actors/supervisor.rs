//! The root actor: starts the other actors linked to itself, restarts one that stops, and gives
//! up — the server then shuts down with an error naming the actor — when one keeps stopping or
//! cannot start again.
//!
//! Restarting is safe for every actor here: the OAuth actors write each change through to
//! storage before they reply, so a new one rebuilds its state from storage (`TokenStore` reloads
//! the active tokens) and nothing acknowledged is lost; `FoodCache` keeps in memory only copies of
//! what storage holds (read again as needed) and fetches under way, whose callers get
//! `Unavailable` and may ask again. What a restart forgets is
//! only short-lived bookkeeping: a just-rotated refresh token's grace (a racing replay then
//! revokes its grant, the safe side) and the ten-minute memory of revoked families.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SpawnErr,
    SupervisionEvent,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{ActorHandle, ActorMessage, Envelope, reply};

/// More restarts than this within [`RESTART_WINDOW`] means the actor cannot run here (a bug that
/// fails every message, storage gone): the supervisor gives up instead of looping.
const MAX_RESTARTS: usize = 3;
const RESTART_WINDOW: Duration = Duration::from_secs(60);

/// Starts a child linked to the supervisor it is given, points its handles at it, and answers
/// its cell.
type StartFn = Box<dyn Fn(ActorCell) -> BoxFuture<'static, Result<ActorCell, SpawnErr>> + Send>;

/// A supervised actor: its name and how to start it again.
struct Child {
    name: &'static str,
    start: StartFn,
    /// When it stopped, within the restart window.
    stops: VecDeque<Instant>,
}

enum SupervisorMsg {
    /// Starts a child and remembers how, to restart it. Starting inside the supervisor means its
    /// stop can never be noticed before the supervisor knows it.
    Start {
        child: Child,
        reply: RpcReplyPort<Result<(), SpawnErr>>,
    },
}

impl ActorMessage for SupervisorMsg {
    const ACTOR: &'static str = "supervisor";
    const SPAN: &'static str = "actor.supervisor";

    fn kind(&self) -> &'static str {
        match self {
            SupervisorMsg::Start { .. } => "Start",
        }
    }
}

struct Supervisor;

struct State {
    children: HashMap<ActorId, Child>,
    /// Set, once, to why the supervisor gave up.
    gave_up: watch::Sender<Option<String>>,
}

impl Actor for Supervisor {
    type Msg = Envelope<SupervisorMsg>;
    type State = State;
    type Arguments = watch::Sender<Option<String>>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        gave_up: watch::Sender<Option<String>>,
    ) -> Result<State, ActorProcessingErr> {
        Ok(State {
            children: HashMap::new(),
            gave_up,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Envelope<SupervisorMsg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        msg.handle(|msg| async move {
            match msg {
                SupervisorMsg::Start { child, reply: port } => {
                    reply(port, state.start(myself.get_cell(), child).await);
                }
            }
        })
        .await;
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                let reason = reason.unwrap_or_else(|| "stopped".into());
                state.restart(myself.get_cell(), &cell, &reason).await;
            }
            SupervisionEvent::ActorFailed(cell, err) => {
                state
                    .restart(myself.get_cell(), &cell, &err.to_string())
                    .await;
            }
            _ => {}
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Stopped children are not restarted: this actor no longer handles their events.
        myself.stop_children_and_wait(None, None).await;
        Ok(())
    }
}

impl State {
    async fn start(&mut self, myself: ActorCell, child: Child) -> Result<(), SpawnErr> {
        let cell = (child.start)(myself).await?;
        self.children.insert(cell.get_id(), child);
        Ok(())
    }

    /// A child stopped outside shutdown: start it again, or give up.
    async fn restart(&mut self, myself: ActorCell, cell: &ActorCell, reason: &str) {
        let Some(mut child) = self.children.remove(&cell.get_id()) else {
            return;
        };
        let name = child.name;
        let now = Instant::now();
        child
            .stops
            .retain(|at| now.duration_since(*at) < RESTART_WINDOW);
        child.stops.push_back(now);
        if child.stops.len() > MAX_RESTARTS {
            self.give_up(format!(
                "the {name} actor stopped {} times within {} (last: {reason})",
                child.stops.len(),
                humantime::format_duration(RESTART_WINDOW)
            ));
            return;
        }
        tracing::error!(actor = name, reason, "actor stopped; restarting it");
        metrics::counter!("actor_restarts_total", "actor" => name).increment(1);
        match (child.start)(myself).await {
            Ok(cell) => {
                tracing::info!(actor = name, "actor restarted");
                self.children.insert(cell.get_id(), child);
            }
            Err(err) => self.give_up(format!(
                "the {name} actor stopped ({reason}) and could not start again: {err}"
            )),
        }
    }

    fn give_up(&self, why: String) {
        tracing::error!(reason = %why, "an actor cannot be kept running; shutting down");
        self.gave_up.send_replace(Some(why));
    }
}

/// The supervisor from the outside: starts children under it, lists them for `/health`, says
/// when it gave up, and stops everything at shutdown.
pub struct Supervision {
    actor: ActorRef<Envelope<SupervisorMsg>>,
    task: JoinHandle<()>,
    gave_up: watch::Receiver<Option<String>>,
    roster: Roster,
}

impl Supervision {
    pub async fn start() -> Result<Supervision, SpawnErr> {
        let (gave_up_tx, gave_up) = watch::channel(None);
        let (actor, task) = Actor::spawn(None, Supervisor, gave_up_tx).await?;
        Ok(Supervision {
            actor,
            task,
            gave_up,
            roster: Roster::default(),
        })
    }

    /// Starts `actor` under the supervisor, with arguments from `args` (called again at each
    /// restart), and answers a handle whose calls wait at most `timeout`.
    pub async fn supervise<A, M>(
        &mut self,
        actor: A,
        args: impl Fn() -> A::Arguments + Send + 'static,
        timeout: Duration,
    ) -> Result<ActorHandle<M>, SpawnErr>
    where
        A: Actor<Msg = Envelope<M>> + Clone,
        M: ActorMessage,
    {
        let (slot, current) = watch::channel(None);
        let start: StartFn = Box::new(move |supervisor| {
            let (actor, args, slot) = (actor.clone(), args(), slot.clone());
            Box::pin(async move {
                let (started, _task) = Actor::spawn_linked(None, actor, args, supervisor).await?;
                let cell = started.get_cell();
                slot.send_replace(Some(started));
                Ok(cell)
            })
        });
        let child = Child {
            name: M::ACTOR,
            start,
            stops: VecDeque::new(),
        };
        // No timeout: starting is bounded by the actor's own start-up (a storage read).
        let started = self
            .actor
            .call(|reply| SupervisorMsg::Start { child, reply }.into(), None)
            .await;
        match started {
            Ok(ractor::rpc::CallResult::Success(answer)) => answer?,
            _ => {
                return Err(SpawnErr::StartupFailed(
                    "the supervisor stopped while starting an actor".into(),
                ));
            }
        }
        let handle = ActorHandle::new(current, timeout);
        self.roster
            .0
            .push((M::ACTOR, Arc::new(handle.clone()) as Arc<dyn Probe>));
        Ok(handle)
    }

    /// The supervised actors, for `/health`.
    pub fn roster(&self) -> Roster {
        self.roster.clone()
    }

    /// Resolves when the supervisor gave up on an actor (or itself stopped), with why.
    pub fn gave_up(&self) -> impl std::future::Future<Output = String> + Send + 'static {
        let mut gave_up = self.gave_up.clone();
        async move {
            match gave_up.wait_for(Option::is_some).await {
                Ok(why) => why.clone().unwrap_or_default(),
                Err(_) => "the actor supervisor stopped".into(),
            }
        }
    }

    /// Why the supervisor gave up, if it did.
    pub fn failure(&self) -> Option<String> {
        self.gave_up.borrow().clone()
    }

    /// Stops every child (each finishes the message it is handling), then the supervisor.
    pub async fn stop(self) {
        self.actor.stop(None);
        let _ = self.task.await;
    }
}

/// What `/health` asks of a supervised actor.
trait Probe: Send + Sync {
    fn is_alive(&self) -> bool;
    fn cell(&self) -> Option<ActorCell>;
}

impl<M: ActorMessage> Probe for ActorHandle<M> {
    fn is_alive(&self) -> bool {
        ActorHandle::is_alive(self)
    }

    fn cell(&self) -> Option<ActorCell> {
        ActorHandle::cell(self)
    }
}

/// The supervised actors by name; cheap to clone.
#[derive(Clone, Default)]
pub struct Roster(Vec<(&'static str, Arc<dyn Probe>)>);

impl Roster {
    /// Each actor's name and whether it is running now, in start order.
    pub fn liveness(&self) -> Vec<(&'static str, bool)> {
        self.0
            .iter()
            .map(|(name, probe)| (*name, probe.is_alive()))
            .collect()
    }

    /// The actor running under `name` now.
    pub fn cell(&self, name: &str) -> Option<ActorCell> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, probe)| probe.cell())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::actors::fakes::FakeStore;
    use crate::actors::token_store::{self, TokenConfig, TokenError, TokenStore, TokenStoreHandle};
    use crate::auth::secrets::Secret;
    use crate::auth::token::{FamilyId, Grant};
    use crate::clock::Clock;

    const TIMEOUT: Duration = Duration::from_secs(5);
    const HOUR: Duration = Duration::from_secs(3600);

    /// The token store under a supervisor, over a store the test can break.
    async fn supervised() -> (Supervision, TokenStoreHandle, Arc<FakeStore>) {
        let store = Arc::new(FakeStore::default());
        let repo = store.clone();
        let clock = Clock::manual(1_800_000_000);
        let mut supervision = Supervision::start().await.unwrap();
        let handle = supervision
            .supervise(
                TokenStore,
                move || token_store::Arguments {
                    repo: repo.clone(),
                    clock: clock.clone(),
                    config: TokenConfig {
                        access_ttl: HOUR,
                        refresh_ttl: HOUR,
                        refresh_grace: Duration::from_secs(10),
                        sweep_interval: HOUR,
                    },
                },
                TIMEOUT,
            )
            .await
            .unwrap();
        (supervision, TokenStoreHandle::new(handle), store)
    }

    async fn issue(tokens: &TokenStoreHandle) -> Result<Secret, TokenError> {
        let grant = Grant {
            client_id: "client-a".into(),
            scopes: vec!["food:read".into()],
            resource: "https://food.example/mcp".into(),
            family: FamilyId::generate().unwrap(),
        };
        Ok(tokens.issue(grant).await?.access_token)
    }

    /// Kills the actor and waits until the supervisor has dealt with it (restarted it or given
    /// up).
    async fn kill(supervision: &Supervision) {
        let cell = supervision.roster().cell("token_store").unwrap();
        cell.kill_and_wait(None).await.unwrap();
        while supervision.roster().cell("token_store").unwrap().get_id() == cell.get_id()
            && supervision.failure().is_none()
        {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_killed_actor_is_restarted_from_storage_and_its_handle_keeps_working() {
        let (supervision, tokens, _store) = supervised().await;
        let access = issue(&tokens).await.unwrap();
        kill(&supervision).await;
        assert_eq!(supervision.failure(), None);
        // The old handle reaches the new actor, which loaded the token from storage.
        assert_eq!(tokens.verify(&access).await.unwrap().client_id, "client-a");
        assert_eq!(supervision.roster().liveness(), [("token_store", true)]);
        supervision.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_actor_that_keeps_stopping_makes_the_supervisor_give_up_naming_it() {
        let (supervision, tokens, _store) = supervised().await;
        for _ in 0..MAX_RESTARTS {
            kill(&supervision).await;
            assert!(issue(&tokens).await.is_ok());
        }
        kill(&supervision).await;
        let why = supervision.gave_up().await;
        assert!(
            why.contains("token_store") && why.contains("4 times"),
            "{why}"
        );
        assert!(matches!(issue(&tokens).await, Err(TokenError::Unavailable)));
        assert_eq!(supervision.roster().liveness(), [("token_store", false)]);
        supervision.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn stops_spread_over_time_are_always_restarted() {
        let (supervision, tokens, _store) = supervised().await;
        for _ in 0..2 * MAX_RESTARTS {
            kill(&supervision).await;
            tokio::time::advance(RESTART_WINDOW / 2).await;
        }
        assert_eq!(supervision.failure(), None);
        assert!(issue(&tokens).await.is_ok());
        supervision.stop().await;
    }

    #[tokio::test]
    async fn an_actor_that_cannot_start_again_makes_the_supervisor_give_up() {
        let (supervision, tokens, store) = supervised().await;
        store.fail_reads(true);
        kill(&supervision).await;
        let why = supervision.gave_up().await;
        assert!(
            why.contains("token_store") && why.contains("could not start again"),
            "{why}"
        );
        assert!(matches!(issue(&tokens).await, Err(TokenError::Unavailable)));
        supervision.stop().await;
    }
}
