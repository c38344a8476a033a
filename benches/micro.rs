//! Criterion micro-benchmarks of hot paths: a bearer token verified through the `TokenStore`
//! actor (real actor, SQLite on a temp file), unit resolution and scaling of a real SR Legacy
//! food, search ranking over a realistic candidate list, and the `FoodCache` actor (real, on
//! SQLite) answering a cached food and listing saved foods for a search.
//!
//! `cargo bench --bench micro` (about a minute). Set `FOOD_MCP_USDA_DATA` to the usda-sr-legacy
//! folder to rank candidates taken from SR Legacy's `food.csv`; without it a built-in list of SR
//! descriptions is ranked. Loopback only: the USDA API is a wiremock serving the fixture.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use food_mcp::actors::food_cache::{self, FoodCache, FoodCacheHandle};
use food_mcp::actors::supervisor::Supervision;
use food_mcp::actors::token_store::{self, TokenStore, TokenStoreHandle};
use food_mcp::auth::token::{FamilyId, Grant};
use food_mcp::clock::Clock;
use food_mcp::config::Config;
use food_mcp::food::diary::Measure;
use food_mcp::food::model::{Food, FoodSummary, Source};
use food_mcp::food::search;
use food_mcp::food::units::{self, Unit};
use food_mcp::sources::FoodSource;
use food_mcp::sources::usda::UsdaClient;
use food_mcp::storage::{self, foods::SqliteFoodRepo, oauth::OAuthStore};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Short windows keep the whole run near a minute; criterion still reports its spread.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// (a) What every `/mcp` request pays before the tool runs: one `Verify` round-trip.
fn token_verify(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("a temp dir");
    let (tokens, access, _supervision) = rt.block_on(async {
        let pool = storage::open(&dir.path().join("bench.db"))
            .await
            .expect("the database");
        let auth = Config::defaults().auth;
        let args = token_store::Arguments {
            repo: std::sync::Arc::new(OAuthStore::new(pool)),
            clock: Clock::system(),
            config: token_store::TokenConfig {
                access_ttl: auth.access_token_ttl,
                refresh_ttl: auth.refresh_token_ttl,
                refresh_grace: auth.refresh_grace,
                sweep_interval: auth.sweep_interval,
            },
        };
        let mut supervision = Supervision::start().await.expect("the supervisor");
        let actor = supervision
            .supervise(TokenStore, move || args.clone(), Duration::from_secs(10))
            .await
            .expect("the token store");
        let tokens = TokenStoreHandle::new(actor);
        let issued = tokens
            .issue(Grant {
                client_id: "bench-client".into(),
                scopes: vec!["food:read".into()],
                resource: "http://127.0.0.1/mcp".into(),
                family: FamilyId::generate().expect("entropy"),
            })
            .await
            .expect("a token");
        (tokens, issued.access_token, supervision)
    });
    let (tokens, access) = (&tokens, &access);
    c.bench_function("token_store/verify_live_token", |b| {
        b.to_async(&rt)
            .iter(move || async move { tokens.verify(access).await.expect("the token is live") })
    });
}

/// A loopback USDA API serving SR Legacy banana 173944, and a real client of it.
async fn usda_mock() -> (MockServer, UsdaClient) {
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/usda/food-173944-sr-legacy-banana.json"
    ))
    .expect("the fixture");
    let usda = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/food/173944"))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture))
        .mount(&usda)
        .await;
    let mut config = Config::defaults().usda;
    config.base_url = usda.uri().parse().expect("the mock's URL");
    let client = UsdaClient::new(&config, reqwest::Client::new()).expect("the client");
    (usda, client)
}

/// SR Legacy banana 173944, through the real USDA client normalisation (portions included).
fn banana(rt: &tokio::runtime::Runtime) -> Food {
    rt.block_on(async {
        let (_usda, client) = usda_mock().await;
        client.fetch_food("173944").await.expect("the banana")
    })
}

/// (b) Unit resolution + scaling, the arithmetic of every get_nutrition and meal item.
fn units_and_scaling(c: &mut Criterion) {
    let food = banana(&runtime());
    assert!(!food.portions.is_empty(), "the banana has portions");
    let mut group = c.benchmark_group("units");
    for (label, amount, unit) in [
        ("1 cup", 1.0, Unit::Cup),
        ("150 g", 150.0, Unit::G),
        ("2 medium", 2.0, Unit::Medium),
    ] {
        group.bench_function(format!("resolve_and_scale/{label}"), |b| {
            b.iter(|| {
                let quantity = units::resolve(&food, amount, unit).expect("resolvable");
                units::scale(&food, &quantity)
            })
        });
    }
    group.bench_function("measure_of/2 medium", |b| {
        b.iter(|| Measure::of(&food, 2.0, Unit::Medium).expect("resolvable"))
    });
    group.finish();
}

/// Descriptions from SR Legacy's food.csv that contain a word of the query (what the catalog's
/// full-text search hands to ranking, at most its 100 candidates), or a built-in list of SR
/// descriptions when the data is not there.
fn candidates(query: &str) -> (Vec<FoodSummary>, &'static str) {
    let summary = |id: usize, name: &str| FoodSummary {
        id: id.to_string(),
        source: Source::Usda,
        name: name.to_string(),
        brand: None,
        category: None,
        data_type: Some("SR Legacy".into()),
        calories_per_100g: None,
        analysis: Default::default(),
        household_measures: 0,
    };
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let (names, origin): (Vec<String>, _) = match sr_food_csv() {
        Some(csv) => {
            let mut reader = csv::Reader::from_path(csv).expect("food.csv");
            let names = reader
                .records()
                .map(|record| record.expect("a food.csv row")[2].to_string())
                .filter(|name| {
                    let lower = name.to_lowercase();
                    words.iter().any(|w| lower.contains(w.as_str()))
                })
                .take(100)
                .collect();
            (names, "sr")
        }
        None => (BUILT_IN.iter().map(|n| n.to_string()).collect(), "built-in"),
    };
    let list = names
        .iter()
        .enumerate()
        .map(|(i, n)| summary(i, n))
        .collect();
    (list, origin)
}

fn sr_food_csv() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("FOOD_MCP_USDA_DATA")?);
    let csv = dir.join("sr_legacy/food.csv");
    csv.is_file().then_some(csv)
}

const BUILT_IN: &[&str] = &[
    "Bananas, raw",
    "Bananas, dehydrated, or banana powder",
    "Bananas, ripe and slightly ripe, raw",
    "Bananas, overripe, raw",
    "Plantains, green, raw",
    "Banana chips",
    "Babyfood, fruit, bananas with tapioca, strained",
    "Babyfood, fruit, bananas and pineapple with tapioca, junior",
    "Milk, whole, 3.25% milkfat, with added vitamin D",
    "Milk, reduced fat, fluid, 2% milkfat, with added vitamin A and vitamin D",
    "Milk, lowfat, fluid, 1% milkfat, with added vitamin A and vitamin D",
    "Milk, nonfat, fluid, with added vitamin A and vitamin D (fat free or skim)",
    "Milk, buttermilk, fluid, cultured, lowfat",
    "Milk, chocolate, fluid, commercial, whole, with added vitamin A and vitamin D",
    "Milk, canned, evaporated, with added vitamin D and without added vitamin A",
    "Milk, dry, whole, with added vitamin D",
    "Beverages, almond milk, unsweetened, shelf stable",
    "Soymilk, original and vanilla, unfortified",
    "Cheese, cheddar",
    "Yogurt, plain, whole milk",
    "Bread, banana, prepared from recipe, made with margarine",
    "Ice creams, vanilla",
    "Puddings, banana, dry mix, instant",
    "Milk shakes, thick chocolate",
];

/// (c) Ranking, which every search_food runs over the merged candidates of its sources.
fn ranking(c: &mut Criterion) {
    let mut group = c.benchmark_group("search");
    for query in ["banana", "whole milk"] {
        let (list, origin) = candidates(query);
        group.bench_function(format!("rank/{query}/{} {origin}", list.len()), |b| {
            b.iter_batched(
                || list.clone(),
                |list| search::rank(query, list),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// How many saved foods the saved-food search bench holds.
const SAVED_FOODS: usize = 50;

/// (d) The food cache: a cached USDA food (get_nutrition of a food the catalog lacks) and the
/// saved foods a search_food scores (the "custom" source of every search).
fn food_cache(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("a temp dir");
    let (cache, _usda, _supervision) = rt.block_on(async {
        let pool = storage::open(&dir.path().join("bench.db"))
            .await
            .expect("the database");
        let (usda, client) = usda_mock().await;
        let args = food_cache::Arguments {
            repo: std::sync::Arc::new(SqliteFoodRepo::new(pool)),
            upstreams: vec![std::sync::Arc::new(client) as std::sync::Arc<dyn FoodSource>],
            ttl: Config::defaults().cache,
            clock: Clock::system(),
        };
        let mut supervision = Supervision::start().await.expect("the supervisor");
        let actor = supervision
            .supervise(FoodCache, move || args.clone(), Duration::from_secs(10))
            .await
            .expect("the food cache");
        let cache = FoodCacheHandle::new(actor, Duration::from_secs(10));
        let banana = cache.food(Source::Usda, "173944").await.expect("fetched");
        for i in 0..SAVED_FOODS {
            let mut food = banana.value.clone();
            food.id = format!("custom:saved-{i}");
            food.source = Source::Custom;
            food.name = format!("{} {i}", BUILT_IN[i % BUILT_IN.len()]);
            cache.save_custom(food).await.expect("saved");
        }
        (cache, usda, supervision)
    });
    let cache = &cache;
    let mut group = c.benchmark_group("food_cache");
    group.bench_function("cached_usda_food", |b| {
        b.to_async(&rt)
            .iter(move || async move { cache.food(Source::Usda, "173944").await.expect("cached") })
    });
    group.bench_function(format!("saved_food_search/{SAVED_FOODS} saved"), |b| {
        b.to_async(&rt).iter(move || async move {
            let saved = cache.custom_foods().await.expect("listed");
            // What search_food does with them (tools::food, MIN_CUSTOM_MATCH).
            saved
                .iter()
                .filter(|c| search::match_score("banana", &c.food.name, None) >= 0.3)
                .count()
        })
    });
    group.finish();
}

criterion_group! {
    name = micro;
    config = config();
    targets = token_verify, units_and_scaling, ranking, food_cache
}
criterion_main!(micro);
