//! OAuth 2.1 authorization-server rules shared by the actors and the HTTP endpoints.
//!
//! Pure and IO-free: [`pkce`] (S256 only), [`redirect`] (registration and matching of redirect
//! URIs) and [`secrets`] (random tokens, their SHA-256 hashes, constant-time checks).

pub mod pkce;
pub mod redirect;
pub mod secrets;
