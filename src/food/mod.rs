//! The nutrition domain: pure functions and types, no IO. Knows nothing of axum, sqlx, ractor or HTTP.

pub mod diary;
pub mod kept;
pub mod meal;
pub mod model;
pub mod nutrients;
pub mod portion;
#[cfg(test)]
mod properties;
pub mod search;
pub mod units;
