//! OAuth 2.1 authorization-server rules shared by the actors and the HTTP endpoints.
//!
//! Pure and IO-free: [`pkce`] (S256 only), [`redirect`] (registration and matching of redirect
//! URIs) and [`secrets`] (random tokens, their SHA-256 hashes, constant-time checks).
//! Endpoint helpers with their own state: [`cimd`] (fetches and caches Client ID Metadata
//! Documents — the one module here that does network IO) and [`rate_limit`] (per-address request
//! limits and the consent-password lockout).

pub mod cimd;
pub mod pkce;
pub mod rate_limit;
pub mod redirect;
pub mod secrets;
