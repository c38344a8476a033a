//! Upstream food sources: the USDA FoodData Central API and Open Food Facts, behind one trait.

pub mod openfoodfacts;
pub mod usda;

use std::time::Duration;

use async_trait::async_trait;

use crate::food::model::{Food, FoodSummary, Source};

/// Why an upstream could not answer. Messages are safe to show (no keys, no URLs with keys).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// The upstream answered that the food does not exist.
    #[error("{upstream} has no food with id {id}")]
    NotFound { upstream: Source, id: String },
    /// The id can never be valid for this source (e.g. a non-numeric FDC id).
    #[error("{0}")]
    InvalidId(String),
    /// The upstream (or our own client-side limit) refused for rate reasons.
    #[error("{upstream} rate limit reached{}", retry_after.map(|d| format!("; retry in {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { upstream: Source, retry_after: Option<Duration> },
    /// Network error, timeout, or a 5xx.
    #[error("{upstream} is unavailable: {reason}")]
    Unavailable { upstream: Source, reason: String },
    /// The upstream answered something we could not understand.
    #[error("{upstream} sent an unexpected response: {reason}")]
    InvalidResponse { upstream: Source, reason: String },
}

impl SourceError {
    /// Whether serving a stale cached copy is the right answer to this error: only for transport
    /// failures and rate limits, never for a definite "not found" or a bad id.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::RateLimited { .. } | SourceError::Unavailable { .. })
    }
}

/// An upstream that can fetch one food by id and search by text.
#[async_trait]
pub trait FoodSource: Send + Sync + 'static {
    fn source(&self) -> Source;
    async fn fetch_food(&self, id: &str) -> Result<Food, SourceError>;
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<FoodSummary>, SourceError>;
}
