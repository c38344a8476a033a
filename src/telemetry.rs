//! Traces, logs and metrics: the tracing subscriber (human or JSON log lines, each with its trace
//! id, secrets redacted), OpenTelemetry export over OTLP/HTTP configured by the standard `OTEL_*`
//! variables, the HTTP request span and the Prometheus recorder behind `GET /metrics`.

use std::{
    borrow::Cow,
    io,
    sync::OnceLock,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::{TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_http::{Bytes, HttpClient, HttpError};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use serde::Deserialize;
use tracing::{Dispatch, Instrument, Level, Subscriber, field::Empty};
use tracing_subscriber::{
    EnvFilter, Layer, Registry,
    filter::filter_fn,
    fmt::{
        FmtContext, FormatEvent, FormatFields, MakeWriter,
        format::{self, Writer},
    },
    layer::SubscriberExt,
    registry::LookupSpan,
};

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_LOG_FILTER: &str = "food_mcp=info";

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// Nowhere: spans still get trace ids (log lines carry them), nothing leaves the process.
    Off,
    /// OTLP/HTTP (protobuf) to the endpoint the `OTEL_EXPORTER_OTLP_*` variables name.
    FromEnv,
    /// OTLP/HTTP to this full URL (`…/v1/traces`); tests use it.
    To(String),
}

impl Export {
    /// Export is on when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is
    /// set, unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
    pub fn from_env() -> Export {
        let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
        let is = |name: &str, value: &str| {
            std::env::var(name).is_ok_and(|v| v.trim().eq_ignore_ascii_case(value))
        };
        if is("OTEL_SDK_DISABLED", "true") || is("OTEL_TRACES_EXPORTER", "none") {
            return Export::Off;
        }
        if set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            Export::FromEnv
        } else {
            Export::Off
        }
    }
}

/// Everything the subscriber needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub format: LogFormat,
    /// An `EnvFilter` directive for log lines (spans sent to OpenTelemetry are not limited by it).
    pub log_filter: String,
    pub export: Export,
    /// Colour codes in text lines: only for a person at a terminal (see [`Settings::from_env`]).
    pub ansi: bool,
}

impl Settings {
    /// `RUST_LOG` (or [`DEFAULT_LOG_FILTER`]), the `OTEL_*` variables, and colours when stderr
    /// is a terminal and `NO_COLOR` is not set.
    pub fn from_env(format: LogFormat) -> Settings {
        Settings {
            format,
            log_filter: std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_LOG_FILTER.into()),
            export: Export::from_env(),
            ansi: colours(
                io::IsTerminal::is_terminal(&io::stderr()),
                std::env::var_os("NO_COLOR").as_deref(),
            ),
        }
    }
}

/// Colour codes only reach a terminal (a file or `docker logs` would keep them as garbage), and
/// never when `NO_COLOR` is set to anything but the empty string (<https://no-color.org>).
fn colours(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|value| value.is_empty())
}

/// Keeps the tracer provider alive; [`Telemetry::shutdown`] flushes what is still batched.
#[must_use = "dropping the guard without shutdown loses the last batch of spans"]
pub struct Telemetry {
    provider: SdkTracerProvider,
    exporting: bool,
}

impl Telemetry {
    /// Whether spans leave the process.
    pub fn exporting(&self) -> bool {
        self.exporting
    }

    /// Exports every finished span now. The SDK blocks while it waits, so it runs on the
    /// blocking pool, leaving the runtime free to run the export itself.
    pub async fn flush(&self) {
        let provider = self.provider.clone();
        let _ = tokio::task::spawn_blocking(move || provider.force_flush()).await;
    }

    /// Flushes and stops the exporter (at most a few seconds).
    pub async fn shutdown(self) {
        let provider = self.provider;
        let _ = tokio::task::spawn_blocking(move || {
            provider.shutdown_with_timeout(Duration::from_secs(5))
        })
        .await;
    }
}

/// Installs the subscriber process-wide (the binary). Tests build theirs with [`subscriber`].
pub fn init(settings: &Settings) -> anyhow::Result<Telemetry> {
    let (dispatch, telemetry) = subscriber(settings, io::stderr)?;
    tracing::dispatcher::set_global_default(dispatch)
        .context("a tracing subscriber is already installed")?;
    Ok(telemetry)
}

/// The layered subscriber: OpenTelemetry (every `food_mcp` span; events at info and above) and
/// log lines (text or JSON, filtered by `log_filter`, redacted)
/// written to `writer`. Must be built inside a tokio runtime when exporting. A `Dispatch`, not a
/// boxed subscriber: building it tells the layers their dispatcher.
pub fn subscriber<W>(settings: &Settings, writer: W) -> anyhow::Result<(Dispatch, Telemetry)>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let (provider, exporting) = tracer_provider(&settings.export)?;
    let tracer = provider.tracer("food-mcp");
    // No per-span thread ids, source locations or busy/idle split: nothing reads them, and each
    // costs attributes or clock reads on every span enter and exit (the layer was ≈ 12 % of a
    // get_nutrition call; BENCHMARKS.md).
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_level(true)
        .with_threads(false)
        .with_location(false)
        .with_tracked_inactivity(false)
        .with_filter(filter_fn(|meta| {
            meta.target().starts_with("food_mcp")
                && (meta.is_span() || *meta.level() <= Level::INFO)
        }));
    let log_filter = EnvFilter::try_new(&settings.log_filter)
        .with_context(|| format!("invalid log filter {:?}", settings.log_filter))?;
    let writer = Redacting(writer);
    let logs = match settings.format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .event_format(WithTraceId {
                inner: format::Format::default(),
                json: false,
            })
            .with_ansi(settings.ansi)
            .with_writer(writer)
            .with_filter(log_filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .event_format(WithTraceId {
                inner: format::Format::default().json().with_current_span(true),
                json: true,
            })
            .fmt_fields(format::JsonFields::new())
            .with_ansi(settings.ansi)
            .with_writer(writer)
            .with_filter(log_filter)
            .boxed(),
    };
    let subscriber = Registry::default().with(otel).with(logs);
    Ok((
        Dispatch::new(subscriber),
        Telemetry {
            provider,
            exporting,
        },
    ))
}

fn tracer_provider(export: &Export) -> anyhow::Result<(SdkTracerProvider, bool)> {
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the resource builder; the
    // name falls back to ours rather than `unknown_service`.
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("food-mcp");
    }
    let resource = resource
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    // The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default: parent-based
    // always-on); the batch size and delay from OTEL_BSP_*.
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let endpoint = match export {
        Export::Off => return Ok((builder.build(), false)),
        Export::FromEnv => None,
        Export::To(url) => Some(url.clone()),
    };
    let client = OtlpHttpClient::new()?;
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_http_client(client);
    if let Some(url) = endpoint {
        exporter = exporter.with_endpoint(url);
    }
    let exporter = exporter
        .build()
        .context("building the OTLP span exporter")?;
    Ok((builder.with_batch_exporter(exporter).build(), true))
}

/// Sends OTLP requests with the crate's own reqwest client on the tokio runtime. The SDK's batch
/// processor runs on its own thread and awaits the spawned request there, so the export never
/// blocks a runtime worker and needs no blocking client.
#[derive(Debug, Clone)]
struct OtlpHttpClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl OtlpHttpClient {
    fn new() -> anyhow::Result<OtlpHttpClient> {
        let runtime =
            tokio::runtime::Handle::try_current().context("OTLP export needs a tokio runtime")?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the OTLP HTTP client")?;
        Ok(OtlpHttpClient { client, runtime })
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpHttpClient {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let answer = self
            .runtime
            .spawn(async move {
                let response = client.execute(request).await?;
                let status = response.status();
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
            .await??;
        Ok(http::Response::builder().status(answer.0).body(answer.1)?)
    }
}

/// Prefixes a log line with the trace id of the span it was written in (`trace_id=…` for text,
/// a `"trace_id"` member for JSON).
struct WithTraceId<F> {
    inner: F,
    json: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithTraceId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        // The OpenTelemetry layer activates a span's context when the span is entered, so the
        // thread's current context is the one of the span this event is written in.
        let trace_id = opentelemetry::Context::current()
            .span()
            .span_context()
            .trace_id();
        let trace_id = (trace_id != TraceId::INVALID).then_some(trace_id);
        if !self.json {
            if let Some(id) = trace_id {
                write!(writer, "trace_id={id} ")?;
            }
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        match (trace_id, line.strip_prefix('{')) {
            (Some(id), Some(rest)) => write!(writer, "{{\"trace_id\":\"{id}\",{rest}"),
            _ => writer.write_str(&line),
        }
    }
}

/// Parameter names whose values never reach a log line.
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "token",
    "code",
    "code_verifier",
    "client_secret",
    "password",
    "api_key",
    "authorization",
];

/// Replaces the value of every `name=value` / `name: value` / `"name":"value"` whose name is a
/// secret's (see [`SECRET_NAMES`]) with `<redacted>`. Defense in depth: secrets are `Secret`s
/// with a redacted `Debug` and never logged on purpose; this catches a URL or form in an error.
pub fn redact(line: &str) -> Cow<'_, str> {
    // Byte positions compared are ASCII (names, separators), so every slice is at a char boundary.
    let bytes = line.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // A name after `::` is a module path's last segment (a log line's target,
        // `food_mcp::oauth::token:`), never a parameter: its `:` ends the target.
        let word_start = i == 0
            || (!is_word(bytes[i - 1]) && !bytes[..i].ends_with(b"::"))
            || after_colour_code(bytes, i);
        let Some(name) = word_start
            .then(|| {
                SECRET_NAMES.iter().find(|name| {
                    bytes[i..].starts_with(name.as_bytes())
                        && !bytes.get(i + name.len()).copied().is_some_and(is_word)
                })
            })
            .flatten()
        else {
            i += 1;
            continue;
        };
        let mut j = i + name.len();
        // The separator: `=`, `:`, `":"`, `": "`, `" = "`…
        let mut saw_separator = false;
        while j < bytes.len() {
            match bytes[j] {
                b'=' | b':' => saw_separator = true,
                b'"' | b' ' | b'\\' => {}
                // Colour codes (`ESC [ … m`) the text format puts between a name and its value.
                0x1b => {
                    while j < bytes.len() && bytes[j] != b'm' {
                        j += 1;
                    }
                }
                _ => break,
            }
            j += 1;
        }
        if !saw_separator {
            i += name.len();
            continue;
        }
        // "Bearer <token>" after an authorization name.
        if bytes[j..].starts_with(b"Bearer ") {
            j += "Bearer ".len();
        }
        let value_end = line[j..]
            .find(['&', '"', ' ', ',', '}', '\n', '\\', '\''])
            .map_or(line.len(), |n| j + n);
        if value_end > j {
            let out = out.get_or_insert_with(|| String::with_capacity(line.len()));
            out.push_str(&line[copied..j]);
            out.push_str("<redacted>");
            copied = value_end;
        }
        i = value_end.max(i + 1);
    }
    match out {
        None => Cow::Borrowed(line),
        Some(mut out) => {
            out.push_str(&line[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Whether `bytes[..i]` ends with a colour code, `ESC [ digits;… m`.
fn after_colour_code(bytes: &[u8], i: usize) -> bool {
    if i < 3 || bytes[i - 1] != b'm' {
        return false;
    }
    let mut k = i - 1;
    while k > 0 && (bytes[k - 1].is_ascii_digit() || bytes[k - 1] == b';') {
        k -= 1;
    }
    k >= 2 && bytes[k - 1] == b'[' && bytes[k - 2] == 0x1b
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

/// A `MakeWriter` whose lines pass through [`redact`].
struct Redacting<W>(W);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Redacting<W> {
    type Writer = RedactingWriter<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

struct RedactingWriter<W>(W);

impl<W: io::Write> io::Write for RedactingWriter<W> {
    // The fmt layer writes each event with one `write_all` of the whole formatted line.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The span of one HTTP request; handlers that run in tasks of their own (rmcp's) find it in
/// the request's extensions and open their spans under it.
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// Middleware: one `http.request` span per request (method, route, status — never the query
/// string or headers), the request metrics, and one log line when it finishes.
pub async fn track_http(mut request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = Empty,
        otel.status_code = Empty,
    );
    request.extensions_mut().insert(RequestSpan(span.clone()));
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "{method} {route} answered"
        )
    });
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2]).record(elapsed);
    response
}

/// The process's Prometheus recorder, installed once; every `App` renders from it.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ])
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder (a test's) may already be installed; ours then stays empty.
            let _ = metrics::set_global_recorder(recorder);
            describe_metrics();
            handle
        })
        .clone()
}

fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests by method, route and status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method and route"
    );
    describe_counter!("mcp_tool_calls_total", "MCP tool calls by tool and outcome");
    describe_histogram!(
        "mcp_tool_call_duration_seconds",
        Unit::Seconds,
        "MCP tool call latency by tool"
    );
    describe_gauge!(
        "actor_mailbox_depth",
        "Messages waiting in each actor's mailbox"
    );
    describe_histogram!(
        "actor_mailbox_wait_seconds",
        Unit::Seconds,
        "Time a message waited in its actor's mailbox"
    );
    describe_histogram!(
        "actor_message_duration_seconds",
        Unit::Seconds,
        "Time an actor spent handling a message, by actor and message kind"
    );
    describe_counter!(
        "actor_restarts_total",
        "Times the supervisor restarted an actor that stopped, by actor"
    );
    describe_counter!(
        "food_cache_lookups_total",
        "Food cache lookups by outcome: hit, miss, stale, coalesced"
    );
    describe_counter!(
        "upstream_requests_total",
        "Upstream fetches by source and result"
    );
    describe_counter!("upstream_errors_total", "Failed upstream fetches by source");
    describe_gauge!(
        "oauth_active_tokens",
        "Unexpired access and refresh tokens, by kind"
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The text log lines (`food_mcp=debug`, no colours) of the events `f` emits on this thread.
    pub(crate) fn capture(f: impl FnOnce()) -> String {
        capture_with(false, f)
    }

    fn capture_with(ansi: bool, f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl io::Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let settings = Settings {
            format: LogFormat::Text,
            log_filter: "food_mcp=debug".into(),
            export: Export::Off,
            ansi,
        };
        let (dispatch, _telemetry) = subscriber(&settings, move || writer.clone()).unwrap();
        tracing::dispatcher::with_default(&dispatch, f);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn redacts_secret_parameters_and_nothing_else() {
        let cases = [
            (
                "GET /cb?code=abc123&state=s1",
                "GET /cb?code=<redacted>&state=s1",
            ),
            (
                "url=https://api/x?api_key=KEY-1&q=milk",
                "url=https://api/x?api_key=<redacted>&q=milk",
            ),
            (
                r#"{"refresh_token":"r-9","scope":"food:read"}"#,
                r#"{"refresh_token":"<redacted>","scope":"food:read"}"#,
            ),
            (
                "authorization: Bearer tok-1 next",
                "authorization: Bearer <redacted> next",
            ),
            ("password=hunter2", "password=<redacted>"),
            (
                "\x1b[3mcode\x1b[0m\x1b[2m=\x1b[0mabc next",
                "\x1b[3mcode\x1b[0m\x1b[2m=\x1b[0m<redacted> next",
            ),
            (
                "status_code=200 client_id=abc",
                "status_code=200 client_id=abc",
            ),
            ("the code path is fine", "the code path is fine"),
            // A log line's target ending in a secret's name is not a parameter: the message
            // after it stays, with or without colours; a real `token:` after it is still caught.
            (
                "INFO food_mcp::oauth::token: issued tokens client_id=abc",
                "INFO food_mcp::oauth::token: issued tokens client_id=abc",
            ),
            (
                "\x1b[2mfood_mcp::oauth::token\x1b[0m\x1b[2m:\x1b[0m issued tokens",
                "\x1b[2mfood_mcp::oauth::token\x1b[0m\x1b[2m:\x1b[0m issued tokens",
            ),
            (
                "food_mcp::oauth::code: failed token: abc",
                "food_mcp::oauth::code: failed token: <redacted>",
            ),
            // Multi-byte characters anywhere (a byte scan must not split them).
            (
                "took 569µs — code=é1&x=ü",
                "took 569µs — code=<redacted>&x=ü",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(redact(line), expected, "{line}");
        }
    }

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colours(true, None));
        assert!(
            colours(true, Some(OsStr::new(""))),
            "an empty NO_COLOR is unset"
        );
        assert!(!colours(true, Some(OsStr::new("1"))));
        assert!(!colours(false, None));
    }

    /// The text lines written with `ansi: false` carry no escape codes; with `true` they do.
    #[test]
    fn text_lines_have_colour_codes_only_when_asked() {
        for ansi in [false, true] {
            let text = capture_with(ansi, || tracing::info!(status = 200, "answered"));
            assert!(text.contains("answered"), "{text}");
            assert_eq!(text.contains('\x1b'), ansi, "ansi: {ansi}: {text:?}");
        }
    }

    #[test]
    fn export_is_off_without_an_endpoint() {
        // The test process sets no OTEL_* variables.
        if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
            && std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
        {
            assert_eq!(Export::from_env(), Export::Off);
        }
    }
}

#[cfg(test)]
mod redaction_properties {
    use proptest::prelude::*;

    use super::{SECRET_NAMES, redact};

    proptest! {
        #[test]
        fn redaction_never_panics(line in any::<String>()) {
            let _ = redact(&line);
        }

        #[test]
        fn a_secret_after_its_name_never_survives(
            before in "[ -~]{0,40}",
            name in prop::sample::select(SECRET_NAMES.to_vec()),
            separator in prop::sample::select(vec!["=", ": ", "\":\"", ":"]),
            secret in "[A-Za-z0-9_-]{43}",
            after in prop::sample::select(vec!["", "&x=1", "\"", " ", ",\"next\":1"]),
        ) {
            // A name glued to the identifier before it ("xcode=", "x-token=", "mod::token:") is
            // another name, not a secret's.
            let glued = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':');
            let before = if before.ends_with(glued) {
                format!("{before} ")
            } else {
                before
            };
            let line = format!("{before}{name}{separator}{secret}{after}");
            let redacted = redact(&line);
            prop_assert!(!redacted.contains(&secret), "{line:?} -> {redacted:?}");
        }
    }
}
