//! Actors that own the server's mutable state. Each module holds one actor: its `Msg`, its
//! `State`, its error type and a typed handle (`FoodCacheHandle`, `TokenStoreHandle`, …) with one
//! method per message callers send. `supervisor.rs` holds the root actor that starts the others
//! and restarts one that stops.
//!
//! Every handle calls through an [`ActorHandle`]: each call has a timeout, and "the actor is
//! stopped" or "it did not answer in time" becomes the one `Unavailable` case of the actor's
//! error type ([`NoAnswer`]), logged once here — callers never hang on an actor.
//!
//! Callers' tracing spans travel with every message (ractor's default `message_span_propogation`),
//! and every message is handled inside an `actor.<name>` span that is a child of the sender's
//! ([`Envelope::handle`]), so one trace shows HTTP → tool → actor → storage. Messages travel in an
//! [`Envelope`] that remembers when they were sent, for the time they waited in the mailbox.

pub mod auth_codes;
pub mod client_registry;
pub mod diary;
pub mod food_cache;
pub mod supervisor;
pub mod token_store;

#[cfg(test)]
pub(crate) mod fakes;

use std::{
    future::Future,
    time::{Duration, Instant},
};

use ractor::{ActorCell, ActorRef, ActorStatus, RpcReplyPort, rpc::CallResult};
use tokio::sync::watch;
use tracing::{Instrument, field::Empty};

/// What an actor's span says about one of its messages.
pub trait ActorMessage: Send + 'static {
    /// The actor's name in spans and metrics, e.g. `token_store`.
    const ACTOR: &'static str;
    /// The span name, `actor.<ACTOR>`.
    const SPAN: &'static str;
    /// The message kind, e.g. `Verify` (never its content).
    fn kind(&self) -> &'static str;
}

/// A message with the instant it was sent. Senders write `Msg::Variant { … }.into()`.
pub struct Envelope<M> {
    sent: Instant,
    msg: M,
    queued: Queued,
}

/// Counts the message in `actor_mailbox_depth` until it is handled or dropped unhandled (sent
/// to a stopped actor, or left in the mailbox of one that stopped), so the gauge survives
/// restarts.
struct Queued(&'static str);

impl Drop for Queued {
    fn drop(&mut self) {
        metrics::gauge!("actor_mailbox_depth", "actor" => self.0).decrement(1.0);
    }
}

impl<M: ActorMessage> From<M> for Envelope<M> {
    fn from(msg: M) -> Envelope<M> {
        metrics::gauge!("actor_mailbox_depth", "actor" => M::ACTOR).increment(1.0);
        Envelope {
            sent: Instant::now(),
            msg,
            queued: Queued(M::ACTOR),
        }
    }
}

impl<M: ActorMessage> Envelope<M> {
    /// The message inside.
    pub fn message(&self) -> &M {
        &self.msg
    }

    /// Runs `handle` on the message inside its `actor.<name>` span (a child of the sender's span,
    /// which ractor made current), recording the time waited in the mailbox and the time handled.
    pub async fn handle<F, Fut>(self, handle: F)
    where
        F: FnOnce(M) -> Fut,
        Fut: Future<Output = ()>,
    {
        let Envelope { sent, msg, queued } = self;
        let waited = sent.elapsed();
        let kind = msg.kind();
        drop(queued);
        let span = tracing::info_span!(
            "actor.message",
            otel.name = M::SPAN,
            actor = M::ACTOR,
            message.kind = kind,
            mailbox.waited_us = waited.as_micros() as u64,
            handled_us = Empty,
        );
        let started = Instant::now();
        handle(msg).instrument(span.clone()).await;
        let took = started.elapsed();
        span.record("handled_us", took.as_micros() as u64);
        metrics::histogram!("actor_mailbox_wait_seconds", "actor" => M::ACTOR).record(waited);
        metrics::histogram!("actor_message_duration_seconds", "actor" => M::ACTOR, "message" => kind)
            .record(took);
    }
}

/// Answers a caller; one that stopped waiting (timeout, dropped request) is not an error.
fn reply<T>(port: RpcReplyPort<T>, value: T) {
    if port.send(value).is_err() {
        tracing::debug!("caller went away before the reply");
    }
}

/// Why a call got no answer. Each actor's error type turns it into its one `Unavailable` case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswer {
    /// The actor is stopped (or being restarted): the message was not delivered, or the actor
    /// stopped before replying.
    Stopped,
    /// No reply within the call's timeout.
    TimedOut,
}

/// A cheap, cloneable way to call one actor wherever it currently runs: the supervisor points
/// the slot at the new actor after a restart, so a handle taken at start-up keeps working.
pub struct ActorHandle<M> {
    // A watch, not a lock around state: it holds only which actor to send to, written by the
    // supervisor at each (re)start and read once per call.
    current: watch::Receiver<Option<ActorRef<Envelope<M>>>>,
    timeout: Duration,
}

impl<M> Clone for ActorHandle<M> {
    fn clone(&self) -> Self {
        ActorHandle {
            current: self.current.clone(),
            timeout: self.timeout,
        }
    }
}

impl<M: ActorMessage> ActorHandle<M> {
    /// A handle on the slot a supervisor fills (see `supervisor::Supervision::supervise`).
    fn new(current: watch::Receiver<Option<ActorRef<Envelope<M>>>>, timeout: Duration) -> Self {
        ActorHandle { current, timeout }
    }

    /// Starts `actor` without a supervisor (actor unit tests).
    #[cfg(test)]
    pub(crate) async fn spawn<A>(actor: A, args: A::Arguments, timeout: Duration) -> Self
    where
        A: ractor::Actor<Msg = Envelope<M>>,
    {
        let (actor, _join) = ractor::Actor::spawn(None, actor, args)
            .await
            .expect("the actor starts");
        let (_slot, current) = watch::channel(Some(actor));
        ActorHandle::new(current, timeout)
    }

    /// How long a call waits for its answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The actor running now, if one is.
    pub fn cell(&self) -> Option<ActorCell> {
        self.current.borrow().as_ref().map(|actor| actor.get_cell())
    }

    /// Whether the actor is running (not stopped, not being restarted).
    pub fn is_alive(&self) -> bool {
        self.cell()
            .is_some_and(|cell| cell.get_status() == ActorStatus::Running)
    }

    /// Sends a request and waits at most the handle's timeout for the answer.
    pub(crate) async fn ask<T, E>(
        &self,
        msg: impl FnOnce(RpcReplyPort<Result<T, E>>) -> M,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<NoAnswer> + Send + 'static,
    {
        self.ask_within(self.timeout, msg).await
    }

    /// Like [`ask`](Self::ask), waiting at most `timeout` (for requests that include other
    /// bounded work, such as an upstream fetch).
    pub(crate) async fn ask_within<T, E>(
        &self,
        timeout: Duration,
        msg: impl FnOnce(RpcReplyPort<Result<T, E>>) -> M,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<NoAnswer> + Send + 'static,
    {
        let actor = self.current.borrow().clone();
        let answer = match actor {
            Some(actor) => actor.call(|reply| msg(reply).into(), Some(timeout)).await,
            None => return Err(no_answer::<M>(NoAnswer::Stopped).into()),
        };
        match answer {
            Ok(CallResult::Success(answer)) => answer,
            Ok(CallResult::Timeout) => Err(no_answer::<M>(NoAnswer::TimedOut).into()),
            Ok(CallResult::SenderError) | Err(_) => Err(no_answer::<M>(NoAnswer::Stopped).into()),
        }
    }
}

/// Logs a call that got no answer (the one place it is logged) and hands the reason on.
fn no_answer<M: ActorMessage>(why: NoAnswer) -> NoAnswer {
    tracing::warn!(actor = M::ACTOR, reason = ?why, "actor did not answer");
    why
}

#[cfg(test)]
mod tests {
    use ractor::{Actor, ActorProcessingErr};

    use super::*;

    /// Answers `Echo` at once; `Hang` is never answered.
    struct Echo;

    enum EchoMsg {
        Echo {
            reply: RpcReplyPort<Result<u32, TestError>>,
        },
        Hang {
            reply: RpcReplyPort<Result<u32, TestError>>,
        },
    }

    impl ActorMessage for EchoMsg {
        const ACTOR: &'static str = "echo";
        const SPAN: &'static str = "actor.echo";
        fn kind(&self) -> &'static str {
            match self {
                EchoMsg::Echo { .. } => "Echo",
                EchoMsg::Hang { .. } => "Hang",
            }
        }
    }

    #[derive(Debug, PartialEq)]
    struct TestError(NoAnswer);

    impl From<NoAnswer> for TestError {
        fn from(why: NoAnswer) -> Self {
            TestError(why)
        }
    }

    impl Actor for Echo {
        type Msg = Envelope<EchoMsg>;
        type State = ();
        type Arguments = ();

        async fn pre_start(
            &self,
            _myself: ActorRef<Self::Msg>,
            _args: (),
        ) -> Result<(), ActorProcessingErr> {
            Ok(())
        }

        async fn handle(
            &self,
            _myself: ActorRef<Self::Msg>,
            msg: Self::Msg,
            _state: &mut (),
        ) -> Result<(), ActorProcessingErr> {
            msg.handle(|msg| async move {
                match msg {
                    EchoMsg::Echo { reply: port } => reply(port, Ok(7)),
                    // Holds the mailbox forever, as a stuck actor would.
                    EchoMsg::Hang { reply: _kept } => std::future::pending().await,
                }
            })
            .await;
            Ok(())
        }
    }

    const TIMEOUT: Duration = Duration::from_secs(5);

    #[test]
    fn a_message_dropped_unhandled_leaves_the_mailbox_gauge_as_it_was() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let metrics = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let (port, _answer) = tokio::sync::oneshot::channel();
            let queued: Envelope<EchoMsg> = EchoMsg::Echo { reply: port.into() }.into();
            // What happens to a message sent to a stopped actor, or left in a killed one's mailbox.
            drop(queued);
        });
        let text = metrics.render();
        assert!(
            text.contains("actor_mailbox_depth{actor=\"echo\"} 0"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_handle_on_a_stopped_actor_answers_stopped() {
        let echo = ActorHandle::spawn(Echo, (), TIMEOUT).await;
        assert_eq!(echo.ask(|reply| EchoMsg::Echo { reply }).await, Ok(7));
        assert!(echo.is_alive());
        echo.cell()
            .unwrap()
            .stop_and_wait(None, None)
            .await
            .unwrap();
        assert!(!echo.is_alive());
        assert_eq!(
            echo.ask(|reply| EchoMsg::Echo { reply }).await,
            Err(TestError(NoAnswer::Stopped))
        );
    }

    // Paused time: the runtime jumps to the timeout once everything waits, so this takes no
    // real time.
    #[tokio::test(start_paused = true)]
    async fn a_handle_on_a_stuck_actor_answers_timed_out_after_its_timeout() {
        let echo = ActorHandle::spawn(Echo, (), TIMEOUT).await;
        let started = tokio::time::Instant::now();
        assert_eq!(
            echo.ask(|reply| EchoMsg::Hang { reply }).await,
            Err(TestError(NoAnswer::TimedOut))
        );
        assert!(started.elapsed() >= TIMEOUT);
        // The actor is alive but stuck: the next call times out too, it does not hang.
        assert!(echo.is_alive());
        assert_eq!(
            echo.ask(|reply| EchoMsg::Echo { reply }).await,
            Err(TestError(NoAnswer::TimedOut))
        );
    }
}
