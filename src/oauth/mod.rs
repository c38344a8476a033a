//! OAuth 2.1 authorization-server rules shared by the actors and the HTTP endpoints.
//!
//! Pure and IO-free: [`pkce`] (S256 only), [`redirect`] (registration and matching of redirect
//! URIs) and [`secrets`] (random tokens, their SHA-256 hashes, constant-time checks).
//! Endpoint helper with its own state: [`rate_limit`] (per-address request limits and the
//! consent-password lockout).

pub mod pkce;
pub mod rate_limit;
pub mod redirect;
pub mod secrets;
