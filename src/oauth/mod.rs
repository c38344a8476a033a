//! OAuth 2.1: the authorization server food-mcp is for its own `/mcp`, and the bearer layer.
//!
//! Pure rules: [`pkce`] (S256 only), [`redirect`] (registration and matching of redirect URIs),
//! [`secrets`] (random tokens, their SHA-256 hashes, constant-time checks), [`scopes`].
//! Around them: [`cimd`] (client ID metadata documents), [`rate_limit`] (per-address limits and
//! the password lockout), [`owner`] (the owner's password). HTTP: [`routes`] (state and router),
//! [`metadata`], [`register`], [`authorize`], [`token`], [`revoke`], [`error`], and [`bearer`].

pub mod authorize;
pub mod bearer;
pub mod cimd;
pub mod error;
pub mod metadata;
pub mod owner;
pub mod pkce;
pub mod rate_limit;
pub mod redirect;
pub mod register;
pub mod revoke;
pub mod routes;
pub mod scopes;
pub mod secrets;
pub mod token;
