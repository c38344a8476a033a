//! Units a tool accepts, and the conversion of `amount unit` of a food into grams or servings.
//!
//! Conversion never guesses: weights convert by exact factors; volumes and descriptive sizes
//! convert only through the food's own portion data (USDA gram weights per household measure);
//! anything else is a [`ConversionError`] that says what is missing and what the person can use.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::food::model::{Basis, Food, Portion, Source};
use crate::food::nutrients::Nutrients;
use crate::food::portion::{self, Meaning};

/// A unit a person measures food in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Unit {
    #[serde(rename = "g", alias = "gram", alias = "grams")]
    G,
    #[serde(rename = "kg")]
    Kg,
    #[serde(rename = "oz", alias = "ounce", alias = "ounces")]
    Oz,
    #[serde(rename = "lb", alias = "lbs", alias = "pound", alias = "pounds")]
    Lb,
    #[serde(rename = "mL", alias = "ml")]
    Ml,
    #[serde(rename = "L", alias = "l")]
    L,
    #[serde(rename = "tsp", alias = "teaspoon")]
    Tsp,
    #[serde(rename = "tbsp", alias = "tablespoon")]
    Tbsp,
    #[serde(rename = "fl_oz", alias = "fl oz")]
    FlOz,
    #[serde(rename = "cup", alias = "cups")]
    Cup,
    #[serde(rename = "piece", alias = "pieces", alias = "each", alias = "item")]
    Piece,
    #[serde(rename = "slice", alias = "slices")]
    Slice,
    #[serde(rename = "small")]
    Small,
    #[serde(rename = "medium")]
    Medium,
    #[serde(rename = "large")]
    Large,
    #[serde(rename = "serving", alias = "servings")]
    Serving,
}

/// Exact avoirdupois factors (grams per unit).
const G_PER_KG: f64 = 1000.0;
const G_PER_OZ: f64 = 28.349523125;
const G_PER_LB: f64 = 453.59237;

/// Exact US customary factors (millilitres per unit).
const ML_PER_L: f64 = 1000.0;
const ML_PER_CUP: f64 = 236.5882365;
const ML_PER_TBSP: f64 = 14.78676478125;
const ML_PER_TSP: f64 = 4.92892159375;
const ML_PER_FL_OZ: f64 = 29.5735295625;

/// The largest multiple of a food's basis one request may ask for (10 t of a per-100 g food):
/// beyond it the amount is a typo, and the products would stop being meaningful numbers.
const MAX_FACTOR: f64 = 100_000.0;

/// How many portions an error message lists before it says "and N more".
const MAX_LISTED_PORTIONS: usize = 8;

impl Unit {
    /// The name a tool accepts and prints, e.g. `"fl_oz"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::G => "g",
            Unit::Kg => "kg",
            Unit::Oz => "oz",
            Unit::Lb => "lb",
            Unit::Ml => "mL",
            Unit::L => "L",
            Unit::Tsp => "tsp",
            Unit::Tbsp => "tbsp",
            Unit::FlOz => "fl_oz",
            Unit::Cup => "cup",
            Unit::Piece => "piece",
            Unit::Slice => "slice",
            Unit::Small => "small",
            Unit::Medium => "medium",
            Unit::Large => "large",
            Unit::Serving => "serving",
        }
    }

    /// Grams in one of this unit, for weight units.
    pub fn grams(self) -> Option<f64> {
        match self {
            Unit::G => Some(1.0),
            Unit::Kg => Some(G_PER_KG),
            Unit::Oz => Some(G_PER_OZ),
            Unit::Lb => Some(G_PER_LB),
            _ => None,
        }
    }

    /// Millilitres in one of this unit, for (US) volume units.
    fn millilitres(self) -> Option<f64> {
        match self {
            Unit::Ml => Some(1.0),
            Unit::L => Some(ML_PER_L),
            Unit::Tsp => Some(ML_PER_TSP),
            Unit::Tbsp => Some(ML_PER_TBSP),
            Unit::FlOz => Some(ML_PER_FL_OZ),
            Unit::Cup => Some(ML_PER_CUP),
            _ => None,
        }
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much of a food a request means, resolved against the food's own data.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// Weight in grams; `None` when the food is recorded per serving by volume or by piece and
    /// its weight is unknown.
    pub grams: Option<f64>,
    /// Multiply the food's basis nutrients by this (grams / 100 for [`Basis::Per100g`]).
    pub factor: f64,
    /// How the amount was converted, for the person to check, e.g.
    /// `1 cup = 244 g (USDA portion "1 cup")`.
    pub description: String,
    /// Caveats the answer should carry, e.g. that several portions matched and which one was used.
    pub warnings: Vec<String>,
}

/// Why `amount unit` of a food cannot be converted. Messages are written for the person: they say
/// what is missing and what to use instead.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConversionError {
    /// NaN, infinite, zero or negative amounts.
    #[error("amount must be a positive number, got {0}")]
    InvalidAmount(f64),
    /// The amount is beyond anything a meal could hold.
    #[error("{amount} {unit} is implausibly large; check the amount")]
    TooLarge { amount: f64, unit: Unit },
    /// A volume was asked for, and the food has no volume portion to take a density from.
    #[error(
        "{food} has no volume data (no cup, tbsp, tsp, fl oz, mL or L portion), so {unit} cannot be \
         converted to grams; {alternatives}"
    )]
    NoVolumeData {
        food: String,
        unit: Unit,
        alternatives: String,
    },
    /// A piece, slice or size was asked for, and no portion of the food names it.
    #[error("{food} has no \"{unit}\" portion; {alternatives}")]
    NoPortion {
        food: String,
        unit: Unit,
        alternatives: String,
    },
    /// `serving` was asked for, and the food defines no serving with a known weight.
    #[error("{food} defines no serving with a known weight; {alternatives}")]
    NoServing { food: String, alternatives: String },
    /// The food is recorded per serving without a weight, and the request is in another unit family.
    #[error(
        "{food} is recorded per {basis} without a weight, so it can be measured only in {allowed}; \
         {unit} cannot be converted"
    )]
    IncompatibleBasis {
        food: String,
        basis: String,
        unit: Unit,
        allowed: String,
    },
    /// The food's own record is unusable (a serving size that is not a positive number).
    #[error("{food} has an invalid serving size ({basis}); it cannot be scaled")]
    InvalidFood { food: String, basis: String },
}

/// Resolves `amount unit` of `food` into grams (when knowable) and a factor for the food's basis
/// nutrients, using only exact factors and the food's own portion data.
pub fn resolve(food: &Food, amount: f64, unit: Unit) -> Result<Quantity, ConversionError> {
    if !amount.is_finite() || amount <= 0.0 {
        return Err(ConversionError::InvalidAmount(amount));
    }
    let quantity = match &food.basis {
        Basis::Per100g => resolve_weight(food, amount, unit).map(|w| Quantity {
            grams: Some(w.grams),
            factor: w.grams / 100.0,
            description: w.description,
            warnings: w.warnings,
        })?,
        Basis::PerServing {
            amount: basis_amount,
            unit: basis_unit,
        } => resolve_per_serving(food, amount, unit, *basis_amount, *basis_unit)?,
    };
    let grams_ok = quantity.grams.is_none_or(f64::is_finite);
    if !quantity.factor.is_finite() || quantity.factor > MAX_FACTOR || !grams_ok {
        return Err(ConversionError::TooLarge { amount, unit });
    }
    Ok(quantity)
}

/// Scales the food's basis nutrients to a resolved quantity. Values stay unrounded so that meal
/// totals are sums of exact amounts; round only for display.
pub fn scale(food: &Food, quantity: &Quantity) -> Nutrients {
    food.nutrients
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (*k, v * quantity.factor))
        .collect()
}

/// A weight in grams with how it was found.
struct Weight {
    grams: f64,
    description: String,
    warnings: Vec<String>,
}

impl Weight {
    fn new(grams: f64, description: String) -> Self {
        Weight {
            grams,
            description,
            warnings: Vec::new(),
        }
    }
}

fn resolve_weight(food: &Food, amount: f64, unit: Unit) -> Result<Weight, ConversionError> {
    if let Some(g) = unit.grams() {
        let grams = amount * g;
        let description = if unit == Unit::G {
            format!("{} g", fmt_num(grams))
        } else {
            format!("{} {unit} = {} g", fmt_num(amount), fmt_num(grams))
        };
        return Ok(Weight::new(grams, description));
    }
    if let Some(ml) = unit.millilitres() {
        // A portion in the requested unit wins over any density: 1 cup of milk is the 244 g USDA
        // weighed, even if its quart portion implies a slightly different density.
        if let Some(weight) = named_portion_weight(food, amount, unit) {
            return Ok(weight);
        }
        let label = format!("{} {unit}", fmt_num(amount));
        return density_weight(food, &label, unit, amount * ml);
    }
    if unit == Unit::Serving {
        return serving_weight(food, amount);
    }
    portion_weight(food, amount, unit)
}

/// Volume → weight without a portion in the requested unit: the density of the food's largest
/// volume portion (fewest rounding digits lost). `label` is what the person asked for ("2 tsp").
fn density_weight(
    food: &Food,
    label: &str,
    unit: Unit,
    millilitres: f64,
) -> Result<Weight, ConversionError> {
    let volume_portions: Vec<(&Portion, f64)> = usable_portions(food)
        .filter_map(|p| portion_volume_ml(p).map(|ml| (p, ml)))
        .collect();
    let Some(&(portion, portion_ml)) = volume_portions.iter().fold(
        None,
        |best: Option<&(&Portion, f64)>, candidate| match best {
            Some(b) if b.1 >= candidate.1 => Some(b),
            _ => Some(candidate),
        },
    ) else {
        return Err(ConversionError::NoVolumeData {
            food: food.name.clone(),
            unit,
            alternatives: alternatives(food),
        });
    };
    let density = portion.grams / portion_ml;
    let grams = millilitres * density;
    let mut weight = Weight::new(
        grams,
        format!(
            "{label} = {} g (density {} g/mL from {} \"{}\" = {} g)",
            fmt_num(grams),
            fmt_num(density),
            portion_origin(food),
            portion_label(portion),
            fmt_num(portion.grams)
        ),
    );
    let (lo, hi) = volume_portions
        .iter()
        .map(|(p, ml)| p.grams / ml)
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), d| {
            (lo.min(d), hi.max(d))
        });
    if hi > lo * 1.05 {
        weight.warnings.push(format!(
            "{}'s volume portions imply densities from {} to {} g/mL (e.g. sliced vs mashed); \
             used \"{}\" — give grams if yours differs",
            food.name,
            fmt_num(lo),
            fmt_num(hi),
            portion_label(portion)
        ));
    }
    Ok(weight)
}

/// `serving` of a per-100 g food: the food's serving weight, else the weight of its serving's own
/// measure (label servings such as "250 mL"), else a portion named "serving".
fn serving_weight(food: &Food, amount: f64) -> Result<Weight, ConversionError> {
    if let Some(serving) = &food.serving {
        let label = if serving.description.trim().is_empty() {
            format!("{} {}", fmt_num(serving.amount), serving.unit)
        } else {
            serving.description.clone()
        };
        if let Some(g) = serving.grams.filter(|g| g.is_finite() && *g > 0.0) {
            let grams = amount * g;
            return Ok(Weight::new(
                grams,
                format!(
                    "{} serving = {} g (serving \"{label}\")",
                    fmt_num(amount),
                    fmt_num(grams)
                ),
            ));
        }
        if serving.amount.is_finite() && serving.amount > 0.0 {
            match portion::parse(&serving.unit).meaning() {
                Some(Meaning::Unit(u)) if u.grams().is_some() || u.millilitres().is_some() => {
                    let mut weight = resolve_weight(food, amount * serving.amount, u)?;
                    weight.description = format!(
                        "{} serving = {} (serving \"{label}\")",
                        fmt_num(amount),
                        weight.description
                    );
                    return Ok(weight);
                }
                Some(Meaning::Volume(ml)) => {
                    let asked = format!("{} serving (\"{label}\")", fmt_num(amount));
                    let millilitres = amount * serving.amount * ml;
                    return density_weight(food, &asked, Unit::Serving, millilitres);
                }
                _ => {}
            }
        }
    }
    named_portion_weight(food, amount, Unit::Serving).ok_or_else(|| ConversionError::NoServing {
        food: food.name.clone(),
        alternatives: alternatives(food),
    })
}

fn portion_weight(food: &Food, amount: f64, unit: Unit) -> Result<Weight, ConversionError> {
    named_portion_weight(food, amount, unit).ok_or_else(|| ConversionError::NoPortion {
        food: food.name.clone(),
        unit,
        alternatives: alternatives(food),
    })
}

/// The weight of `amount` of the portion that names `unit`. Several can (banana: "cup, mashed" and
/// "cup, sliced"): the plainest wins (nothing but the measure, e.g. modifier "cup"), else the first
/// in the source's order, and a warning lists the others so the person can give grams instead.
fn named_portion_weight(food: &Food, amount: f64, unit: Unit) -> Option<Weight> {
    let candidates: Vec<&Portion> = usable_portions(food)
        .filter(|p| portion_names(p, unit))
        .collect();
    let chosen = candidates
        .iter()
        .find(|p| is_plain(p, unit))
        .or_else(|| candidates.first())?;
    let grams = amount / chosen.amount * chosen.grams;
    let mut weight = Weight::new(
        grams,
        format!(
            "{} {unit} = {} g ({} \"{}\")",
            fmt_num(amount),
            fmt_num(grams),
            portion_origin(food),
            portion_label(chosen)
        ),
    );
    if candidates.len() > 1 {
        let others: Vec<String> = candidates
            .iter()
            .filter(|p| !std::ptr::eq(**p, *chosen))
            .map(|p| portion_with_grams(p))
            .collect();
        weight.warnings.push(format!(
            "{} has several {unit} portions; used \"{}\" ({} g per {} {unit}); others: {} — give \
             grams to use another",
            food.name,
            portion_label(chosen),
            fmt_num(chosen.grams),
            fmt_num(chosen.amount),
            others.join("; ")
        ));
    }
    Some(weight)
}

/// Custom foods recorded per serving without a weight scale only within the serving's unit family.
fn resolve_per_serving(
    food: &Food,
    amount: f64,
    unit: Unit,
    basis_amount: f64,
    basis_unit: Unit,
) -> Result<Quantity, ConversionError> {
    let basis = format!("{} {basis_unit}", fmt_num(basis_amount));
    if !basis_amount.is_finite() || basis_amount <= 0.0 {
        return Err(ConversionError::InvalidFood {
            food: food.name.clone(),
            basis,
        });
    }
    let (factor, grams) = if unit == Unit::Serving {
        // One serving is the recorded basis itself, unless the basis is counted in servings.
        let per = if basis_unit == Unit::Serving {
            basis_amount
        } else {
            1.0
        };
        (
            amount / per,
            basis_unit.grams().map(|g| amount / per * basis_amount * g),
        )
    } else if let (Some(a), Some(b)) = (unit.grams(), basis_unit.grams()) {
        (amount * a / (basis_amount * b), Some(amount * a))
    } else if let (Some(a), Some(b)) = (unit.millilitres(), basis_unit.millilitres()) {
        (amount * a / (basis_amount * b), None)
    } else if unit == basis_unit {
        (amount / basis_amount, None)
    } else {
        let allowed = if basis_unit.grams().is_some() {
            "weight units (g, kg, oz, lb) or serving".to_string()
        } else if basis_unit.millilitres().is_some() {
            "volume units (mL, L, tsp, tbsp, fl_oz, cup) or serving".to_string()
        } else if basis_unit == Unit::Serving {
            "serving".to_string()
        } else {
            format!("{basis_unit} or serving")
        };
        return Err(ConversionError::IncompatibleBasis {
            food: food.name.clone(),
            basis,
            unit,
            allowed,
        });
    };
    let description = match grams {
        Some(g) => format!(
            "{} {unit} = {} g = {} × the recorded {basis}",
            fmt_num(amount),
            fmt_num(g),
            fmt_num(factor)
        ),
        None => format!(
            "{} {unit} = {} × the recorded {basis}",
            fmt_num(amount),
            fmt_num(factor)
        ),
    };
    Ok(Quantity {
        grams,
        factor,
        description,
        warnings: Vec::new(),
    })
}

/// Whether one of the portion's texts measures it in `unit` ("cup, sliced" does for cup; "extra
/// large" does not for large).
fn portion_names(p: &Portion, unit: Unit) -> bool {
    p.measures().any(|t| t.unit() == Some(unit))
}

/// A portion is plain for `unit` when none of its texts qualify the measure ("cup" or "1 fl oz",
/// but not "cup, sliced").
fn is_plain(p: &Portion, unit: Unit) -> bool {
    p.measures()
        .filter(|t| !t.blank)
        .all(|t| t.unit() == Some(unit) && !t.qualified)
}

/// Total volume of a portion in mL, when it is a volume measure.
fn portion_volume_ml(p: &Portion) -> Option<f64> {
    p.measures()
        .find_map(|t| match t.meaning? {
            Meaning::Unit(u) => u.millilitres(),
            Meaning::Volume(ml) => Some(ml),
            Meaning::OtherSize => None,
        })
        .map(|ml| ml * p.amount)
}

/// Portions with a positive finite amount and weight; anything else in the data is ignored.
fn usable_portions(food: &Food) -> impl Iterator<Item = &Portion> {
    food.portions
        .iter()
        .filter(|p| p.amount.is_finite() && p.amount > 0.0 && p.grams.is_finite() && p.grams > 0.0)
}

/// How a portion is shown: its description, else amount + measure + qualifier ("0.5 cup chopped").
fn portion_label(p: &Portion) -> String {
    let description = p.description.trim();
    if !description.is_empty() {
        return description.to_string();
    }
    let mut label = fmt_num(p.amount);
    for part in [Some(p.unit.as_str()), p.modifier.as_deref()]
        .into_iter()
        .flatten()
    {
        let part = part.trim();
        if !part.is_empty() && !part.eq_ignore_ascii_case("undetermined") {
            label.push(' ');
            label.push_str(part);
        }
    }
    label
}

fn portion_with_grams(p: &Portion) -> String {
    format!("{} = {} g", portion_label(p), fmt_num(p.grams))
}

fn portion_origin(food: &Food) -> &'static str {
    match food.source {
        Source::Usda => "USDA portion",
        Source::Openfoodfacts | Source::Custom => "portion",
    }
}

/// What the person can use instead: weights always, and the food's portions when it has any.
fn alternatives(food: &Food) -> String {
    let portions: Vec<String> = usable_portions(food).map(portion_with_grams).collect();
    if portions.is_empty() {
        return "use a weight unit (g, kg, oz, lb)".to_string();
    }
    let mut listed = portions
        .iter()
        .take(MAX_LISTED_PORTIONS)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if portions.len() > MAX_LISTED_PORTIONS {
        listed.push_str(&format!(
            "; and {} more",
            portions.len() - MAX_LISTED_PORTIONS
        ));
    }
    format!("use a weight unit (g, kg, oz, lb) or one of its portions: {listed}")
}

/// Four significant digits, trailing zeros trimmed: 244, 14.2, 1.031, 0.125, 28.35.
fn fmt_num(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor();
    let decimals = (3.0 - magnitude).clamp(0.0, 9.0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::food::model::Serving;
    use crate::food::nutrients::NutrientKey;

    /// A USDA SR Legacy portion as the bulk CSV has it: measure unit "undetermined", the measure
    /// in `modifier`, and a description of amount + modifier.
    fn sr(amount: f64, modifier: &str, grams: f64) -> Portion {
        Portion {
            amount,
            unit: "undetermined".into(),
            modifier: Some(modifier.into()),
            description: format!("{} {modifier}", fmt_num(amount)),
            grams,
            parsed: Default::default(),
        }
    }

    fn food(name: &str, portions: Vec<Portion>) -> Food {
        Food {
            id: "1".into(),
            source: Source::Usda,
            name: name.into(),
            brand: None,
            category: None,
            data_type: Some("SR Legacy".into()),
            basis: Basis::Per100g,
            nutrients: [(NutrientKey::Calories, 89.0), (NutrientKey::ProteinG, 1.09)].into(),
            portions,
            serving: None,
        }
    }

    fn banana() -> Food {
        food(
            "Bananas, raw",
            vec![
                sr(1.0, "cup, mashed", 225.0),
                sr(1.0, "cup, sliced", 150.0),
                sr(1.0, "extra small (less than 6\" long)", 81.0),
                sr(1.0, "small (6\" to 6-7/8\" long)", 101.0),
                sr(1.0, "medium (7\" to 7-7/8\" long)", 118.0),
                sr(1.0, "large (8\" to 8-7/8\" long)", 136.0),
                sr(1.0, "extra large (9\" or longer)", 152.0),
                sr(1.0, "NLEA serving", 126.0),
            ],
        )
    }

    fn milk() -> Food {
        food(
            "Milk, whole, 3.25% milkfat, with added vitamin D",
            vec![
                sr(1.0, "cup", 244.0),
                sr(1.0, "fl oz", 30.5),
                sr(1.0, "tbsp", 15.0),
                sr(1.0, "quart", 976.0),
            ],
        )
    }

    fn egg() -> Food {
        food(
            "Egg, whole, raw, fresh",
            vec![
                sr(1.0, "large", 50.0),
                sr(1.0, "extra large", 56.0),
                sr(1.0, "jumbo", 63.0),
                sr(1.0, "cup (4.86 large eggs)", 243.0),
                sr(1.0, "medium", 44.0),
                sr(1.0, "small", 38.0),
            ],
        )
    }

    fn butter() -> Food {
        food(
            "Butter, salted",
            vec![
                sr(1.0, "pat (1\" sq, 1/3\" high)", 5.0),
                sr(1.0, "tbsp", 14.2),
                sr(1.0, "cup", 227.0),
                sr(1.0, "stick", 113.0),
            ],
        )
    }

    fn sugar() -> Food {
        food(
            "Sugars, granulated",
            vec![
                sr(1.0, "serving packet", 2.8),
                sr(1.0, "tsp", 4.2),
                sr(1.0, "cup", 200.0),
                sr(1.0, "serving 1 cube", 2.3),
            ],
        )
    }

    fn apple() -> Food {
        food(
            "Apples, raw, with skin",
            vec![
                sr(1.0, "medium (3\" dia)", 182.0),
                sr(1.0, "large (3-1/4\" dia)", 223.0),
            ],
        )
    }

    fn grams(f: &Food, amount: f64, unit: Unit) -> f64 {
        let q = resolve(f, amount, unit).unwrap();
        q.grams.unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn usda_reference_values() {
        assert!(close(grams(&banana(), 1.0, Unit::Medium), 118.0));
        assert!(close(grams(&milk(), 1.0, Unit::Cup), 244.0));
        assert!(close(grams(&egg(), 1.0, Unit::Large), 50.0));
        assert!(close(grams(&butter(), 1.0, Unit::Tbsp), 14.2));
        assert!(close(grams(&sugar(), 1.0, Unit::Tsp), 4.2));
    }

    #[test]
    fn weights_convert_by_exact_factors_with_factor_per_100g() {
        let f = apple();
        for (unit, g) in [
            (Unit::G, 1.0),
            (Unit::Kg, 1000.0),
            (Unit::Oz, 28.349523125),
            (Unit::Lb, 453.59237),
        ] {
            let q = resolve(&f, 2.0, unit).unwrap();
            assert!(close(q.grams.unwrap(), 2.0 * g), "{unit}");
            assert!(close(q.factor, 2.0 * g / 100.0), "{unit}");
            assert!(q.warnings.is_empty());
        }
        assert_eq!(resolve(&f, 150.0, Unit::G).unwrap().description, "150 g");
        assert_eq!(
            resolve(&f, 1.0, Unit::Oz).unwrap().description,
            "1 oz = 28.35 g"
        );
    }

    #[test]
    fn portion_in_requested_unit_wins_over_density() {
        // Cup 244 g; a quart of 1000 g would imply 250 g per cup. The measured cup wins.
        let mut f = milk();
        f.portions[3].grams = 1000.0;
        let q = resolve(&f, 1.0, Unit::Cup).unwrap();
        assert!(close(q.grams.unwrap(), 244.0));
        assert_eq!(q.description, "1 cup = 244 g (USDA portion \"1 cup\")");
        assert!(close(q.factor, 2.44));
        assert!(close(grams(&f, 2.0, Unit::FlOz), 61.0));
        assert!(close(grams(&f, 0.5, Unit::Tbsp), 7.5));
    }

    #[test]
    fn volume_without_its_own_portion_uses_the_largest_volume_portions_density() {
        let f = milk();
        let density = 976.0 / 946.352946;
        assert!(close(grams(&f, 1.0, Unit::Tsp), 4.92892159375 * density));
        assert!(close(grams(&f, 1.0, Unit::L), 1000.0 * density));
        assert!(close(grams(&f, 250.0, Unit::Ml), 250.0 * density));
        let q = resolve(&f, 1.0, Unit::L).unwrap();
        assert!(
            q.description.contains("density 1.031 g/mL"),
            "{}",
            q.description
        );
        assert!(q.description.contains("\"1 quart\""), "{}", q.description);
        assert!(
            q.warnings.is_empty(),
            "milk's volume portions agree: {:?}",
            q.warnings
        );
        // Butter has no tsp portion: 1 tsp from its cup (227 g / 236.59 mL).
        assert!(close(
            grams(&butter(), 1.0, Unit::Tsp),
            4.92892159375 * 227.0 / 236.5882365
        ));
    }

    #[test]
    fn several_portions_in_the_unit_pick_the_first_and_warn() {
        let q = resolve(&banana(), 1.0, Unit::Cup).unwrap();
        assert!(close(q.grams.unwrap(), 225.0));
        assert_eq!(q.warnings.len(), 1);
        assert!(
            q.warnings[0].contains("cup, sliced = 150 g"),
            "{:?}",
            q.warnings
        );
        // Derived densities that disagree are flagged as well.
        let q = resolve(&banana(), 1.0, Unit::Tbsp).unwrap();
        assert!(close(
            q.grams.unwrap(),
            14.78676478125 * 225.0 / 236.5882365
        ));
        assert!(q.warnings[0].contains("densities"), "{:?}", q.warnings);
    }

    #[test]
    fn a_plain_portion_beats_qualified_ones() {
        let f = food(
            "Onions, raw",
            vec![sr(1.0, "cup, chopped", 160.0), sr(1.0, "cup", 170.0)],
        );
        let q = resolve(&f, 1.0, Unit::Cup).unwrap();
        assert!(close(q.grams.unwrap(), 170.0));
        assert_eq!(q.warnings.len(), 1);
    }

    #[test]
    fn fdc_api_shapes_are_read_too() {
        // Foundation: measure unit named, qualifier in modifier.
        let chopped = Portion {
            amount: 0.5,
            unit: "cup".into(),
            modifier: Some("chopped".into()),
            description: String::new(),
            grams: 80.0,
            parsed: Default::default(),
        };
        // Survey (FNDDS): unit undetermined, a code in modifier, the measure only in the description.
        let medium = Portion {
            amount: 1.0,
            unit: "undetermined".into(),
            modifier: Some("10205".into()),
            description: "1 medium (7\" to 7-7/8\" long)".into(),
            grams: 118.0,
            parsed: Default::default(),
        };
        let f = food("Onions, raw", vec![chopped, medium]);
        assert!(close(grams(&f, 1.0, Unit::Cup), 160.0));
        assert!(close(grams(&f, 2.0, Unit::Medium), 236.0));
    }

    #[test]
    fn sizes_match_only_the_named_size() {
        let f = egg();
        assert!(close(grams(&f, 2.0, Unit::Large), 100.0));
        assert!(close(grams(&f, 1.0, Unit::Medium), 44.0));
        assert!(close(grams(&f, 1.0, Unit::Small), 38.0));
        // "cup (4.86 large eggs)" is a cup, "extra large" is not large: one candidate, no warning.
        assert!(resolve(&f, 1.0, Unit::Large).unwrap().warnings.is_empty());
        assert!(close(grams(&f, 1.0, Unit::Cup), 243.0));
        // Banana: "extra small" is not small.
        assert!(close(grams(&banana(), 1.0, Unit::Small), 101.0));
        assert!(close(grams(&banana(), 1.0, Unit::Large), 136.0));
    }

    #[test]
    fn piece_and_slice_need_a_portion_naming_them() {
        let f = food(
            "Bread, whole-wheat",
            vec![sr(1.0, "slice", 32.0), sr(1.0, "oz", 28.35)],
        );
        assert!(close(grams(&f, 2.0, Unit::Slice), 64.0));
        let f = food("Apricots, raw", vec![sr(1.0, "fruit", 35.0)]);
        assert!(close(grams(&f, 3.0, Unit::Piece), 105.0));
        let each = Portion {
            amount: 1.0,
            unit: "each".into(),
            modifier: None,
            description: "1 each".into(),
            grams: 12.0,
            parsed: Default::default(),
        };
        assert!(close(
            grams(&food("Crackers", vec![each]), 1.0, Unit::Piece),
            12.0
        ));
        // An egg has sizes but no piece portion: an error listing what it has, not a guess.
        let err = resolve(&egg(), 1.0, Unit::Piece).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ConversionError::NoPortion { .. }));
        assert!(
            msg.starts_with("Egg, whole, raw, fresh has no \"piece\" portion; use a weight unit")
        );
        assert!(msg.contains("1 large = 50 g"), "{msg}");
    }

    #[test]
    fn volume_without_volume_portions_is_an_actionable_error() {
        let err = resolve(&apple(), 1.0, Unit::Cup).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apples, raw, with skin has no volume data (no cup, tbsp, tsp, fl oz, mL or L portion), \
             so cup cannot be converted to grams; use a weight unit (g, kg, oz, lb) or one of its \
             portions: 1 medium (3\" dia) = 182 g; 1 large (3-1/4\" dia) = 223 g"
        );
        let bare = food("Mystery", vec![]);
        let msg = resolve(&bare, 1.0, Unit::Ml).unwrap_err().to_string();
        assert!(
            msg.ends_with("; use a weight unit (g, kg, oz, lb)"),
            "{msg}"
        );
        // Weight portions ("oz") are no volume data.
        let f = food("Cheese", vec![sr(1.0, "oz", 28.35)]);
        assert!(matches!(
            resolve(&f, 1.0, Unit::Cup),
            Err(ConversionError::NoVolumeData { .. })
        ));
    }

    #[test]
    fn long_portion_lists_are_cut() {
        let portions = (1..=12)
            .map(|i| sr(1.0, &format!("piece {i}"), i as f64))
            .collect();
        let msg = resolve(&food("Cake", portions), 1.0, Unit::Cup)
            .unwrap_err()
            .to_string();
        assert!(msg.ends_with("; and 4 more"), "{msg}");
    }

    #[test]
    fn serving_uses_the_foods_serving() {
        let mut f = apple();
        f.serving = Some(Serving {
            amount: 1.0,
            unit: "bar".into(),
            grams: Some(40.0),
            description: "1 bar (40 g)".into(),
        });
        let q = resolve(&f, 2.0, Unit::Serving).unwrap();
        assert!(close(q.grams.unwrap(), 80.0));
        assert_eq!(q.description, "2 serving = 80 g (serving \"1 bar (40 g)\")");

        // A label serving by volume without a weight goes through the portions.
        let mut m = milk();
        m.serving = Some(Serving {
            amount: 250.0,
            unit: "ml".into(),
            grams: None,
            description: String::new(),
        });
        assert!(close(
            grams(&m, 1.0, Unit::Serving),
            250.0 * 976.0 / 946.352946
        ));
        // ...and by weight directly.
        m.serving = Some(Serving {
            amount: 1.0,
            unit: "oz".into(),
            grams: None,
            description: String::new(),
        });
        assert!(close(grams(&m, 1.0, Unit::Serving), 28.349523125));
    }

    #[test]
    fn serving_falls_back_to_a_serving_portion_then_errors() {
        assert!(close(grams(&banana(), 1.0, Unit::Serving), 126.0));
        let q = resolve(&sugar(), 1.0, Unit::Serving).unwrap();
        assert!(close(q.grams.unwrap(), 2.8));
        assert!(q.warnings[0].contains("serving 1 cube"), "{:?}", q.warnings);
        let err = resolve(&apple(), 1.0, Unit::Serving).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Apples, raw, with skin defines no serving with a known weight; use")
        );
    }

    fn per_serving(amount: f64, unit: Unit) -> Food {
        let mut f = food("Oat milk", vec![]);
        f.source = Source::Custom;
        f.basis = Basis::PerServing { amount, unit };
        f
    }

    #[test]
    fn per_serving_volume_scales_within_volume() {
        let f = per_serving(1.0, Unit::Cup);
        let q = resolve(&f, 2.0, Unit::Tbsp).unwrap();
        assert_eq!(q.grams, None);
        assert!(close(q.factor, 2.0 * 14.78676478125 / 236.5882365));
        assert!(close(resolve(&f, 1.0, Unit::Serving).unwrap().factor, 1.0));
        assert!(close(
            resolve(&f, 1.0, Unit::L).unwrap().factor,
            1000.0 / 236.5882365
        ));
        let err = resolve(&f, 100.0, Unit::G).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Oat milk is recorded per 1 cup without a weight, so it can be measured only in volume \
             units (mL, L, tsp, tbsp, fl_oz, cup) or serving; g cannot be converted"
        );
        assert!(resolve(&f, 1.0, Unit::Piece).is_err());
    }

    #[test]
    fn per_serving_pieces_scale_only_by_the_same_count() {
        let f = per_serving(2.0, Unit::Piece);
        assert!(close(resolve(&f, 3.0, Unit::Piece).unwrap().factor, 1.5));
        // One serving is the recorded 2 pieces.
        assert!(close(resolve(&f, 1.0, Unit::Serving).unwrap().factor, 1.0));
        let msg = resolve(&f, 1.0, Unit::Slice).unwrap_err().to_string();
        assert!(msg.contains("measured only in piece or serving"), "{msg}");
        assert!(resolve(&f, 1.0, Unit::Cup).is_err());

        let s = per_serving(2.0, Unit::Serving);
        assert!(close(resolve(&s, 1.0, Unit::Serving).unwrap().factor, 0.5));
        assert!(resolve(&s, 1.0, Unit::Piece).is_err());

        let w = per_serving(30.0, Unit::G);
        let q = resolve(&w, 1.0, Unit::Oz).unwrap();
        assert!(close(q.factor, 28.349523125 / 30.0));
        assert!(close(q.grams.unwrap(), 28.349523125));
        assert!(close(
            resolve(&w, 2.0, Unit::Serving).unwrap().grams.unwrap(),
            60.0
        ));
    }

    #[test]
    fn a_broken_basis_is_an_error_not_a_panic() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let f = per_serving(bad, Unit::Cup);
            assert!(matches!(
                resolve(&f, 1.0, Unit::Cup),
                Err(ConversionError::InvalidFood { .. })
            ));
        }
    }

    #[test]
    fn bad_amounts_are_rejected() {
        for bad in [0.0, -1.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = resolve(&milk(), bad, Unit::Cup).unwrap_err();
            assert!(matches!(err, ConversionError::InvalidAmount(_)));
            assert!(
                err.to_string()
                    .starts_with("amount must be a positive number")
            );
        }
        for (amount, unit) in [(1e300, Unit::Lb), (f64::MAX, Unit::G), (1e12, Unit::Cup)] {
            assert!(matches!(
                resolve(&milk(), amount, unit),
                Err(ConversionError::TooLarge { .. })
            ));
        }
        assert!(matches!(
            resolve(&per_serving(1e-300, Unit::Cup), 1.0, Unit::Cup),
            Err(ConversionError::TooLarge { .. })
        ));
        assert!(resolve(&milk(), 1e-300, Unit::G).unwrap().factor > 0.0);
    }

    #[test]
    fn unusable_portions_are_ignored() {
        let f = food(
            "Broken",
            vec![
                sr(0.0, "cup", 100.0),
                sr(1.0, "cup", f64::NAN),
                sr(1.0, "medium", -5.0),
                sr(f64::INFINITY, "large", 5.0),
            ],
        );
        for unit in [Unit::Cup, Unit::Tsp, Unit::Medium, Unit::Large] {
            assert!(resolve(&f, 1.0, unit).is_err(), "{unit}");
        }
    }

    #[test]
    fn half_cup_portions_scale_per_unit() {
        let f = food("Rice, cooked", vec![sr(0.5, "cup", 79.0)]);
        assert!(close(grams(&f, 1.0, Unit::Cup), 158.0));
        let half = Portion {
            description: "½ cup".into(),
            modifier: None,
            unit: "undetermined".into(),
            amount: 0.5,
            grams: 79.0,
            parsed: Default::default(),
        };
        assert!(close(
            grams(&food("Rice", vec![half]), 1.0, Unit::Cup),
            158.0
        ));
    }

    #[test]
    fn scale_multiplies_unrounded_and_drops_non_finite_values() {
        let mut f = banana();
        f.nutrients.insert(NutrientKey::FiberG, f64::NAN);
        let q = resolve(&f, 1.0, Unit::Medium).unwrap();
        let n = scale(&f, &q);
        assert!(close(n[&NutrientKey::Calories], 89.0 * 1.18));
        assert!(close(n[&NutrientKey::ProteinG], 1.09 * 1.18));
        assert!(!n.contains_key(&NutrientKey::FiberG));
    }

    #[test]
    fn unit_names_match_serde() {
        for unit in [
            Unit::G,
            Unit::Kg,
            Unit::Oz,
            Unit::Lb,
            Unit::Ml,
            Unit::L,
            Unit::Tsp,
            Unit::Tbsp,
            Unit::FlOz,
            Unit::Cup,
            Unit::Piece,
            Unit::Slice,
            Unit::Small,
            Unit::Medium,
            Unit::Large,
            Unit::Serving,
        ] {
            let json = serde_json::to_string(&unit).unwrap();
            assert_eq!(json, format!("\"{}\"", unit.as_str()));
        }
    }

    #[test]
    fn numbers_print_with_four_significant_digits() {
        assert_eq!(fmt_num(244.0), "244");
        assert_eq!(fmt_num(14.2), "14.2");
        assert_eq!(fmt_num(0.125), "0.125");
        assert_eq!(fmt_num(28.349523125), "28.35");
        assert_eq!(fmt_num(1.0313), "1.031");
        assert_eq!(fmt_num(12345.6), "12346");
        assert_eq!(fmt_num(0.0), "0");
    }

    /// Milk as the food cache and diary snapshots store it (the JSON `Food` was written as before
    /// portions kept their read measures).
    fn stored_milk() -> serde_json::Value {
        let portion = |modifier: &str, grams: f64| {
            serde_json::json!({
                "amount": 1.0,
                "unit": "undetermined",
                "modifier": modifier,
                "description": format!("1 {modifier}"),
                "grams": grams,
            })
        };
        serde_json::json!({
            "id": "1",
            "source": "usda",
            "name": "Milk, whole, 3.25% milkfat, with added vitamin D",
            "dataType": "SR Legacy",
            "basis": { "kind": "per100g" },
            "nutrients": { "calories": 89.0, "protein_g": 1.09 },
            "portions": [
                portion("cup", 244.0),
                portion("fl oz", 30.5),
                portion("tbsp", 15.0),
                portion("quart", 976.0),
            ],
        })
    }

    #[test]
    fn a_food_is_stored_the_same_and_resolves_identically_after_a_round_trip() {
        let written = milk();
        assert_eq!(serde_json::to_value(&written).unwrap(), stored_milk());
        for food in [milk(), banana(), egg(), butter(), sugar(), apple()] {
            let read: Food = serde_json::from_str(&serde_json::to_string(&food).unwrap()).unwrap();
            assert_eq!(read, food);
            for unit in [
                Unit::G,
                Unit::Tsp,
                Unit::Tbsp,
                Unit::FlOz,
                Unit::Cup,
                Unit::L,
                Unit::Piece,
                Unit::Slice,
                Unit::Small,
                Unit::Medium,
                Unit::Large,
                Unit::Serving,
            ] {
                let (before, after) = (resolve(&food, 1.5, unit), resolve(&read, 1.5, unit));
                assert_eq!(before, after, "{} {unit}", food.name);
                if let (Ok(b), Ok(a)) = (&before, &after) {
                    assert_eq!(b.factor.to_bits(), a.factor.to_bits());
                    assert_eq!(b.grams.map(f64::to_bits), a.grams.map(f64::to_bits));
                }
            }
            // Resolving reads the portions' texts; what is written stays the stored form.
            assert_eq!(
                serde_json::to_value(&read).unwrap(),
                serde_json::to_value(&food).unwrap()
            );
        }
        let resolved: Food = serde_json::from_value(stored_milk()).unwrap();
        resolve(&resolved, 1.0, Unit::Cup).unwrap();
        assert_eq!(serde_json::to_value(&resolved).unwrap(), stored_milk());
    }
}
