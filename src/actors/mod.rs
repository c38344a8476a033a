//! Actors that own the server's mutable state. Each module holds one actor: its `Msg`, its
//! storage trait, its `State`, a `Ref` alias and a `spawn` function.
//!
//! Callers' tracing spans travel with every message (ractor's default `message_span_propogation`),
//! so an actor's log lines land inside the HTTP request that caused them.

pub mod auth_codes;
pub mod client_registry;
pub mod food_cache;
pub mod token_store;

#[cfg(test)]
pub(crate) mod fakes;

use ractor::RpcReplyPort;

/// Answers a caller; one that stopped waiting (timeout, dropped request) is not an error.
fn reply<T>(port: RpcReplyPort<T>, value: T) {
    if port.send(value).is_err() {
        tracing::debug!("caller went away before the reply");
    }
}
