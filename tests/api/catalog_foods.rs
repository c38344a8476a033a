//! The catalog's foods in memory (`CatalogFoods`): the same foods as the SQLite read, replaced when
//! an import commits, kept when one fails; and a running server picking up an import made beside it.

use std::time::Duration;

use food_mcp::catalog::import_command;
use food_mcp::food::nutrients::NutrientKey;
use food_mcp::storage::catalog::CatalogStore;
use food_mcp::storage::catalog_foods::CatalogFoods;

use crate::catalog::{database, eventually, sr_legacy_data, write_dataset};

/// Every food of the real SR Legacy download, read whole into memory, equals what the one-food
/// SQLite read gives for it: names, categories, each nutrient value to the bit, portions in order.
#[tokio::test]
async fn the_snapshot_holds_what_sqlite_holds_for_every_sr_legacy_food() {
    let Some(data) = sr_legacy_data() else { return };
    let (_dir, pool) = database().await;
    import_command(&pool, &data).await.unwrap();
    let foods = CatalogFoods::load(pool.clone()).await.unwrap();
    assert_eq!(foods.len(), 7_793);

    let store = CatalogStore::new(pool.clone());
    let ids: Vec<i64> = sqlx::query_scalar("SELECT fdc_id FROM catalog_food")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), 7_793);
    for id in ids {
        let from_sqlite = store.get_food(id).await.unwrap().unwrap();
        let in_memory = foods.get(id).unwrap();
        assert_eq!(*in_memory, from_sqlite, "food {id}");
        for (key, value) in &from_sqlite.nutrients {
            assert_eq!(
                in_memory.nutrients[key].to_bits(),
                value.to_bits(),
                "{id} {key:?}"
            );
        }
    }
    let banana = foods.get(173944).unwrap();
    assert_eq!(banana.nutrients[&NutrientKey::Calories], 89.0);
    assert!(foods.get(1).is_none(), "no such food");
}

#[tokio::test]
async fn an_import_replaces_the_snapshot_and_a_failed_one_keeps_it() {
    let (dir, pool) = database().await;
    let foods = CatalogFoods::load(pool.clone()).await.unwrap();
    assert!(foods.is_empty(), "nothing imported yet");
    assert!(!foods.refresh().await.unwrap(), "no import, no reload");

    let first = write_dataset(dir.path(), &[(1, "Apples, raw")], "1,1,1008,52\n");
    import_command(&pool, &first).await.unwrap();
    assert!(foods.get(1).is_none(), "read at load, not per lookup");
    assert!(foods.refresh().await.unwrap());
    let apple = foods.get(1).unwrap();
    assert_eq!(apple.nutrients[&NutrientKey::Calories], 52.0);
    assert_eq!(apple.portions[0].grams, 150.0);
    assert!(!foods.refresh().await.unwrap(), "nothing new since");

    let second_dir = tempfile::tempdir().unwrap();
    let failing = write_dataset(
        second_dir.path(),
        &[(2, "Bananas, raw")],
        "1,2,1008,89\n2,2,1003,not-a-number\n",
    );
    import_command(&pool, &failing).await.unwrap_err();
    assert!(
        !foods.refresh().await.unwrap(),
        "a failed import changes nothing"
    );
    assert_eq!(
        foods.get(1).unwrap().nutrients[&NutrientKey::Calories],
        52.0
    );

    let second = write_dataset(second_dir.path(), &[(2, "Bananas, raw")], "1,2,1008,89\n");
    import_command(&pool, &second).await.unwrap();
    assert!(foods.refresh().await.unwrap());
    assert!(
        foods.get(1).is_none(),
        "the previous catalog's foods are gone"
    );
    assert_eq!(foods.get(2).unwrap().name, "Bananas, raw");
    assert_eq!(
        apple.nutrients[&NutrientKey::Calories],
        52.0,
        "a food taken before the swap stays whole"
    );
    let clone = foods.clone();
    assert_eq!(
        clone.get(2).unwrap().name,
        "Bananas, raw",
        "clones share it"
    );
}

/// A server started on an empty catalog answers get_nutrition from it once `food-mcp import usda`
/// (here: the importer on a pool of its own, as another process would) has committed — with the
/// USDA API down, so only the catalog can answer.
#[tokio::test]
async fn a_running_server_picks_up_an_import_made_beside_it() {
    use serde_json::json;
    use wiremock::{Mock, ResponseTemplate, matchers::any};

    use crate::helpers::{assert_close, call, spawn_app_with};

    let (usda, off) = (
        wiremock::MockServer::start().await,
        wiremock::MockServer::start().await,
    );
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&usda)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("food-mcp.db");
    let app = spawn_app_with(dir, usda, off, |config| {
        config.catalog.auto_import = false;
        config.catalog.refresh_every = Duration::from_millis(50);
    })
    .await;
    let client = app.client().await;
    let banana = || async {
        call(
            &client,
            "get_nutrition",
            json!({"foodId": "2", "source": "usda", "amount": 1, "unit": "cup"}),
        )
        .await
    };
    assert_eq!(
        banana().await.is_error,
        Some(true),
        "not in the catalog yet"
    );

    let other = food_mcp::storage::open(&database).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let input = write_dataset(data.path(), &[(2, "Bananas, raw")], "1,2,1008,89\n");
    import_command(&other, &input).await.unwrap();
    other.close().await;

    eventually("the reload after the import", || async {
        banana().await.is_error != Some(true)
    })
    .await;
    let answer = banana().await.structured_content.unwrap();
    assert_eq!(answer["name"], "Bananas, raw");
    assert_close(&answer["nutrients"]["calories"]["value"], 133.5);

    client.cancel().await.unwrap();
    app.stop().await;
}
