//! The nutrients food-mcp knows: their public keys, units and USDA nutrient numbers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Nutrient amounts keyed by nutrient, in the nutrient's own unit ([`NutrientKey::unit`]).
/// A missing key means "no data" — never zero.
pub type Nutrients = BTreeMap<NutrientKey, f64>;

macro_rules! nutrient_keys {
    ($( $variant:ident => $key:literal, $unit:literal, [$($nbr:literal),*]; )*) => {
        /// A nutrient. The serialized name is the public key used in tool inputs and outputs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum NutrientKey {
            $( #[serde(rename = $key)] $variant, )*
        }

        impl NutrientKey {
            /// Every nutrient, in display order (the four core nutrients first).
            pub const ALL: &'static [NutrientKey] = &[$(NutrientKey::$variant),*];

            /// The public key, e.g. `"protein_g"`.
            pub fn key(self) -> &'static str {
                match self { $(NutrientKey::$variant => $key,)* }
            }

            /// The unit amounts are expressed in: `kcal`, `g`, `mg` or `mcg`.
            pub fn unit(self) -> &'static str {
                match self { $(NutrientKey::$variant => $unit,)* }
            }

            /// USDA nutrient numbers (`nutrient.number` in the API, `nutrient_nbr` in the CSV) that
            /// carry this nutrient, most preferred first.
            pub fn usda_numbers(self) -> &'static [&'static str] {
                match self { $(NutrientKey::$variant => &[$($nbr),*],)* }
            }
        }
    };
}

nutrient_keys! {
    Calories => "calories", "kcal", ["208", "958", "957"];
    ProteinG => "protein_g", "g", ["203"];
    TotalCarbsG => "total_carbs_g", "g", ["205"];
    TotalFatG => "total_fat_g", "g", ["204"];
    FiberG => "fiber_g", "g", ["291"];
    SugarsG => "sugars_g", "g", ["269", "269.3"];
    AddedSugarsG => "added_sugars_g", "g", ["539"];
    SaturatedFatG => "saturated_fat_g", "g", ["606"];
    MonounsaturatedFatG => "monounsaturated_fat_g", "g", ["645"];
    PolyunsaturatedFatG => "polyunsaturated_fat_g", "g", ["646"];
    TransFatG => "trans_fat_g", "g", ["605"];
    CholesterolMg => "cholesterol_mg", "mg", ["601"];
    SodiumMg => "sodium_mg", "mg", ["307"];
    PotassiumMg => "potassium_mg", "mg", ["306"];
    CalciumMg => "calcium_mg", "mg", ["301"];
    IronMg => "iron_mg", "mg", ["303"];
    MagnesiumMg => "magnesium_mg", "mg", ["304"];
    PhosphorusMg => "phosphorus_mg", "mg", ["305"];
    ZincMg => "zinc_mg", "mg", ["309"];
    VitaminAMcg => "vitamin_a_mcg", "mcg", ["320"];
    VitaminCMg => "vitamin_c_mg", "mg", ["401"];
    VitaminDMcg => "vitamin_d_mcg", "mcg", ["328"];
    VitaminEMg => "vitamin_e_mg", "mg", ["323"];
    VitaminKMcg => "vitamin_k_mcg", "mcg", ["430"];
    ThiaminMg => "thiamin_mg", "mg", ["404"];
    RiboflavinMg => "riboflavin_mg", "mg", ["405"];
    NiacinMg => "niacin_mg", "mg", ["406"];
    VitaminB6Mg => "vitamin_b6_mg", "mg", ["415"];
    FolateMcg => "folate_mcg", "mcg", ["435"];
    VitaminB12Mcg => "vitamin_b12_mcg", "mcg", ["418"];
    WaterG => "water_g", "g", ["255"];
    CaffeineMg => "caffeine_mg", "mg", ["262"];
    AlcoholG => "alcohol_g", "g", ["221"];
}

impl NutrientKey {
    /// The nutrients every answer reports, with `available: false` when a food lacks them.
    pub const CORE: [NutrientKey; 4] = [
        NutrientKey::Calories,
        NutrientKey::ProteinG,
        NutrientKey::TotalCarbsG,
        NutrientKey::TotalFatG,
    ];

    /// Looks a public key up (`"protein_g"` → `ProteinG`).
    pub fn from_key(key: &str) -> Option<NutrientKey> {
        Self::ALL.iter().copied().find(|n| n.key() == key)
    }

    /// The nutrient a USDA nutrient number maps to, with its preference rank (0 = most preferred).
    pub fn from_usda_number(number: &str) -> Option<(NutrientKey, usize)> {
        Self::ALL.iter().find_map(|n| {
            n.usda_numbers()
                .iter()
                .position(|nbr| *nbr == number)
                .map(|rank| (*n, rank))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        for n in NutrientKey::ALL {
            assert_eq!(NutrientKey::from_key(n.key()), Some(*n));
            let json = serde_json::to_string(n).unwrap();
            assert_eq!(json, format!("\"{}\"", n.key()));
        }
        let mut keys: Vec<_> = NutrientKey::ALL.iter().map(|n| n.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), NutrientKey::ALL.len());
    }

    #[test]
    fn energy_prefers_208_then_atwater_specific_then_general() {
        assert_eq!(NutrientKey::from_usda_number("208"), Some((NutrientKey::Calories, 0)));
        assert_eq!(NutrientKey::from_usda_number("958"), Some((NutrientKey::Calories, 1)));
        assert_eq!(NutrientKey::from_usda_number("957"), Some((NutrientKey::Calories, 2)));
        assert_eq!(NutrientKey::from_usda_number("268"), None, "kJ energy is not kcal");
    }
}
