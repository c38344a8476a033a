//! The OAuth 2.1 domain, pure: the records the authorization server keeps (clients, codes,
//! tokens), and its rules — PKCE, redirect URIs, secrets, scopes, client metadata. No IO here:
//! the actors own these records, `storage/` persists them, `http/` speaks them on the wire.

pub mod client;
pub mod code;
pub mod pkce;
#[cfg(test)]
mod properties;
pub mod redirect;
pub mod scopes;
pub mod secrets;
pub mod token;
