//! Upstream faults through the real server: capped bodies, answers that fail validation, Retry-After,
//! the circuit breaker, the concurrency limit, and concurrent saves of one food.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use food_mcp::config::Config;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use wiremock::{
    Mock, MockServer, Request, Respond, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{TestApp, assert_close, call, call_ok, fixture, spawn_app_with, text_of};

const BANANA: &str = "usda/food-173944-sr-legacy-banana.json";
/// Small enough that the tests' bodies cross it quickly, far above any real answer.
const CAP: usize = 1024 * 1024;

/// A server whose cached entries are all expired at once (so every lookup asks the upstream and
/// has a copy to fall back on), adjusted further by `adjust`.
async fn spawn_expiring(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(
        tempfile::tempdir().unwrap(),
        MockServer::start().await,
        MockServer::start().await,
        |config| {
            config.cache.usda_ttl = Duration::ZERO;
            config.cache.openfoodfacts_ttl = Duration::ZERO;
            config.cache.search_ttl = Duration::ZERO;
            adjust(config);
        },
    )
    .await
}

fn usda_food(id: &str) -> Value {
    json!({ "foodId": id, "source": "usda", "amount": 100, "unit": "g" })
}

fn json_body(file: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(fixture(file))
}

/// Requests the mock received for `route`.
async fn requests_to(server: &MockServer, route: &str) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests.iter().filter(|r| r.url.path() == route).count()
}

// ---- bodies over the cap ----

/// What [`RawUpstream`] answers next.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Body {
    /// The banana fixture, with its Content-Length.
    Good,
    /// `Transfer-Encoding: chunked` whitespace that never ends.
    Endless,
    /// `Content-Length: 100 MB`, sent in full if the client keeps reading.
    Huge,
    /// A Content-Length of 100 kB, then 1 kB and the connection closed.
    Truncated,
}

const HUNDRED_MB: u64 = 100 * 1024 * 1024;
/// An endless body is stopped here if the client never stops reading, so the test stays bounded.
const WRITER_LIMIT: u64 = 1024 * 1024 * 1024;

/// A loopback upstream speaking just enough HTTP/1.1 to misbehave, counting the body bytes it
/// managed to hand to the socket (what a client that stopped reading lets through is bounded
/// by the cap plus the sockets' buffers).
struct RawUpstream {
    addr: SocketAddr,
    body: Arc<AtomicU8>,
    sent: Arc<AtomicU64>,
}

impl RawUpstream {
    async fn start() -> RawUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = Arc::new(AtomicU8::new(Body::Good as u8));
        let sent = Arc::new(AtomicU64::new(0));
        let (mode, count) = (body.clone(), sent.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_raw(socket, mode.clone(), count.clone()));
            }
        });
        RawUpstream { addr, body, sent }
    }

    fn set(&self, body: Body) {
        self.body.store(body as u8, Ordering::SeqCst);
        self.sent.store(0, Ordering::SeqCst);
    }
}

async fn serve_raw(mut socket: TcpStream, mode: Arc<AtomicU8>, sent: Arc<AtomicU64>) {
    let good = serde_json::to_vec(&fixture(BANANA)).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        // One request head (GETs carry no body), then the answer; keep-alive for the good one.
        head.clear();
        while !head.ends_with(b"\r\n\r\n") {
            match socket.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let body = mode.load(Ordering::SeqCst);
        let (headers, total) = match body {
            b if b == Body::Good as u8 => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    good.len()
                );
                if socket.write_all(head.as_bytes()).await.is_err()
                    || socket.write_all(&good).await.is_err()
                {
                    return;
                }
                continue;
            }
            b if b == Body::Endless as u8 => (
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                    .to_string(),
                WRITER_LIMIT,
            ),
            b if b == Body::Huge as u8 => (
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {HUNDRED_MB}\r\n\r\n"
                ),
                HUNDRED_MB,
            ),
            _ => (
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n"
                    .to_string(),
                1000,
            ),
        };
        if socket.write_all(headers.as_bytes()).await.is_err() {
            return;
        }
        let chunked = body == Body::Endless as u8;
        let piece = vec![b' '; 64 * 1024];
        let mut written = 0u64;
        while written < total {
            let n = piece.len().min((total - written) as usize);
            let result = if chunked {
                let mut framed = format!("{n:x}\r\n").into_bytes();
                framed.extend_from_slice(&piece[..n]);
                framed.extend_from_slice(b"\r\n");
                socket.write_all(&framed).await
            } else {
                socket.write_all(&piece[..n]).await
            };
            if result.is_err() {
                return;
            }
            written += n as u64;
            sent.fetch_add(n as u64, Ordering::SeqCst);
        }
        // Truncated (and a Huge body read to its end): close without finishing.
        return;
    }
}

#[tokio::test]
async fn endless_huge_and_truncated_bodies_stop_early_and_serve_the_copy_stale() {
    let raw = RawUpstream::start().await;
    let app = spawn_expiring(|config| {
        config.usda.base_url = format!("http://{}", raw.addr).parse().unwrap();
        config.usda.limits.max_body_bytes = CAP;
        // Long enough that only the cap can be what stops an endless body in time.
        config.usda.timeout = Duration::from_secs(60);
        config.usda.limits.breaker_failures = 1000;
    })
    .await;
    let client = app.client().await;
    let fresh = call_ok(&client, "get_nutrition", usda_food("173944")).await;
    assert_eq!(fresh["dataFreshness"], "fresh");

    let cases = [
        (
            Body::Endless,
            "larger than the 1048576-byte limit (stopped after",
        ),
        (
            Body::Huge,
            "larger than the 1048576-byte limit (announced 104857600 bytes)",
        ),
        (Body::Truncated, "the response was cut off"),
    ];
    for (body, says) in cases {
        raw.set(body);
        let answer = tokio::time::timeout(
            Duration::from_secs(30),
            call_ok(&client, "get_nutrition", usda_food("173944")),
        )
        .await
        .expect("answered well before the upstream timeout");
        assert_eq!(answer["dataFreshness"], "stale", "{says}");
        assert_close(&answer["nutrients"]["calories"]["value"], 89.0);
        let warnings = answer["warnings"].to_string();
        assert!(warnings.contains(says), "{says}: {warnings}");
        // What got past the client: the cap and the sockets' buffers, not 100 MB or 1 GB.
        let sent = raw.sent.load(Ordering::SeqCst);
        assert!(sent < 32 * 1024 * 1024, "{says}: {sent} bytes sent");

        // No cached copy: a clear error, and nothing cached for next time.
        let failed = call(&client, "get_nutrition", usda_food("171265")).await;
        assert_eq!(failed.is_error, Some(true));
        assert!(text_of(&failed).contains(says), "{}", text_of(&failed));
    }
    raw.set(Body::Good);
    let again = call_ok(&client, "get_nutrition", usda_food("173944")).await;
    assert_eq!(
        again["dataFreshness"], "fresh",
        "the upstream is asked again"
    );
    client.cancel().await.unwrap();
    app.stop().await;
}

// ---- answers that fail validation ----

#[derive(Clone, Copy)]
enum Upstream {
    Usda,
    Off,
}

/// One bad answer and how to ask for it.
struct Case {
    name: &'static str,
    upstream: Upstream,
    route: &'static str,
    tool: &'static str,
    args: Value,
    good: ResponseTemplate,
    bad: ResponseTemplate,
    /// In the error or the stale warning.
    says: &'static str,
    /// Checks the good copy is what came back.
    check: fn(&Value),
}

fn cases() -> Vec<Case> {
    let banana_kcal = |v: &Value| assert_close(&v["nutrients"]["calories"]["value"], 89.0);
    let nutella_kcal = |v: &Value| assert_close(&v["nutrients"]["calories"]["value"], 539.0);
    let bananas = |v: &Value| assert!(v["results"].to_string().contains("Bananas, raw"), "{v}");
    let html = || {
        ResponseTemplate::new(200)
            .set_body_raw("<!DOCTYPE html><h1>Down for maintenance</h1>", "text/html")
    };
    vec![
        Case {
            name: "wrong-shaped search",
            upstream: Upstream::Usda,
            route: "/foods/search",
            tool: "search_food",
            args: json!({ "query": "banana", "source": "usda" }),
            good: json_body("usda/foods-search-banana.json"),
            bad: ResponseTemplate::new(200).set_body_json(json!({ "foods": "x" })),
            says: "JSON of the wrong shape (expected a list, found a string",
            check: bananas,
        },
        Case {
            name: "food with no usable nutrients",
            upstream: Upstream::Usda,
            route: "/food/173944",
            tool: "get_nutrition",
            args: usda_food("173944"),
            good: json_body(BANANA),
            bad: ResponseTemplate::new(200).set_body_json(json!({
                "description": "Bananas, raw",
                "foodNutrients": [{ "nutrient": { "number": "208", "unitName": "kcal" } }]
            })),
            says: "usda has no usable nutrient values for food 173944",
            check: banana_kcal,
        },
        Case {
            name: "HTML with a 200",
            upstream: Upstream::Usda,
            route: "/food/173944",
            tool: "get_nutrition",
            args: usda_food("173944"),
            good: json_body(BANANA),
            bad: html(),
            says: "an HTML page instead of JSON",
            check: banana_kcal,
        },
        Case {
            name: "malformed JSON with a 200",
            upstream: Upstream::Usda,
            route: "/food/173944",
            tool: "get_nutrition",
            args: usda_food("173944"),
            good: json_body(BANANA),
            bad: ResponseTemplate::new(200).set_body_raw("{\"description\": ", "application/json"),
            says: "malformed JSON",
            check: banana_kcal,
        },
        Case {
            name: "Open Food Facts 403",
            upstream: Upstream::Off,
            route: "/api/v2/product/3017620422003.json",
            tool: "get_nutrition",
            args: json!({
                "foodId": "3017620422003", "source": "openfoodfacts", "amount": 100, "unit": "g"
            }),
            good: json_body("openfoodfacts/product-3017620422003-nutella.json"),
            bad: ResponseTemplate::new(403)
                .set_body_raw("<html><h1>403 Forbidden</h1></html>", "text/html"),
            says: "openfoodfacts sent an unexpected response: HTTP 403",
            check: nutella_kcal,
        },
        Case {
            name: "Open Food Facts HTML search",
            upstream: Upstream::Off,
            route: "/cgi/search.pl",
            tool: "search_food",
            args: json!({ "query": "nutella", "source": "openfoodfacts" }),
            good: json_body("openfoodfacts/search-nutella.json"),
            bad: html(),
            says: "an HTML page instead of JSON",
            check: |v| assert!(v["results"].to_string().contains("Nutella"), "{v}"),
        },
    ]
}

#[tokio::test]
async fn bad_answers_are_never_cached_and_a_good_copy_is_kept_and_served_stale() {
    for with_copy in [false, true] {
        for case in cases() {
            let app = spawn_expiring(|config| {
                config.usda.limits.breaker_failures = 1000;
                config.openfoodfacts.limits.breaker_failures = 1000;
                // OFF's own budget (9 searches a minute) would refuse the third search.
                config.openfoodfacts.search_requests_per_minute = 6000;
            })
            .await;
            let server = match case.upstream {
                Upstream::Usda => &app.usda,
                Upstream::Off => &app.off,
            };
            if with_copy {
                Mock::given(path(case.route))
                    .respond_with(case.good.clone())
                    .up_to_n_times(1)
                    .mount(server)
                    .await;
            }
            Mock::given(path(case.route))
                .respond_with(case.bad.clone())
                .mount(server)
                .await;
            let client = app.client().await;
            let name = case.name;
            if with_copy {
                let fresh = call_ok(&client, case.tool, case.args.clone()).await;
                assert_eq!(fresh["dataFreshness"], "fresh", "{name}");
            }
            // Twice: a bad answer cached (or replacing the copy) would show the second time.
            for _ in 0..2 {
                let result = call(&client, case.tool, case.args.clone()).await;
                if with_copy {
                    let answer = result.structured_content.clone().unwrap_or_default();
                    assert_ne!(result.is_error, Some(true), "{name}: {}", text_of(&result));
                    assert_eq!(answer["dataFreshness"], "stale", "{name}");
                    (case.check)(&answer);
                    let warnings = answer["warnings"].to_string();
                    assert!(warnings.contains(case.says), "{name}: {warnings}");
                } else {
                    assert_eq!(result.is_error, Some(true), "{name}");
                    let text = text_of(&result);
                    assert!(text.contains(case.says), "{name}: {text}");
                }
            }
            let asked = requests_to(server, case.route).await;
            assert_eq!(
                asked,
                2 + usize::from(with_copy),
                "{name}: asked every time"
            );
            client.cancel().await.unwrap();
            app.stop().await;
        }
    }
}

// ---- back-off ----

#[tokio::test]
async fn retry_after_in_seconds_or_as_a_date_holds_back_every_lookup() {
    let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
    for retry_after in ["30".to_string(), in_a_minute] {
        let app = spawn_expiring(|_| {}).await;
        Mock::given(method("GET"))
            .and(path("/food/173944"))
            .respond_with(json_body(BANANA))
            .up_to_n_times(1)
            .mount(&app.usda)
            .await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(429).insert_header("Retry-After", retry_after.as_str()),
            )
            .mount(&app.usda)
            .await;
        let client = app.client().await;
        call_ok(&client, "get_nutrition", usda_food("173944")).await;
        for _ in 0..5 {
            let stale = call_ok(&client, "get_nutrition", usda_food("173944")).await;
            assert_eq!(stale["dataFreshness"], "stale");
            assert!(stale["warnings"].to_string().contains("rate limit reached"));
        }
        let uncached = call(&client, "get_nutrition", usda_food("171265")).await;
        assert_eq!(uncached.is_error, Some(true));
        let text = text_of(&uncached);
        assert!(
            text.contains("not being asked for now") && text.contains("next attempt in"),
            "{text}"
        );
        let limited = app.usda.received_requests().await.unwrap().len() - 1;
        assert!(
            limited <= 1,
            "{retry_after}: {limited} requests inside the Retry-After"
        );
        client.cancel().await.unwrap();
        app.stop().await;
    }
}

#[tokio::test]
async fn the_breaker_opens_answers_at_once_and_a_probe_closes_it() {
    let cool_down = Duration::from_millis(300);
    let app = spawn_expiring(|config| {
        config.usda.limits.breaker_failures = 3;
        config.usda.limits.breaker_cool_down = cool_down;
    })
    .await;
    Mock::given(path("/food/173944"))
        .respond_with(json_body(BANANA))
        .up_to_n_times(1)
        .mount(&app.usda)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.usda)
        .await;
    let client = app.client().await;
    call_ok(&client, "get_nutrition", usda_food("173944")).await;
    // Three failures in a row: one with a copy to fall back on, two without.
    let stale = call_ok(&client, "get_nutrition", usda_food("173944")).await;
    assert!(stale["warnings"].to_string().contains("HTTP 500"));
    for id in ["171265", "1105314"] {
        let failed = call(&client, "get_nutrition", usda_food(id)).await;
        assert!(text_of(&failed).contains("usda is unavailable: HTTP 500"));
    }
    let asked = app.usda.received_requests().await.unwrap().len();
    assert_eq!(asked, 4);

    // Open: ten lookups, none reaching the upstream.
    for round in 0..5 {
        let stale = call_ok(&client, "get_nutrition", usda_food("173944")).await;
        assert_eq!(stale["dataFreshness"], "stale");
        let warnings = stale["warnings"].to_string();
        assert!(
            warnings.contains("3 failed requests in a row"),
            "{round}: {warnings}"
        );
        let failed = call(&client, "get_nutrition", usda_food("2117388")).await;
        assert_eq!(failed.is_error, Some(true));
        assert!(
            text_of(&failed).contains("not being asked for now"),
            "{}",
            text_of(&failed)
        );
    }
    assert_eq!(app.usda.received_requests().await.unwrap().len(), asked);

    // The upstream recovers; after the cool-down one probe goes out and closes the breaker.
    app.usda.reset().await;
    Mock::given(method("GET"))
        .respond_with(json_body(BANANA))
        .mount(&app.usda)
        .await;
    tokio::time::sleep(cool_down).await;
    let probe = call_ok(&client, "get_nutrition", usda_food("171265")).await;
    assert_eq!(probe["dataFreshness"], "fresh");
    let after = call_ok(&client, "get_nutrition", usda_food("1105314")).await;
    assert_eq!(after["dataFreshness"], "fresh");
    assert_eq!(app.usda.received_requests().await.unwrap().len(), 2);
    client.cancel().await.unwrap();
    app.stop().await;
}

/// Answers every request after `delay`, recording when each arrived: a request is in flight
/// from its arrival until at least `delay` later, so the arrivals within the last `delay` are
/// a count of the requests in flight at once.
struct InFlight {
    delay: Duration,
    body: Value,
    arrivals: Mutex<Vec<Instant>>,
    most: AtomicUsize,
}

impl Respond for InFlight {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = Instant::now();
        let mut arrivals = self.arrivals.lock().unwrap();
        arrivals.push(now);
        let in_flight = arrivals
            .iter()
            .filter(|at| now.duration_since(**at) < self.delay)
            .count();
        self.most.fetch_max(in_flight, Ordering::SeqCst);
        ResponseTemplate::new(200)
            .set_body_json(self.body.clone())
            .set_delay(self.delay)
    }
}

#[tokio::test]
async fn two_hundred_uncached_foods_at_once_respect_the_concurrency_limit() {
    const LIMIT: usize = 4;
    let app = spawn_expiring(|config| {
        config.usda.limits.max_concurrent_requests = LIMIT;
        // 200 requests, 4 at a time, 50 ms each: the last waits about 2.5 s for its slot.
        config.usda.timeout = Duration::from_secs(30);
    })
    .await;
    let responder = Arc::new(InFlight {
        delay: Duration::from_millis(50),
        body: fixture(BANANA),
        arrivals: Mutex::new(Vec::new()),
        most: AtomicUsize::new(0),
    });
    Mock::given(method("GET"))
        .respond_with(ArcRespond(responder.clone()))
        .mount(&app.usda)
        .await;
    let client = Arc::new(app.client().await);
    let lookups: Vec<_> = (1..=200)
        .map(|id| {
            let client = client.clone();
            tokio::spawn(async move {
                call_ok(&client, "get_nutrition", usda_food(&id.to_string())).await
            })
        })
        .collect();
    for lookup in lookups {
        assert_eq!(lookup.await.unwrap()["dataFreshness"], "fresh");
    }
    assert_eq!(responder.arrivals.lock().unwrap().len(), 200);
    let most = responder.most.load(Ordering::SeqCst);
    assert!(
        (2..=LIMIT).contains(&most),
        "{most} requests in flight at once"
    );
    Arc::into_inner(client).unwrap().cancel().await.unwrap();
    app.stop().await;
}

/// Lets the test keep a handle on a responder wiremock owns.
struct ArcRespond<T>(Arc<T>);

impl<T: Respond> Respond for ArcRespond<T> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

// ---- save_food ----

#[tokio::test]
async fn concurrent_saves_of_one_name_report_exactly_one_creation() {
    let app = spawn_expiring(|_| {}).await;
    let client = Arc::new(app.client().await);
    let saves: Vec<_> = (0..20)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                let food = json!({
                    "name": if n % 2 == 0 { "Granola" } else { "GRANOLA" },
                    "servingSize": { "amount": 50, "unit": "g" },
                    "nutrients": { "calories": 200 + n }
                });
                call_ok(&client, "save_food", food).await
            })
        })
        .collect();
    let mut created = 0;
    for save in saves {
        if save.await.unwrap()["updated"] == false {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    Arc::into_inner(client).unwrap().cancel().await.unwrap();
    app.stop().await;
}
