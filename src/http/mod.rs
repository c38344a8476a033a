//! The HTTP edge: everything that speaks HTTP apart from rmcp's `/mcp` service — `/health`, the
//! home page, the bearer layer in front of `/mcp`, the OAuth endpoints with their consent page,
//! the client address behind trusted proxies, per-address rate limits, the owner's password, the
//! client metadata document fetcher, the 404/405 answers, and the listener's serve loop with its
//! connection limits and graceful drain.

pub mod bearer;
pub mod cimd;
pub mod client_addr;
pub mod fallback;
pub mod health;
pub mod home;
pub mod oauth;
pub mod owner;
pub mod rate_limit;
pub mod serve;
