//! Open Food Facts API client: one product by barcode and full-text search, normalized to per-100 g foods.
//!
//! OFF asks every client to identify itself and to stay under 100 product reads and 10 searches a
//! minute, so each request carries the configured `User-Agent` and passes a client-side limiter first.
//! OFF's `nutriments` hold user-entered label data: numbers arrive as strings, in grams whatever the
//! nutrient, and sometimes as garbage — [`nutrients`] keeps only values that can be true.

use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderValue, USER_AGENT};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::http::{
    Answer, Gate, ceil_secs, format_amount, lenient_f64, lenient_object, lenient_string, listed,
    number, object_or_null, parse_json, retry_after, usable_results,
};
use super::{ConfigError, FoodSource, SourceError, UpstreamLimits};
use crate::config::OpenFoodFactsConfig;
use crate::food::model::{Basis, Food, FoodSummary, Serving, Source};
use crate::food::nutrients::{NutrientKey, Nutrients};

const UPSTREAM: Source = Source::Openfoodfacts;
/// Asking only for these keeps a product answer a few KB instead of a few hundred.
const PRODUCT_FIELDS: &str = "code,product_name,product_name_en,generic_name,brands,categories,nutriments,\
                              serving_size,serving_quantity,serving_quantity_unit";
const SEARCH_FIELDS: &str =
    "code,product_name,product_name_en,generic_name,brands,categories,nutriments";
const MAX_PAGE_SIZE: usize = 100;
/// A request waits for the local limiter at most this long; beyond it the caller gets `Throttled`
/// (and may serve a cached copy) instead of a tool call that hangs.
const MAX_LIMITER_WAIT: Duration = Duration::from_secs(2);
const KJ_PER_KCAL: f64 = 4.184;
/// Salt is declared as sodium × 2.5 (EU Regulation 1169/2011, Annex I).
const SALT_PER_SODIUM: f64 = 2.5;
/// Pure fat is 900 kcal per 100 g; a little headroom absorbs rounding. Higher is a unit mix-up.
const MAX_KCAL_PER_100G: f64 = 950.0;

/// OFF `{name}_100g` fields, each in grams per 100 g, and the nutrient it carries.
/// Not mapped: `alcohol_100g`, which is % vol, not grams.
const MASS_NUTRIENTS: [(&str, NutrientKey); 30] = [
    ("proteins", NutrientKey::ProteinG),
    ("carbohydrates", NutrientKey::TotalCarbsG),
    ("fat", NutrientKey::TotalFatG),
    ("fiber", NutrientKey::FiberG),
    ("sugars", NutrientKey::SugarsG),
    ("added-sugars", NutrientKey::AddedSugarsG),
    ("saturated-fat", NutrientKey::SaturatedFatG),
    ("monounsaturated-fat", NutrientKey::MonounsaturatedFatG),
    ("polyunsaturated-fat", NutrientKey::PolyunsaturatedFatG),
    ("trans-fat", NutrientKey::TransFatG),
    ("cholesterol", NutrientKey::CholesterolMg),
    ("sodium", NutrientKey::SodiumMg),
    ("potassium", NutrientKey::PotassiumMg),
    ("calcium", NutrientKey::CalciumMg),
    ("iron", NutrientKey::IronMg),
    ("magnesium", NutrientKey::MagnesiumMg),
    ("phosphorus", NutrientKey::PhosphorusMg),
    ("zinc", NutrientKey::ZincMg),
    ("vitamin-a", NutrientKey::VitaminAMcg),
    ("vitamin-c", NutrientKey::VitaminCMg),
    ("vitamin-d", NutrientKey::VitaminDMcg),
    ("vitamin-e", NutrientKey::VitaminEMg),
    ("vitamin-k", NutrientKey::VitaminKMcg),
    ("vitamin-b1", NutrientKey::ThiaminMg),
    ("vitamin-b2", NutrientKey::RiboflavinMg),
    ("vitamin-pp", NutrientKey::NiacinMg),
    ("vitamin-b6", NutrientKey::VitaminB6Mg),
    ("vitamin-b9", NutrientKey::FolateMcg),
    ("vitamin-b12", NutrientKey::VitaminB12Mcg),
    ("caffeine", NutrientKey::CaffeineMg),
];

/// Client for `GET {base}/api/v2/product/{code}.json` and `GET {base}/cgi/search.pl`. Holds the caller's
/// `reqwest::Client` and one rate limiter per endpoint class, so share one instance (behind an `Arc`)
/// for the whole process: two instances would each allow the full rate.
pub struct OpenFoodFactsClient {
    http: reqwest::Client,
    base: String,
    user_agent: HeaderValue,
    limits: UpstreamLimits,
    gate: Gate,
    products: DefaultDirectRateLimiter,
    searches: DefaultDirectRateLimiter,
}

impl OpenFoodFactsClient {
    /// Fails when the User-Agent cannot be a header value or a limit is zero.
    pub fn new(
        config: &OpenFoodFactsConfig,
        http: reqwest::Client,
    ) -> Result<OpenFoodFactsClient, ConfigError> {
        let user_agent = HeaderValue::from_str(config.user_agent.trim())
            .ok()
            .filter(|ua| !ua.is_empty())
            .ok_or(ConfigError {
                setting: "openfoodfacts.user_agent",
                reason: "must be a non-empty, single-line header value",
            })?;
        Ok(OpenFoodFactsClient {
            http,
            base: config.base_url.as_str().trim_end_matches('/').to_string(),
            user_agent,
            limits: config.limits,
            gate: Gate::new(UPSTREAM, config.timeout, &config.limits)?,
            products: limiter(
                config.product_requests_per_minute,
                "openfoodfacts.product_requests_per_minute",
            )?,
            searches: limiter(
                config.search_requests_per_minute,
                "openfoodfacts.search_requests_per_minute",
            )?,
        })
    }

    /// Waits for `limiter`, sends, and returns the 2xx body or the error its status means.
    /// `code` names the product a 404 is about (none for search).
    async fn send(
        &self,
        request: RequestBuilder,
        limiter: &DefaultDirectRateLimiter,
        code: Option<&str>,
    ) -> Result<Vec<u8>, SourceError> {
        acquire(limiter).await?;
        let request = request.header(USER_AGENT, self.user_agent.clone());
        let Answer {
            status,
            headers,
            body,
        } = self.gate.exchange(request).await?;
        if status.is_success() {
            return Ok(body);
        }
        let reason = format!("HTTP {}", status.as_u16());
        Err(match (status, code) {
            (StatusCode::TOO_MANY_REQUESTS, _) => SourceError::RateLimited {
                upstream: UPSTREAM,
                retry_after: retry_after(&headers).map(ceil_secs),
            },
            (StatusCode::NOT_FOUND, Some(code)) => SourceError::NotFound {
                upstream: UPSTREAM,
                id: code.to_string(),
            },
            (status, _) if status.is_server_error() => SourceError::Unavailable {
                upstream: UPSTREAM,
                reason,
            },
            _ => SourceError::InvalidResponse {
                upstream: UPSTREAM,
                reason,
            },
        })
    }
}

#[async_trait]
impl FoodSource for OpenFoodFactsClient {
    fn source(&self) -> Source {
        UPSTREAM
    }

    fn limits(&self) -> UpstreamLimits {
        self.limits
    }

    #[tracing::instrument(name = "openfoodfacts.fetch_food", skip(self))]
    async fn fetch_food(&self, id: &str) -> Result<Food, SourceError> {
        let code = parse_barcode(id)?;
        let request = self
            .http
            .get(format!("{}/api/v2/product/{code}.json", self.base))
            .query(&[("fields", PRODUCT_FIELDS)]);
        let body = self.send(request, &self.products, Some(code)).await?;
        let response: ProductResponse = parse_json(UPSTREAM, &body)?;
        // v2 answers an unknown barcode with 404, older deployments with 200 and `status: 0`.
        let not_found = response.status.as_ref().and_then(number) == Some(0.0);
        let food = match response.product {
            _ if not_found => {
                return Err(SourceError::NotFound {
                    upstream: UPSTREAM,
                    id: code.to_string(),
                });
            }
            Some(product) => food_from_product(code, product),
            None => {
                return Err(SourceError::InvalidResponse {
                    upstream: UPSTREAM,
                    reason: "the answer holds no product".into(),
                });
            }
        };
        // A product without a usable value would answer every nutrient "no data", and replace a
        // good cached copy with that.
        if food.nutrients.is_empty() {
            return Err(SourceError::NoNutrients {
                upstream: UPSTREAM,
                id: code.to_string(),
            });
        }
        Ok(food)
    }

    #[tracing::instrument(name = "openfoodfacts.search", skip(self))]
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<FoodSummary>, SourceError> {
        let query = query.trim();
        if query.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let page_size = limit.min(MAX_PAGE_SIZE).to_string();
        let request = self
            .http
            .get(format!("{}/cgi/search.pl", self.base))
            .query(&[
                ("search_terms", query),
                ("search_simple", "1"),
                ("action", "process"),
                ("json", "1"),
                ("page_size", page_size.as_str()),
                ("fields", SEARCH_FIELDS),
            ]);
        let body = self.send(request, &self.searches, None).await?;
        let mut results = summaries_from_search(parse_json(UPSTREAM, &body)?)?;
        results.truncate(limit);
        Ok(results)
    }
}

/// A limiter allowing `per_minute` requests a minute with bursts of a tenth of that. A burst of the
/// full rate would let up to twice the rate through in one minute window (burst, then the refill);
/// a tenth keeps any window under `per_minute × 1.1`, which the defaults (90 and 9) keep under OFF's
/// published 100 and 10.
fn limiter(
    per_minute: u32,
    setting: &'static str,
) -> Result<DefaultDirectRateLimiter, ConfigError> {
    let rate = NonZeroU32::new(per_minute).ok_or(ConfigError {
        setting,
        reason: "must be at least 1",
    })?;
    let burst = NonZeroU32::new(per_minute / 10).unwrap_or(NonZeroU32::MIN);
    Ok(RateLimiter::direct(
        Quota::per_minute(rate).allow_burst(burst),
    ))
}

/// Takes one request from `limiter`, sleeping when the slot is near; a far slot is `Throttled`.
async fn acquire(limiter: &DefaultDirectRateLimiter) -> Result<(), SourceError> {
    let mut waited = Duration::ZERO;
    loop {
        let wait = match limiter.check() {
            Ok(()) => return Ok(()),
            Err(not_until) => not_until.wait_time_from(limiter.clock().now()),
        };
        if waited + wait > MAX_LIMITER_WAIT {
            tracing::debug!(upstream = %UPSTREAM, ?wait, "client-side rate limit reached");
            return Err(SourceError::Throttled {
                upstream: UPSTREAM,
                retry_after: ceil_secs(wait),
            });
        }
        tokio::time::sleep(wait).await;
        waited += wait;
    }
}

/// Barcodes (EAN-8, UPC-A, EAN-13, GTIN-14) are 8 to 14 digits.
fn parse_barcode(id: &str) -> Result<&str, SourceError> {
    let code = id.trim();
    if (8..=14).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(SourceError::InvalidId(format!(
            "Open Food Facts ids are barcodes of 8 to 14 digits such as 3017620422003, not {:?}",
            code.chars().take(40).collect::<String>()
        )))
    }
}

// ---- response shapes ----

#[derive(Deserialize)]
struct ProductResponse {
    #[serde(default)]
    status: Option<Value>,
    /// Absent when not found; anything but an object is a broken answer.
    #[serde(default, deserialize_with = "object_or_null")]
    product: Option<Product>,
}

/// `products` is required and must be a list: a 200 without it is not a search answer.
#[derive(Deserialize)]
struct SearchResponse {
    #[serde(deserialize_with = "listed")]
    products: Vec<Value>,
}

#[derive(Deserialize)]
struct Product {
    #[serde(default, deserialize_with = "lenient_string")]
    code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    product_name_en: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    generic_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    brands: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    categories: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    nutriments: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "lenient_string")]
    serving_size: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    serving_quantity: Option<f64>,
    #[serde(default, deserialize_with = "lenient_string")]
    serving_quantity_unit: Option<String>,
}

impl Product {
    fn name(&self) -> Option<String> {
        self.product_name
            .clone()
            .or_else(|| self.product_name_en.clone())
            .or_else(|| self.generic_name.clone())
    }

    /// The first of the comma-separated `brands`.
    fn brand(&self) -> Option<String> {
        first_listed(self.brands.as_deref()?.split(','))
    }

    /// The last of the comma-separated `categories`: OFF lists them from broad to specific.
    fn category(&self) -> Option<String> {
        first_listed(self.categories.as_deref()?.rsplit(','))
    }
}

fn first_listed<'a>(mut items: impl Iterator<Item = &'a str>) -> Option<String> {
    items
        .find(|item| !item.trim().is_empty())
        .map(|item| item.trim().to_string())
}

// ---- normalization ----

fn food_from_product(code: &str, product: Product) -> Food {
    let empty = Map::new();
    Food {
        id: code.to_string(),
        source: UPSTREAM,
        name: product
            .name()
            .unwrap_or_else(|| format!("Open Food Facts product {code}")),
        brand: product.brand(),
        category: product.category(),
        data_type: None,
        basis: Basis::Per100g,
        nutrients: nutrients(product.nutriments.as_ref().unwrap_or(&empty)),
        portions: Vec::new(),
        serving: serving(&product),
    }
}

/// Search results without a valid barcode or any name are dropped: nothing could be done with them.
fn summaries_from_search(response: SearchResponse) -> Result<Vec<FoodSummary>, SourceError> {
    usable_results(UPSTREAM, response.products, |product: Product| {
        let id = parse_barcode(product.code.as_deref()?).ok()?.to_string();
        Some(FoodSummary {
            id,
            source: UPSTREAM,
            name: product.name()?,
            brand: product.brand(),
            category: product.category(),
            data_type: None,
            calories_per_100g: product.nutriments.as_ref().and_then(kcal_per_100g),
            analysis: Default::default(),
            household_measures: 0,
        })
    })
}

/// Per-100 g nutrients from `nutriments`. Values that cannot be true (negative, not numbers, more than
/// 100 g per 100 g, more than 950 kcal) are dropped, never clamped. Sodium comes from `sodium_100g`, or
/// from `salt_100g` ÷ 2.5 only when sodium is absent.
fn nutrients(nutriments: &Map<String, Value>) -> Nutrients {
    let grams = |name: &str| {
        nutriments
            .get(&format!("{name}_100g"))
            .and_then(number)
            .filter(|g| *g <= 100.0)
    };
    let mut nutrients = Nutrients::new();
    if let Some(kcal) = kcal_per_100g(nutriments) {
        nutrients.insert(NutrientKey::Calories, kcal);
    }
    for (name, key) in MASS_NUTRIENTS {
        if let Some(g) = grams(name) {
            nutrients.insert(key, g * per_gram(key));
        }
    }
    if !nutrients.contains_key(&NutrientKey::SodiumMg)
        && let Some(salt) = grams("salt")
    {
        nutrients.insert(
            NutrientKey::SodiumMg,
            salt / SALT_PER_SODIUM * per_gram(NutrientKey::SodiumMg),
        );
    }
    nutrients
}

/// `energy-kcal_100g`, else kJ (`energy-kj_100g`, then `energy_100g`, which OFF keeps in kJ) ÷ 4.184.
fn kcal_per_100g(nutriments: &Map<String, Value>) -> Option<f64> {
    let value = |key: &str| nutriments.get(key).and_then(number);
    value("energy-kcal_100g")
        .filter(|kcal| *kcal <= MAX_KCAL_PER_100G)
        .or_else(|| {
            value("energy-kj_100g")
                .or_else(|| value("energy_100g"))
                .map(|kj| kj / KJ_PER_KCAL)
                .filter(|kcal| *kcal <= MAX_KCAL_PER_100G)
        })
}

/// How many of `key`'s unit one gram is.
fn per_gram(key: NutrientKey) -> f64 {
    match key.unit() {
        "mg" => 1e3,
        "mcg" => 1e6,
        _ => 1.0,
    }
}

/// `serving_quantity` with its unit: `serving_quantity_unit` when given; otherwise grams, unless the
/// `serving_size` text names only a volume ("250 ml"), since older products omit the unit.
fn serving(product: &Product) -> Option<Serving> {
    let amount = product.serving_quantity.filter(|q| *q > 0.0)?;
    let text = product.serving_size.as_deref();
    let unit = match product
        .serving_quantity_unit
        .as_deref()
        .map(str::to_lowercase)
    {
        Some(unit) => unit,
        None if text.is_some_and(names_only_volume) => "ml".to_string(),
        None => "g".to_string(),
    };
    Some(Serving {
        amount,
        grams: (unit == "g").then_some(amount),
        description: text.map_or_else(
            || format!("{} {unit}", format_amount(amount)),
            str::to_string,
        ),
        unit,
    })
}

/// Whether a serving text such as "250 ml" or "1 glass (25 cl)" gives a volume and no weight.
fn names_only_volume(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|token| token.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.'))
        .collect();
    let any = |units: &[&str]| words.iter().any(|w| units.contains(w));
    any(&["ml", "cl", "dl", "l"]) && !any(&["g", "gr", "gram", "grams", "kg", "oz"])
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use serde_json::json;
    use wiremock::matchers::{any, header, method, path, query_param};
    use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

    const NUTELLA: &str =
        include_str!("../../tests/fixtures/openfoodfacts/product-3017620422003-nutella.json");
    const YOGURT: &str = include_str!(
        "../../tests/fixtures/openfoodfacts/product-4056489123458-kj-only-yogurt.json"
    );
    const NOT_FOUND: &str =
        include_str!("../../tests/fixtures/openfoodfacts/product-not-found.json");
    const SEARCH: &str = include_str!("../../tests/fixtures/openfoodfacts/search-nutella.json");
    const UA: &str = "food-mcp-tests/0.1 (tests@example.com)";

    fn product(json: &str) -> Product {
        let response: ProductResponse = parse_json(UPSTREAM, json.as_bytes()).unwrap();
        response.product.unwrap()
    }

    fn edited(json: &str, edit: impl FnOnce(&mut Value)) -> String {
        let mut value: Value = serde_json::from_str(json).unwrap();
        edit(&mut value);
        value.to_string()
    }

    fn close(actual: Option<&f64>, expected: f64) {
        let actual = *actual.expect("value present");
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    #[test]
    fn nutella_normalizes_per_100g_with_sodium_in_mg() {
        let food = food_from_product("3017620422003", product(NUTELLA));
        assert_eq!(food.name, "Nutella");
        assert_eq!(
            food.brand.as_deref(),
            Some("Nutella"),
            "first of the brands"
        );
        assert_eq!(
            food.category.as_deref(),
            Some("Cocoa and hazelnuts spreads")
        );
        assert_eq!(food.basis, Basis::Per100g);
        let n = &food.nutrients;
        assert_eq!(n[&NutrientKey::Calories], 539.0);
        assert_eq!(n[&NutrientKey::ProteinG], 6.3);
        assert_eq!(n[&NutrientKey::TotalCarbsG], 57.5);
        assert_eq!(n[&NutrientKey::TotalFatG], 30.9);
        assert_eq!(n[&NutrientKey::SaturatedFatG], 10.6);
        close(n.get(&NutrientKey::SodiumMg), 42.8);
        assert_eq!(
            n.get(&NutrientKey::FiberG),
            None,
            "not declared is not zero"
        );
        let serving = food.serving.unwrap();
        assert_eq!(
            (serving.amount, serving.unit.as_str(), serving.grams),
            (15.0, "g", Some(15.0))
        );
        assert_eq!(serving.description, "15 g");
    }

    #[test]
    fn kj_only_product_converts_energy_and_drops_garbage() {
        let food = food_from_product("4056489123458", product(YOGURT));
        let n = &food.nutrients;
        close(n.get(&NutrientKey::Calories), 301.0 / 4.184);
        assert_eq!(n[&NutrientKey::ProteinG], 3.9, "numeric string");
        assert_eq!(n[&NutrientKey::SaturatedFatG], 2.5);
        close(n.get(&NutrientKey::CalciumMg), 120.0);
        close(n.get(&NutrientKey::SodiumMg), 0.13 / 2.5 * 1000.0);
        for garbage in [
            NutrientKey::TotalCarbsG,   // "4,6x"
            NutrientKey::FiberG,        // ""
            NutrientKey::TransFatG,     // -1
            NutrientKey::IronMg,        // "traces"
            NutrientKey::VitaminCMg,    // 250 g per 100 g
            NutrientKey::CholesterolMg, // null
            NutrientKey::AlcoholG,      // % vol, never mapped
        ] {
            assert_eq!(n.get(&garbage), None, "{garbage:?}");
        }
        let serving = food.serving.unwrap();
        assert_eq!(
            (serving.unit.as_str(), serving.grams),
            ("g", Some(125.0)),
            "no unit means grams"
        );
    }

    #[test]
    fn energy_falls_back_through_kj_fields_and_skips_impossible_kcal() {
        let only_energy = edited(YOGURT, |v| {
            v["product"]["nutriments"]
                .as_object_mut()
                .unwrap()
                .remove("energy-kj_100g");
        });
        let food = food_from_product("4056489123458", product(&only_energy));
        close(food.nutrients.get(&NutrientKey::Calories), 301.0 / 4.184);

        // kJ typed into the kcal field: the kJ value wins.
        let mixed_up = edited(NUTELLA, |v| {
            v["product"]["nutriments"]["energy-kcal_100g"] = json!(2252)
        });
        let food = food_from_product("3017620422003", product(&mixed_up));
        close(food.nutrients.get(&NutrientKey::Calories), 2252.0 / 4.184);

        let none = edited(NUTELLA, |v| {
            v["product"]["nutriments"] = json!({"energy_100g": "lots"})
        });
        let food = food_from_product("3017620422003", product(&none));
        assert_eq!(food.nutrients.get(&NutrientKey::Calories), None);
    }

    #[test]
    fn sodium_wins_over_salt_when_both_are_given() {
        let both = edited(NUTELLA, |v| {
            v["product"]["nutriments"]["salt_100g"] = json!(10)
        });
        let food = food_from_product("3017620422003", product(&both));
        close(food.nutrients.get(&NutrientKey::SodiumMg), 42.8);
    }

    #[test]
    fn servings_keep_volumes_out_of_grams() {
        let ml = edited(YOGURT, |v| {
            v["product"]["serving_size"] = json!("1 glass (25 cl)")
        });
        let serving = food_from_product("4056489123458", product(&ml))
            .serving
            .unwrap();
        assert_eq!((serving.unit.as_str(), serving.grams), ("ml", None));
        assert_eq!(serving.description, "1 glass (25 cl)");

        let declared = edited(YOGURT, |v| {
            v["product"]["serving_quantity_unit"] = json!("mL")
        });
        assert_eq!(
            food_from_product("4056489123458", product(&declared))
                .serving
                .unwrap()
                .grams,
            None
        );

        assert!(names_only_volume("250ml"));
        assert!(!names_only_volume("1 biscuit (13.8 g)"));
        assert!(!names_only_volume("100 ml (103 g)"));
    }

    #[test]
    fn nameless_product_gets_a_name_from_its_barcode() {
        let nameless = edited(NUTELLA, |v| {
            let p = v["product"].as_object_mut().unwrap();
            p.remove("product_name");
            p.remove("product_name_en");
            p.remove("generic_name");
            p.remove("brands");
        });
        let food = food_from_product("3017620422003", product(&nameless));
        assert_eq!(food.name, "Open Food Facts product 3017620422003");
        assert_eq!(food.brand, None);
    }

    #[test]
    fn search_results_become_summaries() {
        let results =
            summaries_from_search(parse_json(UPSTREAM, SEARCH.as_bytes()).unwrap()).unwrap();
        assert_eq!(results.len(), 3, "the nameless product is dropped");
        assert_eq!(results[0].id, "3017620422003");
        assert_eq!(results[0].brand.as_deref(), Some("Nutella"));
        assert_eq!(results[0].calories_per_100g, Some(539.0));
        close(results[1].calories_per_100g.as_ref(), 2255.0 / 4.184);
        assert_eq!(results[1].category.as_deref(), Some("Sweet spreads"));
        assert_eq!(results[2].calories_per_100g, Some(511.0));
        assert!(parse_json::<SearchResponse>(UPSTREAM, b"{\"count\": 0}").is_err());
    }

    #[test]
    fn barcodes_are_8_to_14_digits() {
        assert_eq!(parse_barcode(" 3017620422003 "), Ok("3017620422003"));
        assert_eq!(parse_barcode("96385074"), Ok("96385074"));
        for bad in [
            "",
            "1234567",
            "123456789012345",
            "30176204220O3",
            "nutella",
            "../../etc",
        ] {
            assert!(
                matches!(parse_barcode(bad), Err(SourceError::InvalidId(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn zero_limits_and_bad_user_agents_are_config_errors() {
        let mut config = test_config("http://127.0.0.1:1", 60, 60);
        config.search_requests_per_minute = 0;
        assert!(OpenFoodFactsClient::new(&config, reqwest::Client::new()).is_err());
        let mut config = test_config("http://127.0.0.1:1", 60, 60);
        config.user_agent = "two\nlines".into();
        assert!(OpenFoodFactsClient::new(&config, reqwest::Client::new()).is_err());
    }

    // ---- the client against a mock Open Food Facts ----

    fn test_config(base: &str, products: u32, searches: u32) -> OpenFoodFactsConfig {
        OpenFoodFactsConfig {
            base_url: base.parse().unwrap(),
            user_agent: UA.into(),
            timeout: Duration::from_secs(5),
            product_requests_per_minute: products,
            search_requests_per_minute: searches,
            limits: crate::config::Config::defaults().openfoodfacts.limits,
        }
    }

    fn client(server: &MockServer) -> OpenFoodFactsClient {
        OpenFoodFactsClient::new(
            &test_config(&server.uri(), 6000, 6000),
            reqwest::Client::new(),
        )
        .unwrap()
    }

    async fn fetch_with(response: ResponseTemplate) -> Result<Food, SourceError> {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/product/3017620422003.json"))
            .respond_with(response)
            .mount(&server)
            .await;
        client(&server).fetch_food("3017620422003").await
    }

    fn search_mock() -> MockBuilder {
        Mock::given(method("GET"))
            .and(path("/cgi/search.pl"))
            .and(query_param("search_terms", "nutella"))
            .and(query_param("json", "1"))
            .and(header("user-agent", UA))
    }

    fn json_body(body: &str) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json")
    }

    #[tokio::test]
    async fn fetch_identifies_itself_and_asks_only_for_needed_fields() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/product/3017620422003.json"))
            .and(header("user-agent", UA))
            .and(query_param("fields", PRODUCT_FIELDS))
            .respond_with(json_body(NUTELLA))
            .expect(1)
            .mount(&server)
            .await;
        let food = client(&server).fetch_food("3017620422003").await.unwrap();
        assert_eq!(food.id, "3017620422003");
        assert_eq!(food.nutrients[&NutrientKey::Calories], 539.0);
    }

    #[tokio::test]
    async fn unknown_products_are_not_found_by_status_or_by_404() {
        let expected = SourceError::NotFound {
            upstream: Source::Openfoodfacts,
            id: "3017620422003".into(),
        };
        assert_eq!(
            fetch_with(json_body(NOT_FOUND)).await.unwrap_err(),
            expected
        );
        let v2 = ResponseTemplate::new(404).set_body_raw(NOT_FOUND, "application/json");
        assert_eq!(fetch_with(v2).await.unwrap_err(), expected);
    }

    #[tokio::test]
    async fn upstream_failures_map_to_source_errors() {
        let limited = ResponseTemplate::new(429).insert_header("Retry-After", "60");
        assert_eq!(
            fetch_with(limited).await.unwrap_err(),
            SourceError::RateLimited {
                upstream: Source::Openfoodfacts,
                retry_after: Some(Duration::from_secs(60))
            }
        );
        let overloaded =
            ResponseTemplate::new(503).set_body_string("<html>Our servers are overloaded</html>");
        assert_eq!(
            fetch_with(overloaded).await.unwrap_err(),
            SourceError::Unavailable {
                upstream: Source::Openfoodfacts,
                reason: "HTTP 503".into()
            }
        );
        let broken = ResponseTemplate::new(200).set_body_raw("{\"product\": {", "application/json");
        assert!(matches!(
            fetch_with(broken).await,
            Err(SourceError::InvalidResponse { .. })
        ));
    }

    #[tokio::test]
    async fn slow_answers_time_out_as_unavailable() {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(json_body(NUTELLA).set_delay(Duration::from_millis(500)))
            .mount(&server)
            .await;
        let mut config = test_config(&server.uri(), 6000, 6000);
        config.timeout = Duration::from_millis(100);
        let off = OpenFoodFactsClient::new(&config, reqwest::Client::new()).unwrap();
        assert_eq!(
            off.fetch_food("3017620422003").await.unwrap_err(),
            SourceError::Unavailable {
                upstream: Source::Openfoodfacts,
                reason: "no answer within 100ms".into()
            }
        );
    }

    #[tokio::test]
    async fn invalid_codes_send_nothing() {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
        let off = client(&server);
        assert!(matches!(
            off.fetch_food("12345").await,
            Err(SourceError::InvalidId(_))
        ));
        assert_eq!(off.search("  ", 5).await, Ok(Vec::new()));
    }

    #[tokio::test]
    async fn search_sends_the_full_text_query() {
        let server = MockServer::start().await;
        search_mock()
            .and(query_param("search_simple", "1"))
            .and(query_param("action", "process"))
            .and(query_param("page_size", "2"))
            .and(query_param("fields", SEARCH_FIELDS))
            .respond_with(json_body(SEARCH))
            .expect(1)
            .mount(&server)
            .await;
        let results = client(&server).search("nutella", 2).await.unwrap();
        assert_eq!(results.len(), 2, "truncated to the limit");
    }

    #[tokio::test]
    async fn a_far_slot_is_rate_limited_without_sending() {
        let server = MockServer::start().await;
        search_mock()
            .respond_with(json_body(SEARCH))
            .expect(1)
            .mount(&server)
            .await;
        // 6 a minute: burst 1, then one every 10 s — far beyond the 2 s we are willing to wait.
        let off =
            OpenFoodFactsClient::new(&test_config(&server.uri(), 6000, 6), reqwest::Client::new())
                .unwrap();
        off.search("nutella", 5).await.unwrap();
        match off.search("nutella", 5).await {
            Err(SourceError::Throttled {
                upstream: Source::Openfoodfacts,
                retry_after: wait,
            }) => {
                assert!(
                    (Duration::from_secs(9)..=Duration::from_secs(10)).contains(&wait),
                    "{wait:?}"
                );
            }
            other => panic!("expected a client-side rate limit, got {other:?}"),
        }
        // Product reads have their own budget.
        Mock::given(method("GET"))
            .and(path("/api/v2/product/3017620422003.json"))
            .respond_with(json_body(NUTELLA))
            .mount(&server)
            .await;
        assert!(off.fetch_food("3017620422003").await.is_ok());
    }

    #[tokio::test]
    async fn a_near_slot_is_waited_for() {
        let server = MockServer::start().await;
        search_mock()
            .respond_with(json_body(SEARCH))
            .expect(7)
            .mount(&server)
            .await;
        // 60 a minute: burst 6, then one a second — the 7th search waits about a second.
        let off = OpenFoodFactsClient::new(
            &test_config(&server.uri(), 6000, 60),
            reqwest::Client::new(),
        )
        .unwrap();
        let start = Instant::now();
        for _ in 0..7 {
            off.search("nutella", 5).await.unwrap();
        }
        assert!(
            start.elapsed() >= Duration::from_millis(800),
            "{:?}",
            start.elapsed()
        );
    }
}
