//! USDA FoodData Central API client: one food by FDC id and text search, normalized to per-100 g foods.
//!
//! All four data types (Foundation, SR Legacy, Survey (FNDDS), Branded) report `foodNutrients` per
//! 100 g, so every food comes back with [`Basis::Per100g`]. The types differ in how they describe
//! portions and servings; [`portion`] and [`serving`] hold those differences in one place.
//!
//! The API key travels only in the `X-Api-Key` header (marked sensitive), never in a URL, so neither
//! reqwest's error text nor a log line can carry it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{
    Answer, Gate, ceil_secs, format_amount, lenient_f64, lenient_object, lenient_string,
    lenient_vec, listed, parse_json, retry_after, usable_results,
};
use super::{ConfigError, FoodSource, SourceError, UpstreamLimits};
use crate::config::UsdaConfig;
use crate::food::model::{Basis, Food, FoodSummary, Portion, Serving, Source};
use crate::food::nutrients::{NutrientKey, Nutrients};
use crate::food::portion::UsdaPortion;

const UPSTREAM: Source = Source::Usda;
const API_KEY_HEADER: &str = "X-Api-Key";
/// Search asks for every data type explicitly: the API's default leaves some out.
const DATA_TYPES: [&str; 4] = ["Foundation", "SR Legacy", "Survey (FNDDS)", "Branded"];
/// The API's largest accepted `pageSize`.
const MAX_PAGE_SIZE: usize = 200;

/// Client for `GET {base}/food/{fdcId}` and `POST {base}/foods/search`. Cheap to share behind an `Arc`;
/// it holds the caller's `reqwest::Client`, so connections are pooled with the rest of the app.
pub struct UsdaClient {
    http: reqwest::Client,
    base: String,
    api_key: HeaderValue,
    limits: UpstreamLimits,
    gate: Gate,
}

impl UsdaClient {
    /// Fails when the configured API key cannot be sent as a header value or a limit is zero.
    pub fn new(config: &UsdaConfig, http: reqwest::Client) -> Result<UsdaClient, ConfigError> {
        let mut api_key =
            HeaderValue::from_str(config.api_key.trim()).map_err(|_| ConfigError {
                setting: "usda.api_key",
                reason: "contains characters an HTTP header cannot carry",
            })?;
        // Keeps the key out of reqwest's and hyper's Debug output.
        api_key.set_sensitive(true);
        Ok(UsdaClient {
            http,
            base: config.base_url.as_str().trim_end_matches('/').to_string(),
            api_key,
            limits: config.limits,
            gate: Gate::new(UPSTREAM, config.timeout, &config.limits)?,
        })
    }

    /// Sends one request and returns the 2xx body, or the error its status and body mean.
    /// `food_id` names the food a 404 is about (none for search).
    async fn send(
        &self,
        request: RequestBuilder,
        food_id: Option<&str>,
    ) -> Result<Vec<u8>, SourceError> {
        let request = request.header(API_KEY_HEADER, self.api_key.clone());
        let Answer {
            status,
            headers,
            body,
        } = self.gate.exchange(request).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(status_error(status, &headers, &body, food_id))
        }
    }
}

#[async_trait]
impl FoodSource for UsdaClient {
    fn source(&self) -> Source {
        UPSTREAM
    }

    fn limits(&self) -> UpstreamLimits {
        self.limits
    }

    #[tracing::instrument(name = "usda.fetch_food", skip(self))]
    async fn fetch_food(&self, id: &str) -> Result<Food, SourceError> {
        let id = parse_fdc_id(id)?;
        let url = format!("{}/food/{id}", self.base);
        let body = self.send(self.http.get(url), Some(&id)).await?;
        food_from_detail(&id, parse_json(UPSTREAM, &body)?)
    }

    #[tracing::instrument(name = "usda.search", skip(self))]
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<FoodSummary>, SourceError> {
        let query = query.trim();
        if query.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let body = json!({
            "query": query,
            "pageSize": limit.min(MAX_PAGE_SIZE),
            "pageNumber": 1,
            "dataType": DATA_TYPES,
        });
        let url = format!("{}/foods/search", self.base);
        let body = self.send(self.http.post(url).json(&body), None).await?;
        let mut results = summaries_from_search(parse_json(UPSTREAM, &body)?)?;
        results.truncate(limit);
        Ok(results)
    }
}

/// FDC ids are positive integers; anything else is refused before a request is spent on it.
fn parse_fdc_id(id: &str) -> Result<String, SourceError> {
    let id = id.trim();
    match id.parse::<u64>() {
        Ok(n) if n > 0 && id.bytes().all(|b| b.is_ascii_digit()) => Ok(n.to_string()),
        _ => Err(SourceError::InvalidId(format!(
            "USDA food ids are whole numbers such as 173944, not {:?}",
            id.chars().take(40).collect::<String>()
        ))),
    }
}

/// What a non-2xx answer means. api.data.gov reports its rate limit as `error.code ==
/// "OVER_RATE_LIMIT"`, usually with 429 but sometimes with 403, so the body decides before the status.
fn status_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    food_id: Option<&str>,
) -> SourceError {
    let code = api_error_code(body);
    if status == StatusCode::TOO_MANY_REQUESTS || code.as_deref() == Some("OVER_RATE_LIMIT") {
        return SourceError::RateLimited {
            upstream: UPSTREAM,
            retry_after: retry_after(headers).map(ceil_secs),
        };
    }
    if status == StatusCode::NOT_FOUND
        && let Some(id) = food_id
    {
        return SourceError::NotFound {
            upstream: UPSTREAM,
            id: id.to_string(),
        };
    }
    // Only the status and api.data.gov's fixed error code are echoed; its messages are not.
    let reason = match code {
        Some(code) => format!("HTTP {} ({code})", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    if status.is_server_error()
        || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
    {
        // Key problems are the operator's to fix; until then a stale copy is the best answer.
        SourceError::Unavailable {
            upstream: UPSTREAM,
            reason,
        }
    } else {
        SourceError::InvalidResponse {
            upstream: UPSTREAM,
            reason,
        }
    }
}

/// api.data.gov's `{"error": {"code": "..."}}`, when the code looks like one (upper-case identifier).
fn api_error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value.get("error")?.get("code")?.as_str()?;
    let plausible = !code.is_empty()
        && code.len() <= 40
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    plausible.then(|| code.to_string())
}

// ---- response shapes (only the fields food-mcp reads; every field tolerates odd values) ----

/// `GET /food/{fdcId}`, any data type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FoodDetail {
    #[serde(default, deserialize_with = "lenient_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    data_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    food_category: Option<Category>,
    #[serde(default, deserialize_with = "lenient_object")]
    wweia_food_category: Option<WweiaCategory>,
    #[serde(default, deserialize_with = "lenient_string")]
    branded_food_category: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    brand_owner: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    brand_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_vec")]
    food_nutrients: Vec<FoodNutrient>,
    #[serde(default, deserialize_with = "lenient_vec")]
    food_portions: Vec<FoodPortion>,
    #[serde(default, deserialize_with = "lenient_f64")]
    serving_size: Option<f64>,
    #[serde(default, deserialize_with = "lenient_string")]
    serving_size_unit: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    household_serving_full_text: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    label_nutrients: Option<BTreeMap<String, LabelNutrient>>,
}

/// `foodCategory` is an object on `/food/{id}` and a plain string in search results.
#[derive(Deserialize)]
#[serde(untagged)]
enum Category {
    Named { description: String },
    Text(String),
}

impl Category {
    fn into_text(self) -> String {
        match self {
            Category::Named { description } | Category::Text(description) => description,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WweiaCategory {
    #[serde(default, deserialize_with = "lenient_string")]
    wweia_food_category_description: Option<String>,
}

/// `{ "nutrient": {"number": "208", "unitName": "kcal", ...}, "amount": 89.0 }`; group headers such as
/// "Proximates" have no amount.
#[derive(Deserialize)]
struct FoodNutrient {
    #[serde(default, deserialize_with = "lenient_object")]
    nutrient: Option<NutrientRef>,
    #[serde(default, deserialize_with = "lenient_f64")]
    amount: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NutrientRef {
    #[serde(default, deserialize_with = "lenient_string")]
    number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    unit_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FoodPortion {
    #[serde(default, deserialize_with = "lenient_f64")]
    amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    value: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    gram_weight: Option<f64>,
    #[serde(default, deserialize_with = "lenient_string")]
    modifier: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    portion_description: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    measure_unit: Option<MeasureUnit>,
    #[serde(default, deserialize_with = "lenient_f64")]
    sequence_number: Option<f64>,
}

#[derive(Deserialize)]
struct MeasureUnit {
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
}

#[derive(Deserialize)]
struct LabelNutrient {
    #[serde(default, deserialize_with = "lenient_f64")]
    value: Option<f64>,
}

/// `POST /foods/search`. `foods` is required and must be a list: a 200 without it (or with
/// `"foods": "x"`) is not a search answer, and must never be cached as "no results".
#[derive(Deserialize)]
struct SearchResponse {
    #[serde(deserialize_with = "listed")]
    foods: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchFood {
    #[serde(default, deserialize_with = "lenient_string")]
    fdc_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    data_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    brand_owner: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    brand_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    food_category: Option<Category>,
    #[serde(default, deserialize_with = "lenient_string")]
    branded_food_category: Option<String>,
    #[serde(default, deserialize_with = "lenient_vec")]
    food_nutrients: Vec<SearchNutrient>,
}

/// Search results flatten the nutrient: `{"nutrientNumber": "208", "unitName": "KCAL", "value": 89}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchNutrient {
    #[serde(default, deserialize_with = "lenient_string")]
    nutrient_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    unit_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    value: Option<f64>,
}

// ---- normalization ----

fn food_from_detail(id: &str, detail: FoodDetail) -> Result<Food, SourceError> {
    let name = detail
        .description
        .ok_or_else(|| SourceError::InvalidResponse {
            upstream: UPSTREAM,
            reason: format!("food {id} has no description"),
        })?;
    let mut nutrients = nutrients_from_rows(detail.food_nutrients.iter().filter_map(|row| {
        let nutrient = row.nutrient.as_ref()?;
        Some((
            nutrient.number.as_deref()?,
            nutrient.unit_name.as_deref(),
            row.amount?,
        ))
    }));
    let serving = serving(
        detail.serving_size,
        detail.serving_size_unit.as_deref(),
        detail.household_serving_full_text,
    );
    if let (Some(labels), Some(grams)) = (
        &detail.label_nutrients,
        serving.as_ref().and_then(|s| s.grams),
    ) {
        fill_core_from_label(&mut nutrients, labels, grams);
    }
    // Every FoodData Central food reports nutrients: one without any is a broken answer, and
    // would otherwise replace a good cached copy with a food whose every value is "no data".
    if nutrients.is_empty() {
        return Err(SourceError::NoNutrients {
            upstream: UPSTREAM,
            id: id.to_string(),
        });
    }
    let mut portions: Vec<FoodPortion> = detail.food_portions;
    portions.sort_by(|a, b| {
        let key = |p: &FoodPortion| p.sequence_number.unwrap_or(f64::MAX);
        key(a).total_cmp(&key(b))
    });
    let category = detail
        .branded_food_category
        .or_else(|| detail.food_category.map(Category::into_text))
        .or_else(|| {
            detail
                .wweia_food_category
                .and_then(|c| c.wweia_food_category_description)
        });
    Ok(Food {
        id: id.to_string(),
        source: UPSTREAM,
        name,
        brand: detail.brand_name.or(detail.brand_owner),
        category,
        data_type: detail.data_type,
        basis: Basis::Per100g,
        nutrients,
        portions: portions.into_iter().filter_map(portion).collect(),
        serving,
    })
}

fn summaries_from_search(response: SearchResponse) -> Result<Vec<FoodSummary>, SourceError> {
    usable_results(UPSTREAM, response.foods, |food: SearchFood| {
        let id = food.fdc_id.filter(|id| parse_fdc_id(id).is_ok())?;
        let calories = nutrients_from_rows(food.food_nutrients.iter().filter_map(|row| {
            Some((
                row.nutrient_number.as_deref()?,
                row.unit_name.as_deref(),
                row.value?,
            ))
        }))
        .get(&NutrientKey::Calories)
        .copied();
        Some(FoodSummary {
            id,
            source: UPSTREAM,
            name: food.description?,
            brand: food.brand_name.or(food.brand_owner),
            category: food
                .branded_food_category
                .or_else(|| food.food_category.map(Category::into_text)),
            data_type: food.data_type,
            calories_per_100g: calories,
            analysis: Default::default(),
            household_measures: 0,
        })
    })
}

/// Picks, for each nutrient, the row with the most preferred USDA number (energy: 208, then 958, then
/// 957), converting mass units into the nutrient's own unit. Rows in other units (kJ, IU) are skipped.
fn nutrients_from_rows<'a>(
    rows: impl Iterator<Item = (&'a str, Option<&'a str>, f64)>,
) -> Nutrients {
    let mut best: BTreeMap<NutrientKey, (usize, f64)> = BTreeMap::new();
    for (number, unit, amount) in rows {
        let Some((key, rank)) = NutrientKey::from_usda_number(number.trim()) else {
            continue;
        };
        let Some(value) = in_key_unit(amount, unit, key) else {
            continue;
        };
        if best.get(&key).is_none_or(|(held, _)| rank < *held) {
            best.insert(key, (rank, value));
        }
    }
    best.into_iter()
        .map(|(key, (_, value))| (key, value))
        .collect()
}

/// `amount` in `unit` expressed in `key`'s unit; `None` when the units are not convertible.
/// A missing unit is taken to be the nutrient's own (the API always sends one).
fn in_key_unit(amount: f64, unit: Option<&str>, key: NutrientKey) -> Option<f64> {
    let Some(unit) = unit.map(|u| u.trim().to_lowercase()) else {
        return Some(amount);
    };
    if unit == key.unit() {
        return Some(amount);
    }
    // In micrograms, so the factors are whole numbers and 0.5 mg comes out as exactly 500 µg.
    let micrograms_per = |u: &str| match u {
        "g" => Some(1e6),
        "mg" => Some(1e3),
        "µg" | "μg" | "ug" | "mcg" => Some(1.0),
        _ => None,
    };
    Some(amount * micrograms_per(&unit)? / micrograms_per(key.unit())?)
}

/// Branded foods: `labelNutrients` are per serving. Used only for a core nutrient `foodNutrients` lacks.
fn fill_core_from_label(
    nutrients: &mut Nutrients,
    labels: &BTreeMap<String, LabelNutrient>,
    serving_grams: f64,
) {
    const LABEL_KEYS: [(&str, NutrientKey); 4] = [
        ("calories", NutrientKey::Calories),
        ("protein", NutrientKey::ProteinG),
        ("carbohydrates", NutrientKey::TotalCarbsG),
        ("fat", NutrientKey::TotalFatG),
    ];
    for (label, key) in LABEL_KEYS {
        if let Some(value) = labels.get(label).and_then(|l| l.value) {
            nutrients
                .entry(key)
                .or_insert(value / serving_grams * 100.0);
        }
    }
}

/// Branded `servingSize` + `servingSizeUnit` ("g", "ml", or the GS1 codes "GRM", "MLT").
fn serving(size: Option<f64>, unit: Option<&str>, household: Option<String>) -> Option<Serving> {
    let amount = size.filter(|s| *s > 0.0)?;
    let unit = match unit?.to_lowercase().as_str() {
        "g" | "grm" | "gm" | "gram" | "grams" => "g".to_string(),
        "ml" | "mlt" => "ml".to_string(),
        other => other.to_string(),
    };
    let measured = format!("{} {unit}", format_amount(amount));
    Some(Serving {
        amount,
        grams: (unit == "g").then_some(amount),
        description: match household {
            Some(text) => format!("{text} ({measured})"),
            None => measured,
        },
        unit,
    })
}

/// One `foodPortions` item, in any data type's shape (see [`UsdaPortion`]); the catalog importer
/// reads the same fields from the bulk CSV, so both give one food the same portions.
fn portion(p: FoodPortion) -> Option<Portion> {
    UsdaPortion {
        amount: p.amount.or(p.value),
        measure_unit: p.measure_unit.as_ref().and_then(|m| m.name.as_deref()),
        description: p.portion_description.as_deref(),
        modifier: p.modifier.as_deref(),
        grams: p.gram_weight,
    }
    .to_portion()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::Config;
    use wiremock::matchers::{body_partial_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const BANANA: &str =
        include_str!("../../tests/fixtures/usda/food-173944-sr-legacy-banana.json");
    const MILK: &str =
        include_str!("../../tests/fixtures/usda/food-171265-sr-legacy-whole-milk.json");
    const FOUNDATION: &str =
        include_str!("../../tests/fixtures/usda/food-1105314-foundation-banana.json");
    const FNDDS: &str =
        include_str!("../../tests/fixtures/usda/food-1102653-survey-fndds-banana.json");
    const BRANDED: &str =
        include_str!("../../tests/fixtures/usda/food-2117388-branded-cereal.json");
    const SEARCH: &str = include_str!("../../tests/fixtures/usda/foods-search-banana.json");
    const OVER_LIMIT: &str = include_str!("../../tests/fixtures/usda/error-over-rate-limit.json");
    const KEY: &str = "SECRET-usda-key-0123456789";

    fn normalize(id: &str, json: &str) -> Food {
        food_from_detail(id, parse_json(UPSTREAM, json.as_bytes()).unwrap()).unwrap()
    }

    /// The fixture as a JSON value, changed by `edit`, then normalized.
    fn normalize_edited(id: &str, json: &str, edit: impl FnOnce(&mut Value)) -> Food {
        let mut value: Value = serde_json::from_str(json).unwrap();
        edit(&mut value);
        normalize(id, &value.to_string())
    }

    fn drop_nutrients(value: &mut Value, numbers: &[&str]) {
        value["foodNutrients"]
            .as_array_mut()
            .unwrap()
            .retain(|row| !numbers.contains(&row["nutrient"]["number"].as_str().unwrap()));
    }

    fn portion_named<'a>(food: &'a Food, description: &str) -> &'a Portion {
        food.portions
            .iter()
            .find(|p| p.description == description)
            .unwrap_or_else(|| panic!("no portion {description:?} in {:#?}", food.portions))
    }

    #[test]
    fn sr_legacy_banana_is_89_kcal_per_100g_with_its_portions() {
        let food = normalize("173944", BANANA);
        assert_eq!(food.name, "Bananas, raw");
        assert_eq!(food.data_type.as_deref(), Some("SR Legacy"));
        assert_eq!(food.category.as_deref(), Some("Fruits and Fruit Juices"));
        assert_eq!(food.basis, Basis::Per100g);
        assert_eq!(food.brand, None);
        let n = &food.nutrients;
        assert_eq!(n[&NutrientKey::Calories], 89.0);
        assert_eq!(n[&NutrientKey::ProteinG], 1.09);
        assert_eq!(n[&NutrientKey::TotalCarbsG], 22.84);
        assert_eq!(n[&NutrientKey::TotalFatG], 0.33);
        assert_eq!(n[&NutrientKey::PotassiumMg], 358.0);
        assert_eq!(n[&NutrientKey::VitaminAMcg], 3.0, "RAE (320), not IU (318)");
        assert_eq!(n[&NutrientKey::FolateMcg], 20.0);

        assert_eq!(food.portions.len(), 8);
        let medium = portion_named(&food, "1 medium (7\" to 7-7/8\" long)");
        assert_eq!(
            (medium.amount, medium.unit.as_str(), medium.grams),
            (1.0, "medium", 118.0)
        );
        assert_eq!(
            medium.modifier.as_deref(),
            Some("medium (7\" to 7-7/8\" long)")
        );
        assert_eq!(portion_named(&food, "1 cup, mashed").grams, 225.0);
        assert_eq!(portion_named(&food, "1 cup, sliced").unit, "cup");
        assert_eq!(
            portion_named(&food, "1 extra large (9\" or longer)").unit,
            "extra large"
        );
        assert_eq!(
            portion_named(&food, "1 large (8\" to 8-7/8\" long)").grams,
            136.0
        );
        assert_eq!(
            portion_named(&food, "1 small (6\" to 6-7/8\" long)").grams,
            101.0
        );
        assert_eq!(
            portion_named(&food, "1 extra small (less than 6\" long)").grams,
            81.0
        );
        assert_eq!(portion_named(&food, "1 NLEA serving").unit, "nlea serving");
    }

    #[test]
    fn sr_legacy_whole_milk_has_a_244_g_cup() {
        let food = normalize("171265", MILK);
        assert_eq!(food.nutrients[&NutrientKey::Calories], 61.0);
        assert_eq!(food.nutrients[&NutrientKey::CalciumMg], 113.0);
        assert_eq!(
            food.nutrients[&NutrientKey::VitaminDMcg],
            1.3,
            "µg (328), not IU (324)"
        );
        let cup = portion_named(&food, "1 cup");
        assert_eq!((cup.unit.as_str(), cup.grams), ("cup", 244.0));
        assert_eq!(portion_named(&food, "1 fl oz").unit, "fl oz");
        assert_eq!(portion_named(&food, "1 quart").grams, 976.0);
    }

    #[test]
    fn foundation_energy_falls_back_from_208_to_958_to_957_and_never_to_kj() {
        let food = normalize("1105314", FOUNDATION);
        assert_eq!(food.data_type.as_deref(), Some("Foundation"));
        assert_eq!(
            food.nutrients[&NutrientKey::Calories],
            98.0,
            "958 (Atwater specific)"
        );
        assert_eq!(
            food.nutrients[&NutrientKey::SugarsG],
            15.8,
            "269.3 when 269 is absent"
        );

        let general = normalize_edited("1105314", FOUNDATION, |v| drop_nutrients(v, &["958"]));
        assert_eq!(
            general.nutrients[&NutrientKey::Calories],
            97.0,
            "957 (Atwater general)"
        );

        let kj_only = normalize_edited("1105314", FOUNDATION, |v| {
            drop_nutrients(v, &["958", "957"])
        });
        assert_eq!(
            kj_only.nutrients.get(&NutrientKey::Calories),
            None,
            "kJ (268) is never kcal"
        );
    }

    #[test]
    fn foundation_portions_use_the_measure_unit() {
        let food = normalize("1105314", FOUNDATION);
        let cup = portion_named(&food, "1 cup, sliced");
        assert_eq!(
            (cup.amount, cup.unit.as_str(), cup.grams),
            (1.0, "cup", 150.0)
        );
        assert_eq!(cup.modifier.as_deref(), Some("sliced"));
        let tbsp = portion_named(&food, "2 tablespoon");
        assert_eq!(
            (tbsp.amount, tbsp.unit.as_str(), tbsp.grams),
            (2.0, "tablespoon", 28.0)
        );
        assert_eq!(portion_named(&food, "1 banana, medium").grams, 118.0);
    }

    #[test]
    fn fndds_portions_come_from_their_descriptions_in_sequence() {
        let food = normalize("1102653", FNDDS);
        assert_eq!(food.data_type.as_deref(), Some("Survey (FNDDS)"));
        assert_eq!(food.category.as_deref(), Some("Bananas"), "WWEIA category");
        assert_eq!(food.nutrients[&NutrientKey::Calories], 89.0);
        let descriptions: Vec<_> = food
            .portions
            .iter()
            .map(|p| p.description.as_str())
            .collect();
        assert_eq!(
            descriptions.first(),
            Some(&"1 cup, sliced"),
            "sorted by sequenceNumber"
        );
        assert!(!descriptions.contains(&"Quantity not specified"));
        let medium = portion_named(&food, "1 medium banana");
        assert_eq!(
            (medium.amount, medium.unit.as_str(), medium.grams),
            (1.0, "medium", 118.0)
        );
        assert_eq!(
            medium.modifier, None,
            "numeric FNDDS codes are not modifiers"
        );
        let half = portion_named(&food, "1/2 medium banana");
        assert_eq!(
            (half.amount, half.unit.as_str(), half.grams),
            (0.5, "medium", 59.0)
        );
        assert_eq!(
            portion_named(&food, "1 extra small (less than 6\" long)").unit,
            "extra small"
        );
    }

    #[test]
    fn branded_food_has_brand_category_and_gram_serving() {
        let food = normalize("2117388", BRANDED);
        assert_eq!(food.brand.as_deref(), Some("CHEERIOS"));
        assert_eq!(food.category.as_deref(), Some("Cereal"));
        assert_eq!(food.basis, Basis::Per100g);
        assert_eq!(
            food.nutrients[&NutrientKey::Calories],
            359.0,
            "per 100 g, not the label's 140"
        );
        assert_eq!(food.nutrients[&NutrientKey::SodiumMg], 487.0);
        assert!(food.portions.is_empty());
        let serving = food.serving.unwrap();
        assert_eq!(
            (serving.amount, serving.unit.as_str(), serving.grams),
            (39.0, "g", Some(39.0))
        );
        assert_eq!(serving.description, "1 1/2 cup (39 g)");

        let owner_only = normalize_edited("2117388", BRANDED, |v| v["brandName"] = Value::Null);
        assert_eq!(
            owner_only.brand.as_deref(),
            Some("General Mills Sales Inc.")
        );
    }

    #[test]
    fn branded_label_nutrients_fill_only_missing_core_nutrients() {
        let food = normalize_edited("2117388", BRANDED, |v| drop_nutrients(v, &["203", "307"]));
        let protein = food.nutrients[&NutrientKey::ProteinG];
        assert!((protein - 5.0 / 39.0 * 100.0).abs() < 1e-9, "{protein}");
        assert_eq!(food.nutrients[&NutrientKey::Calories], 359.0);
        assert_eq!(
            food.nutrients.get(&NutrientKey::SodiumMg),
            None,
            "only core nutrients"
        );

        let grm = normalize_edited("2117388", BRANDED, |v| v["servingSizeUnit"] = "GRM".into());
        assert_eq!(grm.serving.unwrap().grams, Some(39.0));

        let ml = normalize_edited("2117388", BRANDED, |v| {
            v["servingSizeUnit"] = "MLT".into();
            drop_nutrients(v, &["203"]);
        });
        let serving = ml.serving.unwrap();
        assert_eq!((serving.unit.as_str(), serving.grams), ("ml", None));
        assert_eq!(
            ml.nutrients.get(&NutrientKey::ProteinG),
            None,
            "no grams, no per-100 g fallback"
        );
    }

    #[test]
    fn search_results_become_summaries_with_calories() {
        let results =
            summaries_from_search(parse_json(UPSTREAM, SEARCH.as_bytes()).unwrap()).unwrap();
        let by_id = |id: &str| results.iter().find(|r| r.id == id).unwrap();
        assert_eq!(results.len(), 4);
        let banana = by_id("173944");
        assert_eq!(banana.name, "Bananas, raw");
        assert_eq!(banana.data_type.as_deref(), Some("SR Legacy"));
        assert_eq!(banana.category.as_deref(), Some("Fruits and Fruit Juices"));
        assert_eq!(banana.calories_per_100g, Some(89.0));
        assert_eq!(
            by_id("1105314").calories_per_100g,
            Some(98.0),
            "958 over 957, never KJ"
        );
        let chips = by_id("2038423");
        assert_eq!(chips.brand.as_deref(), Some("WEGMANS"));
        assert_eq!(chips.category.as_deref(), Some("Chips, Pretzels & Snacks"));
    }

    #[test]
    fn odd_upstream_values_cost_a_value_not_the_food() {
        let food = normalize_edited("173944", BANANA, |v| {
            let rows = v["foodNutrients"].as_array_mut().unwrap();
            rows.push(Value::Null);
            rows.push(serde_json::json!({"nutrient": "208", "amount": 1}));
            rows.push(serde_json::json!({"nutrient": {"number": 203}, "amount": "not a number"}));
            v["foodPortions"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"gramWeight": "heavy"}));
            v["foodCategory"] = serde_json::json!(42);
        });
        assert_eq!(food.nutrients[&NutrientKey::Calories], 89.0);
        assert_eq!(food.nutrients[&NutrientKey::ProteinG], 1.09);
        assert_eq!(food.portions.len(), 8);
        assert_eq!(food.category, None);

        let nameless = parse_json::<FoodDetail>(UPSTREAM, br#"{"foodNutrients": []}"#).unwrap();
        assert!(matches!(
            food_from_detail("1", nameless),
            Err(SourceError::InvalidResponse { .. })
        ));
        assert!(
            parse_json::<SearchResponse>(UPSTREAM, b"{}").is_err(),
            "search without foods"
        );
    }

    #[test]
    fn mass_units_convert_into_the_nutrient_unit() {
        assert_eq!(
            in_key_unit(0.5, Some("MG"), NutrientKey::VitaminDMcg),
            Some(500.0)
        );
        assert_eq!(
            in_key_unit(1.2, Some("g"), NutrientKey::SodiumMg),
            Some(1200.0)
        );
        assert_eq!(
            in_key_unit(3.0, Some("µg"), NutrientKey::VitaminAMcg),
            Some(3.0)
        );
        assert_eq!(
            in_key_unit(64.0, Some("IU"), NutrientKey::VitaminAMcg),
            None
        );
        assert_eq!(in_key_unit(406.0, Some("kJ"), NutrientKey::Calories), None);
    }

    #[test]
    fn ids_must_be_positive_whole_numbers() {
        assert_eq!(parse_fdc_id(" 173944 "), Ok("173944".to_string()));
        for bad in [
            "",
            "abc",
            "-1",
            "0",
            "12a",
            "+5",
            "1.5",
            "99999999999999999999999",
        ] {
            assert!(
                matches!(parse_fdc_id(bad), Err(SourceError::InvalidId(_))),
                "{bad:?}"
            );
        }
    }

    // ---- the client against a mock FoodData Central ----

    fn client(server: &MockServer, timeout: Duration) -> UsdaClient {
        let config = UsdaConfig {
            api_key: KEY.to_string(),
            base_url: format!("{}/fdc/v1", server.uri()).parse().unwrap(),
            timeout,
            limits: Config::defaults().usda.limits,
        };
        UsdaClient::new(&config, reqwest::Client::new()).unwrap()
    }

    /// Fetches 173944 against a server answering `response`, checking the error never shows the key.
    async fn fetch_with(
        response: ResponseTemplate,
        timeout: Duration,
    ) -> Result<Food, SourceError> {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/fdc/v1/food/173944"))
            .respond_with(response)
            .mount(&server)
            .await;
        let result = client(&server, timeout).fetch_food("173944").await;
        if let Err(err) = &result {
            assert!(!err.to_string().contains(KEY), "{err}");
            assert!(!format!("{err:?}").contains(KEY), "{err:?}");
        }
        result
    }

    #[tokio::test]
    async fn fetch_sends_the_key_as_a_header_and_normalizes() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/fdc/v1/food/173944"))
            .and(header("x-api-key", KEY))
            .respond_with(ResponseTemplate::new(200).set_body_raw(BANANA, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        let food = client(&server, Duration::from_secs(5))
            .fetch_food("173944")
            .await
            .unwrap();
        assert_eq!(food.id, "173944");
        assert_eq!(food.nutrients[&NutrientKey::Calories], 89.0);
        let requests = server.received_requests().await.unwrap();
        assert_eq!(
            requests[0].url.query(),
            None,
            "the key never goes in the URL"
        );
    }

    #[tokio::test]
    async fn search_posts_every_data_type_and_the_page_size() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/fdc/v1/foods/search"))
            .and(header("x-api-key", KEY))
            .and(body_partial_json(serde_json::json!({
                "query": "banana",
                "pageSize": 3,
                "dataType": ["Foundation", "SR Legacy", "Survey (FNDDS)", "Branded"],
            })))
            .respond_with(ResponseTemplate::new(200).set_body_raw(SEARCH, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        let results = client(&server, Duration::from_secs(5))
            .search(" banana ", 3)
            .await
            .unwrap();
        assert_eq!(results.len(), 3, "truncated to the limit");
        assert_eq!(results[0].calories_per_100g, Some(89.0));
    }

    #[tokio::test]
    async fn not_found_is_not_found() {
        let err = fetch_with(ResponseTemplate::new(404), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SourceError::NotFound {
                upstream: Source::Usda,
                id: "173944".into()
            }
        );
    }

    #[tokio::test]
    async fn rate_limits_are_reported_with_retry_after() {
        let limited = ResponseTemplate::new(429)
            .insert_header("Retry-After", "30")
            .set_body_raw(OVER_LIMIT, "application/json");
        let err = fetch_with(limited, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SourceError::RateLimited {
                upstream: Source::Usda,
                retry_after: Some(Duration::from_secs(30))
            }
        );
        // api.data.gov sometimes answers its rate limit with 403.
        let forbidden = ResponseTemplate::new(403).set_body_raw(OVER_LIMIT, "application/json");
        let err = fetch_with(forbidden, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SourceError::RateLimited {
                upstream: Source::Usda,
                retry_after: None
            }
        );
        assert!(err.allows_stale() && err.is_upstream_failure());
    }

    #[tokio::test]
    async fn a_rejected_key_is_unavailable_and_names_only_the_code() {
        let body =
            r#"{"error":{"code":"API_KEY_INVALID","message":"An invalid api_key was supplied."}}"#;
        let err = fetch_with(
            ResponseTemplate::new(403).set_body_raw(body, "application/json"),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err,
            SourceError::Unavailable {
                upstream: Source::Usda,
                reason: "HTTP 403 (API_KEY_INVALID)".into()
            }
        );
    }

    #[tokio::test]
    async fn server_errors_are_unavailable() {
        let err = fetch_with(
            ResponseTemplate::new(500).set_body_string("boom"),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err,
            SourceError::Unavailable {
                upstream: Source::Usda,
                reason: "HTTP 500".into()
            }
        );
    }

    #[tokio::test]
    async fn slow_answers_time_out_as_unavailable() {
        let slow = ResponseTemplate::new(200)
            .set_body_raw(BANANA, "application/json")
            .set_delay(Duration::from_millis(500));
        let err = fetch_with(slow, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SourceError::Unavailable {
                upstream: Source::Usda,
                reason: "no answer within 100ms".into()
            }
        );
    }

    #[tokio::test]
    async fn malformed_json_is_an_invalid_response() {
        let broken =
            ResponseTemplate::new(200).set_body_raw("{\"description\": ", "application/json");
        let err = fetch_with(broken, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SourceError::InvalidResponse {
                    upstream: Source::Usda,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = UsdaConfig {
            api_key: KEY.to_string(),
            base_url: format!("http://127.0.0.1:{port}/fdc/v1").parse().unwrap(),
            timeout: Duration::from_secs(5),
            limits: Config::defaults().usda.limits,
        };
        let usda = UsdaClient::new(&config, reqwest::Client::new()).unwrap();
        let err = usda.fetch_food("173944").await.unwrap_err();
        assert_eq!(
            err,
            SourceError::Unavailable {
                upstream: Source::Usda,
                reason: "could not connect".into()
            }
        );
        assert!(!err.to_string().contains(KEY));
    }

    #[tokio::test]
    async fn invalid_ids_and_empty_queries_send_nothing() {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
        let usda = client(&server, Duration::from_secs(5));
        assert!(matches!(
            usda.fetch_food("banana").await,
            Err(SourceError::InvalidId(_))
        ));
        assert_eq!(usda.search("   ", 10).await, Ok(Vec::new()));
        assert_eq!(usda.search("banana", 0).await, Ok(Vec::new()));
    }

    #[test]
    fn a_key_that_cannot_be_a_header_is_a_config_error() {
        let config = UsdaConfig {
            api_key: "bad\nkey".into(),
            base_url: "http://127.0.0.1:1".parse().unwrap(),
            timeout: Duration::from_secs(1),
            limits: Config::defaults().usda.limits,
        };
        assert!(UsdaClient::new(&config, reqwest::Client::new()).is_err());
        let mut no_slots = UsdaConfig {
            api_key: KEY.into(),
            ..config
        };
        no_slots.limits.max_concurrent_requests = 0;
        let err = UsdaClient::new(&no_slots, reqwest::Client::new()).err();
        assert_eq!(err.map(|e| e.setting), Some("usda.max_concurrent_requests"));
    }
}
