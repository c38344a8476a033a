//! Upstream food sources: the USDA FoodData Central API and Open Food Facts, behind one trait.

pub mod breaker;
mod http;
pub mod openfoodfacts;
pub mod usda;

use std::time::Duration;

use async_trait::async_trait;

pub use crate::config::UpstreamLimits;
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
    RateLimited {
        upstream: Source,
        retry_after: Option<Duration>,
    },
    /// Network error, timeout, or a 5xx.
    #[error("{upstream} is unavailable: {reason}")]
    Unavailable { upstream: Source, reason: String },
    /// The upstream answered something we could not understand: not the expected JSON, the
    /// wrong shape, too large, or a status that means neither "found" nor "not found".
    #[error("{upstream} sent an unexpected response: {reason}")]
    InvalidResponse { upstream: Source, reason: String },
    /// The upstream answered, but the food carries no nutrient value food-mcp can use.
    #[error("{upstream} has no usable nutrient values for food {id}")]
    NoNutrients { upstream: Source, id: String },
    /// food-mcp's own request budget for the upstream is spent (the upstream was not asked).
    #[error("{upstream} request budget of this server is spent; retry in {}s", retry_after.as_secs())]
    Throttled {
        upstream: Source,
        retry_after: Duration,
    },
    /// The circuit breaker is open: the upstream is not asked until `retry_in` has passed
    /// (`None`: a probe request is under way).
    #[error("{upstream} is not being asked for now ({cause}); {}", match retry_in {
        Some(wait) => format!("next attempt in {}s", wait.as_secs().max(1)),
        None => "a retry is under way".to_string(),
    })]
    Suspended {
        upstream: Source,
        cause: String,
        retry_in: Option<Duration>,
    },
}

impl SourceError {
    /// Whether an expired cached copy is a better answer than this error: for every failure of
    /// the upstream (transport, status, a bad or unusable answer, back-off), never for a definite
    /// "not found" or an id that can never be valid.
    pub fn allows_stale(&self) -> bool {
        !matches!(
            self,
            SourceError::NotFound { .. } | SourceError::InvalidId(_)
        )
    }

    /// Whether this outcome says the upstream is failing (the circuit breaker counts these). An
    /// answer it gave on purpose (not found, no nutrients) or a refusal of our own is not.
    pub fn is_upstream_failure(&self) -> bool {
        matches!(
            self,
            SourceError::RateLimited { .. }
                | SourceError::Unavailable { .. }
                | SourceError::InvalidResponse { .. }
        )
    }
}

/// A client could not be built from its settings (checked once at start, never per request).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid setting {setting}: {reason}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub reason: &'static str,
}

/// An upstream that can fetch one food by id and search by text.
#[async_trait]
pub trait FoodSource: Send + Sync + 'static {
    fn source(&self) -> Source;
    /// Its configured limits; the food cache builds its circuit breaker from them.
    fn limits(&self) -> UpstreamLimits;
    async fn fetch_food(&self, id: &str) -> Result<Food, SourceError>;
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<FoodSummary>, SourceError>;
}
