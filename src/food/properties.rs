//! Property tests of the nutrition arithmetic and the search score: conversion and scaling are
//! linear (scaling by a then b is scaling by a·b), and a match score stays in [0, 1] for any text.

use proptest::prelude::*;

use crate::food::model::{Basis, Food, Portion, Source};
use crate::food::nutrients::{NutrientKey, Nutrients};
use crate::food::search::match_score;
use crate::food::units::{Unit, resolve, scale};

/// Relative tolerance of one f64 multiplication chain; "exact" up to rounding of the last bits.
const REL: f64 = 1e-12;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= REL * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

/// A food per 100 g with a volume and a size portion, as USDA foods have.
fn food(kcal: f64, protein: f64, cup_grams: f64, medium_grams: f64) -> Food {
    let portion = |unit: &str, grams: f64| Portion {
        amount: 1.0,
        unit: unit.into(),
        modifier: None,
        description: format!("1 {unit}"),
        grams,
        parsed: Default::default(),
    };
    Food {
        id: "1".into(),
        source: Source::Usda,
        name: "Test food, raw".into(),
        brand: None,
        category: None,
        data_type: None,
        basis: Basis::Per100g,
        nutrients: Nutrients::from([
            (NutrientKey::Calories, kcal),
            (NutrientKey::ProteinG, protein),
        ]),
        portions: vec![portion("cup", cup_grams), portion("medium", medium_grams)],
        serving: None,
    }
}

fn units() -> impl Strategy<Value = Unit> {
    prop::sample::select(vec![
        Unit::G,
        Unit::Kg,
        Unit::Oz,
        Unit::Lb,
        Unit::Ml,
        Unit::Tbsp,
        Unit::Cup,
        Unit::Medium,
    ])
}

proptest! {
    #[test]
    fn resolving_is_linear_in_the_amount(
        kcal in 0.0..900.0f64,
        cup in 1.0..500.0f64,
        medium in 1.0..500.0f64,
        unit in units(),
        a in 0.01..50.0f64,
        b in 0.01..50.0f64,
    ) {
        let food = food(kcal, 1.0, cup, medium);
        let one = resolve(&food, a, unit).unwrap();
        let both = resolve(&food, a * b, unit).unwrap();
        prop_assert!(close(one.factor * b, both.factor), "{} * {b} vs {}", one.factor, both.factor);
        let (g1, g2) = (one.grams.unwrap(), both.grams.unwrap());
        prop_assert!(close(g1 * b, g2));
        prop_assert!(close(one.factor, g1 / 100.0));
    }

    #[test]
    fn scaling_by_a_then_b_is_scaling_by_a_times_b(
        kcal in 0.0..900.0f64,
        protein in 0.0..100.0f64,
        unit in units(),
        a in 0.01..50.0f64,
        b in 0.01..50.0f64,
    ) {
        let food = food(kcal, protein, 240.0, 118.0);
        let by_a = scale(&food, &resolve(&food, a, unit).unwrap());
        let by_ab = scale(&food, &resolve(&food, a * b, unit).unwrap());
        prop_assert_eq!(by_a.len(), by_ab.len());
        for (key, value) in &by_a {
            prop_assert!(close(value * b, by_ab[key]), "{key:?}: {} vs {}", value * b, by_ab[key]);
        }
    }

    #[test]
    fn bad_amounts_are_refused_never_scaled(amount in prop_oneof![
        Just(0.0), Just(-0.0), Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY),
        -1e9..0.0f64,
    ], unit in units()) {
        prop_assert!(resolve(&food(100.0, 1.0, 240.0, 118.0), amount, unit).is_err());
    }

    #[test]
    fn match_score_stays_in_the_unit_interval(
        query in ".{0,60}",
        name in ".{0,120}",
        brand in proptest::option::of(".{0,40}"),
    ) {
        let score = match_score(&query, &name, brand.as_deref());
        prop_assert!((0.0..=1.0).contains(&score), "{score} for {query:?} / {name:?}");
    }

    #[test]
    fn match_score_stays_in_the_unit_interval_for_food_like_words(
        query in "[a-z ,]{0,40}",
        name in "[A-Za-z ,()0-9%]{0,80}",
    ) {
        let score = match_score(&query, &name, None);
        prop_assert!((0.0..=1.0).contains(&score), "{score} for {query:?} / {name:?}");
    }
}
