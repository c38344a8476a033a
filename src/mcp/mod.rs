//! The MCP surface: rmcp's handler with the four tools, and their input and output types.

pub mod server;
pub mod types;
