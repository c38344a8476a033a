//! The actors that own mutable state. Handlers talk to them with typed messages, never locks.

pub mod food_cache;
