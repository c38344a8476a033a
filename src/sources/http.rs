//! HTTP plumbing both upstream clients share: transport errors, `Retry-After`, tolerant JSON fields.
//!
//! Upstream JSON is not trusted to keep its types: a number may arrive as a string, an array item may be
//! `null`. The `lenient_*` deserializers turn anything unexpected into "absent" instead of failing the
//! whole response, so one odd field costs one value, not the food.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::Value;

use super::SourceError;
use crate::food::model::Source;

/// Sends a request that expects JSON, within `timeout`; a transport failure becomes
/// [`SourceError::Unavailable`] and the status lands on the current (upstream.fetch) span.
pub(crate) async fn send_json(
    request: RequestBuilder,
    upstream: Source,
    timeout: Duration,
) -> Result<Response, SourceError> {
    let response = request
        .header(ACCEPT, "application/json")
        .timeout(timeout)
        .send()
        .await
        .map_err(|err| transport_error(upstream, err, timeout))?;
    tracing_opentelemetry::OpenTelemetrySpanExt::set_attribute(
        &tracing::Span::current(),
        "http.response.status_code",
        i64::from(response.status().as_u16()),
    );
    Ok(response)
}

/// Maps a failed `send()`/body read to [`SourceError::Unavailable`]. The reason is composed here rather
/// than taken from `reqwest::Error`'s text, which includes the request URL.
pub(crate) fn transport_error(
    upstream: Source,
    err: reqwest::Error,
    timeout: Duration,
) -> SourceError {
    let reason = if err.is_timeout() {
        format!("no answer within {}", humantime::format_duration(timeout))
    } else if err.is_connect() {
        "could not connect".to_string()
    } else if err.is_body() || err.is_decode() {
        "the response was cut off".to_string()
    } else {
        "the request failed".to_string()
    };
    tracing::debug!(%upstream, error = %err.without_url(), "upstream transport error");
    SourceError::Unavailable { upstream, reason }
}

/// Seconds from a `Retry-After` header. The HTTP-date form is ignored (neither upstream sends it).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Parses a 2xx body, mapping malformed JSON to [`SourceError::InvalidResponse`].
pub(crate) fn parse_json<T: DeserializeOwned>(
    upstream: Source,
    body: &[u8],
) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|err| SourceError::InvalidResponse {
        upstream,
        reason: format!("body is not the expected JSON ({err})"),
    })
}

/// A finite, non-negative number from a JSON number or a numeric string; anything else is `None`.
pub(crate) fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

/// Deserializes [`number`] semantics: never fails.
pub(crate) fn lenient_f64<'de, D: Deserializer<'de>>(de: D) -> Result<Option<f64>, D::Error> {
    Ok(number(&Value::deserialize(de)?))
}

/// A trimmed, non-empty string from a JSON string or number (ids are sometimes either); never fails.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(de)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// An array whose items that do not fit `T` are dropped; a non-array is empty. Never fails.
pub(crate) fn lenient_vec<'de, D, T>(de: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(de)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// An object that does not fit `T` becomes `None`. Never fails.
pub(crate) fn lenient_object<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(serde_json::from_value(Value::deserialize(de)?).ok())
}

/// Formats an amount without a needless ".0" ("1", "0.5", "1.25").
pub(crate) fn format_amount(amount: f64) -> String {
    let rounded = (amount * 1000.0).round() / 1000.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}

/// Rounds a wait up to whole seconds, so "retry in 0s" is never shown for a wait under a second.
pub(crate) fn ceil_secs(wait: Duration) -> Duration {
    let extra = u64::from(wait.subsec_nanos() > 0);
    Duration::from_secs(wait.as_secs().saturating_add(extra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_accept_numeric_strings_and_reject_garbage() {
        assert_eq!(number(&json!(1.5)), Some(1.5));
        assert_eq!(number(&json!(" 3.9 ")), Some(3.9));
        for garbage in [
            json!("4,6x"),
            json!(""),
            json!("traces"),
            json!(-1),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(number(&garbage), None, "{garbage}");
        }
    }

    #[test]
    fn amounts_format_without_trailing_zeros() {
        assert_eq!(format_amount(1.0), "1");
        assert_eq!(format_amount(0.5), "0.5");
        assert_eq!(format_amount(2.0 / 3.0), "0.667");
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(30)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
        assert_eq!(
            ceil_secs(Duration::from_millis(1200)),
            Duration::from_secs(2)
        );
    }
}
