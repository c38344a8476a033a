//! The HTTP edge: everything that speaks HTTP apart from rmcp's `/mcp` service — `/health`, the
//! bearer layer in front of `/mcp`, the OAuth endpoints with their consent page, the client
//! address behind trusted proxies, per-address rate limits, the owner's password and the client
//! metadata document fetcher.

pub mod bearer;
pub mod cimd;
pub mod client_addr;
pub mod health;
pub mod oauth;
pub mod owner;
pub mod rate_limit;
