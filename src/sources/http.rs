//! HTTP plumbing both upstream clients share: the [`Gate`] every request passes (a concurrency
//! limit, one time limit, a capped streaming body read), transport errors, `Retry-After`, and
//! tolerant JSON fields.
//!
//! Upstream JSON is not trusted to keep its types: a number may arrive as a string, an array item may be
//! `null`. The `lenient_*` deserializers turn anything unexpected into "absent" instead of failing the
//! whole response, so one odd field costs one value, not the food. The fields that make an answer an
//! answer (a search's result list) are read with [`listed`], which refuses a non-list.

use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::{ConfigError, SourceError, UpstreamLimits};
use crate::food::model::Source;

/// The door to one upstream: at most `max_concurrent_requests` requests at once, each within
/// `timeout` (the wait for a slot included), each answer read chunk by chunk up to `max_body_bytes`.
pub(crate) struct Gate {
    upstream: Source,
    timeout: Duration,
    max_body_bytes: usize,
    max_concurrent: usize,
    slots: Semaphore,
}

/// An answer read whole (and no larger than the cap).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Gate {
    /// Fails when a limit is zero (that would refuse every request).
    pub(crate) fn new(
        upstream: Source,
        timeout: Duration,
        limits: &UpstreamLimits,
    ) -> Result<Gate, ConfigError> {
        let positive = |n: usize, key| {
            if n == 0 {
                Err(ConfigError {
                    setting: key,
                    reason: "must be at least 1",
                })
            } else {
                Ok(n)
            }
        };
        let (bytes_key, slots_key) = match upstream {
            Source::Usda => ("usda.max_body_bytes", "usda.max_concurrent_requests"),
            Source::Openfoodfacts | Source::Custom => (
                "openfoodfacts.max_body_bytes",
                "openfoodfacts.max_concurrent_requests",
            ),
        };
        let max_concurrent = positive(limits.max_concurrent_requests, slots_key)?;
        Ok(Gate {
            upstream,
            timeout,
            max_body_bytes: positive(limits.max_body_bytes, bytes_key)?,
            max_concurrent,
            slots: Semaphore::new(max_concurrent),
        })
    }

    /// Sends a request that expects JSON and reads its answer. A transport failure, a timeout or a
    /// full set of slots is [`SourceError::Unavailable`]; a body over the cap is
    /// [`SourceError::InvalidResponse`], and reading stops there (an endless body ends at the cap,
    /// not at the timeout). The status lands on the current (upstream.fetch) span.
    pub(crate) async fn exchange(&self, request: RequestBuilder) -> Result<Answer, SourceError> {
        let started = tokio::time::Instant::now();
        // Held until the body is read: the slot is the connection's, not just the headers'.
        let _slot = match tokio::time::timeout(self.timeout, self.slots.acquire()).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) | Err(_) => {
                return Err(SourceError::Unavailable {
                    upstream: self.upstream,
                    reason: format!(
                        "all {} request slots stayed busy for {}",
                        self.max_concurrent,
                        humantime::format_duration(self.timeout)
                    ),
                });
            }
        };
        let remaining = self.timeout.saturating_sub(started.elapsed());
        let mut response = request
            .header(ACCEPT, "application/json")
            .timeout(remaining)
            .send()
            .await
            .map_err(|err| self.transport_error(err))?;
        let status = response.status();
        tracing_opentelemetry::OpenTelemetrySpanExt::set_attribute(
            &tracing::Span::current(),
            "http.response.status_code",
            i64::from(status.as_u16()),
        );
        if let Some(length) = response.content_length()
            && length > self.max_body_bytes as u64
        {
            return Err(self.too_large(format!("announced {length} bytes")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| self.transport_error(err))?
        {
            if body.len() + chunk.len() > self.max_body_bytes {
                // Dropping the response closes the connection: nothing more is read.
                return Err(
                    self.too_large(format!("stopped after {} bytes", body.len() + chunk.len()))
                );
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers: response.headers().clone(),
            body,
        })
    }

    fn too_large(&self, detail: String) -> SourceError {
        SourceError::InvalidResponse {
            upstream: self.upstream,
            reason: format!(
                "the answer is larger than the {}-byte limit ({detail})",
                self.max_body_bytes
            ),
        }
    }

    fn transport_error(&self, err: reqwest::Error) -> SourceError {
        transport_error(self.upstream, err, self.timeout)
    }
}

/// Maps a failed `send()`/body read to [`SourceError::Unavailable`]. The reason is composed here rather
/// than taken from `reqwest::Error`'s text, which includes the request URL.
fn transport_error(upstream: Source, err: reqwest::Error, timeout: Duration) -> SourceError {
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

/// How long a `Retry-After` header asks to wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3);
/// a date in the past is no wait.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, SystemTime::now())
}

fn retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses a 2xx body, mapping anything but the expected JSON to [`SourceError::InvalidResponse`]
/// with a reason a person can read (an HTML page, an empty body, the wrong shape).
pub(crate) fn parse_json<T: DeserializeOwned>(
    upstream: Source,
    body: &[u8],
) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|err| {
        let start = body.iter().find(|b| !b.is_ascii_whitespace());
        let reason = match start {
            None => "the body is empty".to_string(),
            Some(b'<') => "an HTML page instead of JSON".to_string(),
            Some(_) if err.is_syntax() || err.is_eof() => format!("malformed JSON ({err})"),
            Some(_) => format!("JSON of the wrong shape ({err})"),
        };
        SourceError::InvalidResponse { upstream, reason }
    })
}

/// A list field that must be a list: a non-list fails the answer (`{"foods": "x"}` is not "no
/// foods"), while items that do not fit `T` are dropped.
pub(crate) fn listed<'de, D, T>(de: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(de)? {
        Value::Array(items) => Ok(items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect()),
        other => Err(serde::de::Error::custom(format!(
            "expected a list, found {}",
            json_kind(&other)
        ))),
    }
}

/// An object field that may be absent or `null` (`None`) but, when present, must be an object.
pub(crate) fn object_or_null<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(de)? {
        Value::Null => Ok(None),
        value @ Value::Object(_) => serde_json::from_value(value)
            .map(Some)
            .map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!(
            "expected an object, found {}",
            json_kind(&other)
        ))),
    }
}

/// Search results: each item that fits `T` and that `convert` accepts. A non-empty list none of
/// whose items is usable is a broken answer, not "no results".
pub(crate) fn usable_results<T: DeserializeOwned, R>(
    upstream: Source,
    items: Vec<Value>,
    convert: impl FnMut(T) -> Option<R>,
) -> Result<Vec<R>, SourceError> {
    let total = items.len();
    let results: Vec<R> = items
        .into_iter()
        .filter_map(|item| serde_json::from_value(item).ok())
        .filter_map(convert)
        .collect();
    if total > 0 && results.is_empty() {
        return Err(SourceError::InvalidResponse {
            upstream,
            reason: format!("none of the {total} search results is a usable food"),
        });
    }
    Ok(results)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
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
    fn bad_bodies_get_reasons_a_person_can_read() {
        #[derive(Debug, Deserialize)]
        struct Listing {
            #[serde(deserialize_with = "listed")]
            #[allow(dead_code, reason = "only its parsing is tested")]
            foods: Vec<Value>,
        }
        let reason = |body: &[u8]| match parse_json::<Listing>(Source::Usda, body) {
            Err(SourceError::InvalidResponse { reason, .. }) => reason,
            other => panic!("expected an invalid response, got {other:?}"),
        };
        assert_eq!(reason(b"  "), "the body is empty");
        assert_eq!(
            reason(b"<!DOCTYPE html><h1>Maintenance</h1>"),
            "an HTML page instead of JSON"
        );
        assert!(reason(b"{\"foods\": [").starts_with("malformed JSON"));
        let shape = reason(br#"{"foods": "x"}"#);
        assert!(
            shape.starts_with("JSON of the wrong shape (expected a list, found a string"),
            "{shape}"
        );
        assert!(parse_json::<Listing>(Source::Usda, br#"{"foods": [1, {}]}"#).is_ok());
    }

    #[test]
    fn amounts_format_without_trailing_zeros() {
        assert_eq!(format_amount(1.0), "1");
        assert_eq!(format_amount(0.5), "0.5");
        assert_eq!(format_amount(2.0 / 3.0), "0.667");
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(30)));
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:29:30 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_at(&headers, now), Some(Duration::from_secs(90)));
        assert_eq!(
            retry_after_at(&headers, now + Duration::from_secs(600)),
            Some(Duration::ZERO),
            "a date in the past"
        );
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
        assert_eq!(
            ceil_secs(Duration::from_millis(1200)),
            Duration::from_secs(2)
        );
    }
}
