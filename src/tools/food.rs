//! `FoodService`: what each tool does — fan out to sources through the food cache, convert,
//! scale, sum — with errors a person can act on.

use std::sync::Arc;

use futures::future::join_all;
use sha2::{Digest, Sha256};

use crate::actors::food_cache::{CacheError, Cached, FoodCacheHandle, Freshness};
use crate::food::diary::Measure;
use crate::food::meal;
use crate::food::model::{Basis, Food, FoodSummary, Portion, Serving, Source};
use crate::food::nutrients::{NutrientKey, NutrientReport, Nutrients};
use crate::food::search;
use crate::food::units::Unit;
use crate::storage::catalog::CatalogStore;
use crate::storage::catalog_foods::CatalogFoods;
use crate::tools::types::{
    CalculateMealOutput, FoodAmount, NutritionOutput, SaveFoodInput, SaveFoodOutput,
    SearchFoodOutput, SourceFilter,
};

const MAX_QUERY_CHARS: usize = 200;
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 50;
/// Saved foods scoring below this are not what the query names.
const MIN_CUSTOM_MATCH: f64 = 0.3;
/// How many catalog foods ranking sees: enough that the plain food is among them when a word is
/// common ("egg" prefixes eggplant and eggnog), few enough to rank in well under a millisecond.
const CATALOG_CANDIDATES: usize = 100;
const MAX_MEAL_ITEMS: usize = 100;
const MAX_NAME_CHARS: usize = 200;
const MAX_LABEL_CHARS: usize = 100;
/// Above this a saved value is a typo (no food has 100 kg of anything per serving).
const MAX_NUTRIENT_VALUE: f64 = 100_000.0;

/// A tool failure: the message is shown to the person (and the model) as an `isError` result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl From<CacheError> for ToolError {
    fn from(err: CacheError) -> Self {
        ToolError(err.to_string())
    }
}

#[derive(Clone)]
pub struct FoodService {
    cache: FoodCacheHandle,
    /// The offline USDA catalog: asked before the USDA API, since it answers locally and fast.
    catalog: CatalogStore,
    /// Its foods in memory, for lookups by id and search.
    foods: CatalogFoods,
}

impl FoodService {
    pub fn new(cache: FoodCacheHandle, catalog: CatalogStore, foods: CatalogFoods) -> FoodService {
        FoodService {
            cache,
            catalog,
            foods,
        }
    }

    /// Searches the chosen sources in parallel; a failing source becomes a warning.
    pub async fn search(
        &self,
        query: &str,
        filter: SourceFilter,
        limit: Option<u32>,
    ) -> Result<SearchFoodOutput, ToolError> {
        let query = query.trim();
        if query.is_empty() {
            return Err(ToolError(
                "query is empty; give a food name such as \"banana\"".into(),
            ));
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(ToolError(format!(
                "query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n @ 1..) if (n as usize) <= MAX_LIMIT => n as usize,
            Some(n) => {
                return Err(ToolError(format!(
                    "limit must be between 1 and {MAX_LIMIT}, got {n}"
                )));
            }
        };
        let sources = filter.sources();
        let answers = join_all(
            sources
                .iter()
                .map(|source| self.search_source(*source, query)),
        )
        .await;

        let mut hits = Vec::new();
        let mut warnings = Vec::new();
        let mut freshness = Vec::new();
        let mut failures = 0;
        for (source, answer) in sources.iter().zip(answers) {
            match answer {
                Ok(cached) => {
                    freshness.push(cached.freshness);
                    warnings.extend(cached.warning);
                    hits.extend(cached.value);
                }
                Err(err) => {
                    failures += 1;
                    warnings.push(format!("{source} search failed: {err}"));
                }
            }
        }
        if failures == sources.len() {
            return Err(ToolError(format!(
                "no source could answer: {}",
                warnings.join("; ")
            )));
        }
        let mut results = search::rank(query, hits);
        results.truncate(limit);
        let no_confident_match = search::no_confident_match(&results);
        if no_confident_match {
            warnings.push(format!(
                "no confident match for \"{query}\": no result is the food the query names \
                 (every matchScore is under {}); the results are only related — say so, or ask \
                 for a simpler name or the dish's ingredients",
                search::CONFIDENT_MATCH
            ));
        }
        Ok(SearchFoodOutput {
            results,
            no_confident_match,
            data_freshness: overall(&freshness),
            warnings,
        })
    }

    async fn search_source(
        &self,
        source: Source,
        query: &str,
    ) -> Result<Cached<Vec<FoodSummary>>, CacheError> {
        match source {
            Source::Usda => return self.search_usda(query).await,
            Source::Openfoodfacts => return self.cache.search(source, query).await,
            Source::Custom => {}
        }
        // Saved foods are few and local: score them all and keep the ones the query names.
        let saved = self.cache.custom_foods().await?;
        // Scored through the summary, whose analysis ranking then reuses.
        let hits = saved
            .iter()
            .map(|c| summary_of(&c.food))
            .filter(|s| search::summary_match_score(query, s) >= MIN_CUSTOM_MATCH)
            .collect();
        Ok(Cached {
            value: hits,
            freshness: Freshness::Cached,
            warning: None,
        })
    }

    /// The offline catalog and the USDA API together; when the API fails, the catalog's answer
    /// stands with a warning.
    async fn search_usda(&self, query: &str) -> Result<Cached<Vec<FoodSummary>>, CacheError> {
        let local = self.foods.search(query, CATALOG_CANDIDATES);
        match self.cache.search(Source::Usda, query).await {
            Ok(mut remote) => {
                remote.value.extend(local);
                Ok(remote)
            }
            // An imported catalog that finds nothing has still answered: "no such food" is more
            // useful than "no source could answer".
            Err(err) if !local.is_empty() || self.catalog.count().await.unwrap_or(0) > 0 => {
                Ok(Cached {
                    value: local,
                    freshness: Freshness::Cached,
                    warning: Some(format!("{err}; showing the offline USDA catalog only")),
                })
            }
            Err(err) => Err(err),
        }
    }

    /// A USDA food from the offline catalog, when it is there: a memory read.
    /// The catalog's own copy, shared: a catalog measure copies no food.
    fn catalog_food(&self, item: &FoodAmount, id: &str) -> Option<Arc<Food>> {
        let fdc_id = id
            .parse::<i64>()
            .ok()
            .filter(|_| item.source == Source::Usda)?;
        self.foods.get(fdc_id)
    }

    /// Nutrients in `amount unit` of one food.
    pub async fn nutrition(&self, item: &FoodAmount) -> Result<NutritionOutput, ToolError> {
        Ok(self.measure(item).await?.output)
    }

    /// Looks a food up and measures the amount of it: get_nutrition's answer, plus the food and
    /// the unrounded measure that meal sums and diary entries are made of.
    async fn measure(&self, item: &FoodAmount) -> Result<Measured, ToolError> {
        let id = item.food_id.trim();
        if id.is_empty() {
            return Err(ToolError(
                "foodId is empty; use an id from search_food".into(),
            ));
        }
        let cached = match self.catalog_food(item, id) {
            Some(food) => Cached {
                value: food,
                freshness: Freshness::Cached,
                warning: None,
            },
            None => self.cache.food(item.source, id).await?.map(Arc::new),
        };
        let food = cached.value;
        let (measure, caveats) =
            Measure::of(&food, item.amount, item.unit).map_err(|e| ToolError(e.to_string()))?;
        let mut warnings: Vec<String> = cached.warning.into_iter().collect();
        warnings.extend(caveats);
        let output = NutritionOutput {
            food_id: food.id.clone(),
            source: food.source,
            name: food.name.clone(),
            brand: food.brand.clone(),
            amount: item.amount,
            unit: item.unit,
            grams: measure.grams.map(|g| round(g, 2)),
            serving_description: measure.serving_description.clone(),
            nutrients: NutrientReport::from_nutrients(&measure.nutrients),
            data_freshness: cached.freshness,
            warnings,
        };
        Ok(Measured {
            output,
            food,
            measure,
        })
    }

    /// Measures 1 to 100 items in parallel, in input order; the first item that fails fails
    /// them all, named by its index (calculate_meal and log_food answer alike).
    pub async fn measure_all(&self, items: &[FoodAmount]) -> Result<Vec<Measured>, ToolError> {
        if items.is_empty() || items.len() > MAX_MEAL_ITEMS {
            return Err(ToolError(format!(
                "items must hold 1 to {MAX_MEAL_ITEMS} foods, got {}",
                items.len()
            )));
        }
        let measured = join_all(items.iter().map(|item| self.measure(item))).await;
        items
            .iter()
            .zip(measured)
            .enumerate()
            .map(|(index, (item, result))| {
                result.map_err(|ToolError(reason)| {
                    ToolError(format!(
                        "item {index} ({} {}): {reason}",
                        item.source, item.food_id
                    ))
                })
            })
            .collect()
    }

    /// Every item's breakdown and the totals; any failing item fails the whole meal.
    pub async fn meal(&self, items: &[FoodAmount]) -> Result<CalculateMealOutput, ToolError> {
        let measured = self.measure_all(items).await?;
        let amounts: Vec<Nutrients> = measured
            .iter()
            .map(|m| m.measure.nutrients.clone())
            .collect();
        let summary = meal::summarize(&amounts);
        let warnings = item_warnings(&measured);
        let outputs: Vec<NutritionOutput> = measured.into_iter().map(|m| m.output).collect();
        let freshness: Vec<_> = outputs.iter().map(|o| o.data_freshness).collect();
        Ok(CalculateMealOutput {
            items: outputs,
            totals: summary.totals,
            nutrient_coverage: summary.nutrient_coverage,
            data_freshness: overall(&freshness),
            warnings,
        })
    }

    /// Validates and stores a custom food; the same name and brand replace the earlier one.
    pub async fn save(&self, input: SaveFoodInput) -> Result<SaveFoodOutput, ToolError> {
        let food = custom_food(input)?;
        let stored_as = match &food.basis {
            Basis::Per100g => "per 100 g".to_string(),
            Basis::PerServing { amount, unit } => format!("per {amount} {unit}"),
        };
        let saved = self.cache.save_custom(food).await?;
        Ok(SaveFoodOutput {
            id: saved.custom.food.id,
            source: Source::Custom,
            name: saved.custom.food.name,
            brand: saved.custom.food.brand,
            updated: saved.updated,
            stored_as,
        })
    }
}

/// One item looked up and measured.
pub struct Measured {
    /// What get_nutrition answers for it.
    pub output: NutritionOutput,
    /// The food's data as it was read.
    pub food: Arc<Food>,
    /// The amount, converted and scaled, unrounded.
    pub measure: Measure,
}

/// Each item's warnings, prefixed with its index.
pub fn item_warnings(measured: &[Measured]) -> Vec<String> {
    measured
        .iter()
        .enumerate()
        .flat_map(|(i, m)| {
            m.output
                .warnings
                .iter()
                .map(move |w| format!("item {i}: {w}"))
        })
        .collect()
}

/// The worst freshness wins: one stale part makes the answer stale.
fn overall(parts: &[Freshness]) -> Freshness {
    if parts.contains(&Freshness::Stale) {
        Freshness::Stale
    } else if parts.contains(&Freshness::Fresh) {
        Freshness::Fresh
    } else {
        Freshness::Cached
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn summary_of(food: &Food) -> FoodSummary {
    let calories = match food.basis {
        Basis::Per100g => food.nutrients.get(&NutrientKey::Calories).copied(),
        Basis::PerServing { .. } => None,
    };
    FoodSummary {
        id: food.id.clone(),
        source: food.source,
        name: food.name.clone(),
        brand: food.brand.clone(),
        category: food.category.clone(),
        data_type: None,
        calories_per_100g: calories,
        analysis: Default::default(),
        household_measures: 0,
    }
}

/// `custom:` and 16 hex digits of SHA-256 over the lower-cased name and brand: the same food
/// saved twice (in any letter case) gets the same id.
pub fn custom_id(name: &str, brand: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(name.trim().to_lowercase().as_bytes());
    hasher.update([0x1f]);
    hasher.update(brand.unwrap_or("").trim().to_lowercase().as_bytes());
    format!("custom:{}", &hex::encode(hasher.finalize())[..16])
}

fn optional_label(value: Option<String>, field: &str) -> Result<Option<String>, ToolError> {
    let Some(value) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if value.chars().count() > MAX_LABEL_CHARS {
        return Err(ToolError(format!(
            "{field} is longer than {MAX_LABEL_CHARS} characters"
        )));
    }
    Ok(Some(value))
}

/// Turns save_food input into a normalized food: weight servings are stored per 100 g; others
/// per serving (scaled later within their unit family), or per 100 g when the serving's grams
/// are given.
fn custom_food(input: SaveFoodInput) -> Result<Food, ToolError> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ToolError(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let brand = optional_label(input.brand, "brand")?;
    let category = optional_label(input.category, "category")?;

    let serving = &input.serving_size;
    if !serving.amount.is_finite() || serving.amount <= 0.0 {
        return Err(ToolError(format!(
            "servingSize.amount must be a positive number, got {}",
            serving.amount
        )));
    }
    if serving.unit == Unit::Serving {
        return Err(ToolError(
            "servingSize.unit cannot be \"serving\"; say what the serving is, e.g. 1 cup, 40 g or 1 piece".into(),
        ));
    }
    let given_grams = match serving.grams {
        None => None,
        Some(g) if g.is_finite() && g > 0.0 => Some(g),
        Some(g) => {
            return Err(ToolError(format!(
                "servingSize.grams must be a positive number, got {g}"
            )));
        }
    };
    let grams = serving
        .unit
        .grams()
        .map(|per_unit| per_unit * serving.amount)
        .or(given_grams);

    let mut per_serving = Nutrients::new();
    for (key, value) in &input.nutrients {
        let Some(nutrient) = NutrientKey::from_key(key) else {
            let known: Vec<_> = NutrientKey::ALL.iter().map(|n| n.key()).collect();
            return Err(ToolError(format!(
                "unknown nutrient \"{key}\"; known nutrients: {}",
                known.join(", ")
            )));
        };
        if !value.is_finite() || *value < 0.0 || *value > MAX_NUTRIENT_VALUE {
            return Err(ToolError(format!(
                "{key} must be a number from 0 to {MAX_NUTRIENT_VALUE} (in {}), got {value}",
                nutrient.unit()
            )));
        }
        per_serving.insert(nutrient, *value);
    }
    if per_serving.is_empty() {
        return Err(ToolError(
            "nutrients is empty; give at least calories".into(),
        ));
    }

    let description = format!("{} {}", serving.amount, serving.unit);
    let (basis, nutrients, portions) = match grams {
        Some(grams) => {
            let per_100g = per_serving
                .iter()
                .map(|(k, v)| (*k, v * 100.0 / grams))
                .collect();
            // A volume or piece serving with known grams becomes a portion, so cups and pieces
            // still convert.
            let portions = if serving.unit.grams().is_none() {
                vec![Portion {
                    amount: serving.amount,
                    unit: serving.unit.as_str().to_string(),
                    modifier: None,
                    description: description.clone(),
                    grams,
                    parsed: Default::default(),
                }]
            } else {
                vec![]
            };
            (Basis::Per100g, per_100g, portions)
        }
        None => (
            Basis::PerServing {
                amount: serving.amount,
                unit: serving.unit,
            },
            per_serving,
            vec![],
        ),
    };
    Ok(Food {
        id: custom_id(&name, brand.as_deref()),
        source: Source::Custom,
        name,
        brand,
        category,
        data_type: None,
        basis,
        nutrients,
        portions,
        serving: Some(Serving {
            amount: serving.amount,
            unit: serving.unit.as_str().to_string(),
            grams,
            description,
        }),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::tools::types::ServingSizeInput;

    fn input(
        amount: f64,
        unit: Unit,
        grams: Option<f64>,
        nutrients: &[(&str, f64)],
    ) -> SaveFoodInput {
        SaveFoodInput {
            name: "  Overnight Oats ".into(),
            brand: None,
            category: None,
            serving_size: ServingSizeInput {
                amount,
                unit,
                grams,
            },
            nutrients: nutrients
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn custom_ids_ignore_case_and_spacing() {
        assert_eq!(
            custom_id("Overnight Oats", None),
            custom_id(" overnight oats ", Some(""))
        );
        assert_ne!(
            custom_id("Overnight Oats", None),
            custom_id("Overnight Oats", Some("Acme"))
        );
        assert!(custom_id("x", None).starts_with("custom:") && custom_id("x", None).len() == 23);
    }

    #[test]
    fn weight_servings_are_stored_per_100g() {
        let food = custom_food(input(
            40.0,
            Unit::G,
            None,
            &[("calories", 150.0), ("protein_g", 5.0)],
        ))
        .unwrap();
        assert_eq!(food.basis, Basis::Per100g);
        assert_eq!(food.name, "Overnight Oats");
        assert_eq!(food.nutrients[&NutrientKey::Calories], 375.0);
        assert_eq!(food.nutrients[&NutrientKey::ProteinG], 12.5);
        let oz = custom_food(input(1.0, Unit::Oz, None, &[("calories", 100.0)])).unwrap();
        assert!((oz.nutrients[&NutrientKey::Calories] - 100.0 * 100.0 / 28.349523125).abs() < 1e-9);
    }

    #[test]
    fn volume_servings_stay_per_serving_unless_grams_are_given() {
        let cup = custom_food(input(1.0, Unit::Cup, None, &[("calories", 200.0)])).unwrap();
        assert_eq!(
            cup.basis,
            Basis::PerServing {
                amount: 1.0,
                unit: Unit::Cup
            }
        );
        assert_eq!(cup.nutrients[&NutrientKey::Calories], 200.0);
        let weighed =
            custom_food(input(1.0, Unit::Cup, Some(250.0), &[("calories", 200.0)])).unwrap();
        assert_eq!(weighed.basis, Basis::Per100g);
        assert_eq!(weighed.nutrients[&NutrientKey::Calories], 80.0);
        assert_eq!(weighed.portions[0].grams, 250.0);
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let cases = [
            (
                input(0.0, Unit::G, None, &[("calories", 1.0)]),
                "servingSize.amount",
            ),
            (
                input(f64::NAN, Unit::G, None, &[("calories", 1.0)]),
                "servingSize.amount",
            ),
            (
                input(1.0, Unit::Serving, None, &[("calories", 1.0)]),
                "cannot be \"serving\"",
            ),
            (
                input(1.0, Unit::G, None, &[("kcal", 1.0)]),
                "unknown nutrient \"kcal\"",
            ),
            (
                input(1.0, Unit::G, None, &[("calories", -1.0)]),
                "calories must be",
            ),
            (
                input(1.0, Unit::G, None, &[("calories", f64::INFINITY)]),
                "calories must be",
            ),
            (input(1.0, Unit::G, None, &[]), "nutrients is empty"),
            (
                input(1.0, Unit::Cup, Some(-3.0), &[("calories", 1.0)]),
                "servingSize.grams",
            ),
        ];
        for (input, expected) in cases {
            let err = custom_food(input).unwrap_err();
            assert!(err.0.contains(expected), "{err} should mention {expected}");
        }
        let mut long = input(1.0, Unit::G, None, &[("calories", 1.0)]);
        long.name = "x".repeat(201);
        assert!(custom_food(long).unwrap_err().0.contains("name must be"));
    }

    #[test]
    fn freshness_takes_the_worst_part() {
        use Freshness::*;
        assert_eq!(overall(&[Cached, Fresh]), Fresh);
        assert_eq!(overall(&[Cached, Stale, Fresh]), Stale);
        assert_eq!(overall(&[Cached]), Cached);
    }
}
