//! Actors that own the server's mutable state. Each module holds one actor: its `Msg`, its
//! storage trait, its `State`, a `Ref` alias and a `spawn` function.
//!
//! Callers' tracing spans travel with every message (ractor's default `message_span_propogation`),
//! and every message is handled inside an `actor.<name>` span that is a child of the sender's
//! ([`Envelope::handle`]), so one trace shows HTTP → tool → actor → storage. Messages travel in an
//! [`Envelope`] that remembers when they were sent, for the time they waited in the mailbox.

pub mod auth_codes;
pub mod client_registry;
pub mod diary;
pub mod food_cache;
pub mod token_store;

#[cfg(test)]
pub(crate) mod fakes;

use std::{future::Future, time::Instant};

use ractor::RpcReplyPort;
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
}

impl<M: ActorMessage> From<M> for Envelope<M> {
    fn from(msg: M) -> Envelope<M> {
        metrics::gauge!("actor_mailbox_depth", "actor" => M::ACTOR).increment(1.0);
        Envelope {
            sent: Instant::now(),
            msg,
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
        let waited = self.sent.elapsed();
        let kind = self.msg.kind();
        metrics::gauge!("actor_mailbox_depth", "actor" => M::ACTOR).decrement(1.0);
        let span = tracing::info_span!(
            "actor.message",
            otel.name = M::SPAN,
            actor = M::ACTOR,
            message.kind = kind,
            mailbox.waited_us = waited.as_micros() as u64,
            handled_us = Empty,
        );
        let started = Instant::now();
        handle(self.msg).instrument(span.clone()).await;
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
