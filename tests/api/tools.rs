//! The food tools through a real MCP client: happy paths, error paths, stale data, restarts.

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{header, method, path},
};

use crate::helpers::{
    assert_close, call_err, call_ok, fixture, spawn_app, spawn_app_with, text_of,
};

async fn mock_usda_food(app: &crate::helpers::TestApp, id: &str, file: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/food/{id}")))
        .and(header("X-Api-Key", "test-usda-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture(file)))
        .mount(&app.usda)
        .await;
}

fn banana(amount: f64, unit: &str) -> Value {
    json!({ "foodId": "173944", "source": "usda", "amount": amount, "unit": unit })
}

#[tokio::test]
async fn tools_list_declares_every_tool_with_schemas() {
    let app = spawn_app().await;
    let client = app.client().await;
    let info = client.peer_info().expect("initialized");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("food-mcp")
    );
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "calculate_meal",
            "delete_diary_entry",
            "get_diary",
            "get_goals",
            "get_nutrition",
            "log_food",
            "save_food",
            "search_food",
            "set_goals",
            "update_diary_entry"
        ]
    );
    for tool in &tools {
        assert!(
            tool.output_schema.is_some(),
            "{} declares an output schema",
            tool.name
        );
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 40),
            "{} is described",
            tool.name
        );
    }
    let get = tools.iter().find(|t| t.name == "get_nutrition").unwrap();
    let schema = serde_json::to_string(&get.input_schema).unwrap();
    for word in ["foodId", "fl_oz", "medium", "serving"] {
        assert!(
            schema.contains(word),
            "get_nutrition's schema teaches {word}"
        );
    }
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn get_nutrition_scales_a_usda_food() {
    let app = spawn_app().await;
    mock_usda_food(&app, "173944", "usda/food-173944-sr-legacy-banana.json").await;
    let client = app.client().await;

    let grams = call_ok(&client, "get_nutrition", banana(150.0, "g")).await;
    assert_eq!(grams["name"], "Bananas, raw");
    assert_close(&grams["grams"], 150.0);
    assert_close(&grams["nutrients"]["calories"]["value"], 133.5);
    assert_eq!(grams["nutrients"]["calories"]["unit"], "kcal");
    assert_eq!(grams["nutrients"]["calories"]["available"], true);
    assert_eq!(grams["dataFreshness"], "fresh");

    let medium = call_ok(&client, "get_nutrition", banana(1.0, "medium")).await;
    assert_close(&medium["grams"], 118.0);
    assert_close(&medium["nutrients"]["calories"]["value"], 105.0);
    assert_eq!(medium["dataFreshness"], "cached");

    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn get_nutrition_errors_say_what_is_wrong() {
    let app = spawn_app().await;
    mock_usda_food(&app, "173944", "usda/food-173944-sr-legacy-banana.json").await;
    Mock::given(method("GET"))
        .and(path("/food/999999"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.usda)
        .await;
    let client = app.client().await;

    let unknown = call_err(
        &client,
        "get_nutrition",
        json!({"foodId": "999999", "source": "usda", "amount": 1, "unit": "g"}),
    )
    .await;
    assert!(unknown.contains("999999"), "{unknown}");
    let bad_unit = call_err(&client, "get_nutrition", banana(1.0, "handful")).await;
    assert!(
        bad_unit.contains("invalid arguments") && bad_unit.contains("handful"),
        "{bad_unit}"
    );
    let negative = call_err(&client, "get_nutrition", banana(-5.0, "g")).await;
    assert!(negative.contains("positive"), "{negative}");
    let no_slice = call_err(&client, "get_nutrition", banana(1.0, "slice")).await;
    assert!(no_slice.contains("slice"), "{no_slice}");

    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn calculate_meal_sums_items_and_names_a_failing_one() {
    let app = spawn_app().await;
    mock_usda_food(&app, "173944", "usda/food-173944-sr-legacy-banana.json").await;
    mock_usda_food(&app, "171265", "usda/food-171265-sr-legacy-whole-milk.json").await;
    let client = app.client().await;
    let milk = json!({ "foodId": "171265", "source": "usda", "amount": 1, "unit": "cup" });

    let meal = call_ok(
        &client,
        "calculate_meal",
        json!({ "items": [banana(118.0, "g"), milk.clone()] }),
    )
    .await;
    let items = meal["items"].as_array().unwrap();
    assert_close(&items[1]["grams"], 244.0);
    let banana_kcal = items[0]["nutrients"]["calories"]["value"].as_f64().unwrap();
    let milk_kcal = items[1]["nutrients"]["calories"]["value"].as_f64().unwrap();
    let total = meal["totals"]["calories"]["value"].as_f64().unwrap();
    assert!(
        (total - (banana_kcal + milk_kcal)).abs() < 0.11,
        "{total} ≈ {banana_kcal} + {milk_kcal}"
    );
    assert!(meal["nutrientCoverage"].is_object());

    let failed = call_err(
        &client,
        "calculate_meal",
        json!({ "items": [milk, banana(1.0, "slice")] }),
    )
    .await;
    assert!(failed.contains("item 1"), "{failed}");

    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn search_merges_sources_and_turns_a_failing_one_into_a_warning() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/foods/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("usda/foods-search-banana.json")),
        )
        .mount(&app.usda)
        .await;
    Mock::given(method("GET"))
        .and(path("/cgi/search.pl"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.off)
        .await;
    let client = app.client().await;
    call_ok(&client, "save_food", json!({
        "name": "Banana bread (home)", "servingSize": { "amount": 1, "unit": "slice", "grams": 60 },
        "nutrients": { "calories": 196, "protein_g": 2.6, "total_carbs_g": 33, "total_fat_g": 6.3 }
    }))
    .await;

    let found = call_ok(
        &client,
        "search_food",
        json!({ "query": "banana", "limit": 5 }),
    )
    .await;
    let results = found["results"].as_array().unwrap();
    assert!(results.len() <= 5 && results.len() >= 3, "{results:?}");
    assert_eq!(results[0]["source"], "custom", "saved foods come first");
    assert!(
        results
            .iter()
            .any(|r| r["id"] == "173944" && r["source"] == "usda")
    );
    let warnings = found["warnings"].to_string();
    assert!(warnings.contains("openfoodfacts"), "{warnings}");

    let only_usda = call_ok(
        &client,
        "search_food",
        json!({ "query": "banana", "source": "usda" }),
    )
    .await;
    assert!(
        only_usda["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] == "usda")
    );
    let empty = call_err(&client, "search_food", json!({ "query": "   " })).await;
    assert!(empty.contains("empty"), "{empty}");

    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn save_food_upserts_and_the_saved_food_is_usable() {
    let app = spawn_app().await;
    let client = app.client().await;
    let oats = json!({
        "name": "Overnight oats", "servingSize": { "amount": 250, "unit": "g" },
        "nutrients": { "calories": 350, "protein_g": 15, "total_carbs_g": 50, "total_fat_g": 9 }
    });
    let saved = call_ok(&client, "save_food", oats).await;
    let id = saved["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("custom:"));
    assert_eq!(saved["updated"], false);
    assert_eq!(saved["storedAs"], "per 100 g");

    let again = call_ok(
        &client,
        "save_food",
        json!({
            "name": "OVERNIGHT OATS", "servingSize": { "amount": 250, "unit": "g" },
            "nutrients": { "calories": 400 }
        }),
    )
    .await;
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["updated"], true);

    let eaten = call_ok(
        &client,
        "get_nutrition",
        json!({ "foodId": id, "source": "custom", "amount": 125, "unit": "g" }),
    )
    .await;
    assert_close(&eaten["nutrients"]["calories"]["value"], 200.0);
    assert_eq!(
        eaten["nutrients"]["protein_g"]["available"], false,
        "the update replaced the food"
    );

    let bad = call_err(
        &client,
        "save_food",
        json!({
            "name": "x", "servingSize": { "amount": 1, "unit": "g" }, "nutrients": { "sugar": 1 }
        }),
    )
    .await;
    assert!(bad.contains("unknown nutrient \"sugar\""), "{bad}");

    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_food_saved_after_a_search_is_found_by_the_next_one() {
    let app = spawn_app().await;
    let client = app.client().await;
    // The first search reads the saved foods into the food cache's memory.
    let before = call_ok(
        &client,
        "search_food",
        json!({ "query": "granola", "source": "custom" }),
    )
    .await;
    assert_eq!(before["results"], json!([]));
    call_ok(
        &client,
        "save_food",
        json!({
            "name": "Honey granola", "servingSize": { "amount": 50, "unit": "g" },
            "nutrients": { "calories": 230, "protein_g": 5, "total_carbs_g": 32, "total_fat_g": 9 }
        }),
    )
    .await;
    let after = call_ok(
        &client,
        "search_food",
        json!({ "query": "granola", "source": "custom" }),
    )
    .await;
    let results = after["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["name"], "Honey granola");
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn upstream_down_serves_stale_data_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (usda, off) = (
        wiremock::MockServer::start().await,
        wiremock::MockServer::start().await,
    );
    // Everything expires at once, so the second call must go upstream again.
    let app = spawn_app_with(dir, usda, off, |c| {
        c.cache.usda_ttl = std::time::Duration::ZERO
    })
    .await;
    Mock::given(method("GET"))
        .and(path("/food/173944"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("usda/food-173944-sr-legacy-banana.json")),
        )
        .up_to_n_times(1)
        .mount(&app.usda)
        .await;
    Mock::given(method("GET"))
        .and(path("/food/173944"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.usda)
        .await;
    let client = app.client().await;
    let fresh = call_ok(&client, "get_nutrition", banana(100.0, "g")).await;
    assert_eq!(fresh["dataFreshness"], "fresh");
    let stale = call_ok(&client, "get_nutrition", banana(100.0, "g")).await;
    assert_eq!(stale["dataFreshness"], "stale");
    assert_close(&stale["nutrients"]["calories"]["value"], 89.0);
    assert!(
        stale["warnings"].to_string().contains("unavailable"),
        "{}",
        stale["warnings"]
    );

    // Nothing cached and the upstream down: a clear error.
    Mock::given(method("GET"))
        .and(path("/food/171265"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.usda)
        .await;
    let result = crate::helpers::call(
        &client,
        "get_nutrition",
        json!({"foodId": "171265", "source": "usda", "amount": 1, "unit": "g"}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    assert!(text_of(&result).contains("unavailable"));

    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_restart_on_the_same_database_keeps_saved_foods_and_the_cache() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/food/173944"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("usda/food-173944-sr-legacy-banana.json")),
        )
        .expect(1)
        .mount(&app.usda)
        .await;
    let client = app.client().await;
    call_ok(&client, "get_nutrition", banana(100.0, "g")).await;
    let saved = call_ok(&client, "save_food", json!({
        "name": "Protein bar", "brand": "Acme", "servingSize": { "amount": 1, "unit": "piece", "grams": 40 },
        "nutrients": { "calories": 200 }
    }))
    .await;
    client.cancel().await.unwrap();

    let (dir, usda, off) = app.stop().await;
    let app = spawn_app_with(dir, usda, off, |_| {}).await;
    let client = app.client().await;
    let banana = call_ok(&client, "get_nutrition", banana(100.0, "g")).await;
    assert_eq!(
        banana["dataFreshness"], "cached",
        "answered from the database, not upstream"
    );
    let bar = call_ok(
        &client,
        "get_nutrition",
        json!({ "foodId": saved["id"], "source": "custom", "amount": 2, "unit": "piece" }),
    )
    .await;
    assert_close(&bar["nutrients"]["calories"]["value"], 400.0);
    client.cancel().await.unwrap();
    app.stop().await; // the mock's expect(1) is verified when it drops
}

#[tokio::test]
async fn tool_schemas_use_only_standard_json_schema_formats() {
    let app = spawn_app().await;
    let client = app.client().await;
    for tool in client.list_all_tools().await.unwrap() {
        let schemas = serde_json::to_string(&(&tool.input_schema, &tool.output_schema)).unwrap();
        for rust_format in ["\"uint", "\"int32", "\"int64", "\"double", "\"float"] {
            assert!(
                !schemas.contains(&format!("\"format\":{rust_format}")),
                "{} has a {rust_format} format",
                tool.name
            );
        }
        assert!(
            !schemas.contains("[`"),
            "{}: rustdoc link syntax leaked into a schema",
            tool.name
        );
    }
    client.cancel().await.unwrap();
    app.stop().await;
}
