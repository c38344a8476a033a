//! Offline catalog: import into a temp SQLite database and read back through `CatalogStore`, then
//! through the tools with the USDA API unreachable.

use std::fs;
use std::path::{Path, PathBuf};

use food_mcp::catalog::{ImportError, import_command};
use food_mcp::food::model::FoodSummary;
use food_mcp::food::nutrients::NutrientKey;
use food_mcp::sources::FoodSource;
use food_mcp::storage::catalog::CatalogStore;
use food_mcp::storage::catalog_foods::CatalogFoods;
use sqlx::SqlitePool;
use tempfile::TempDir;

/// A fresh, fully migrated database in a temp folder.
pub(crate) async fn database() -> (TempDir, SqlitePool) {
    let dir = tempfile::tempdir().unwrap();
    let pool = food_mcp::storage::open(&dir.path().join("test.db"))
        .await
        .unwrap();
    (dir, pool)
}

const NUTRIENTS: &str = "\"id\",\"name\",\"unit_name\",\"nutrient_nbr\",\"rank\"\n\
    \"1008\",\"Energy\",\"KCAL\",\"208\",\"300\"\n\
    \"2048\",\"Energy (Atwater Specific Factors)\",\"KCAL\",\"958\",\"280\"\n\
    \"1003\",\"Protein\",\"G\",\"203\",\"600\"\n";

/// Writes a small download in the split layout of the shared data (tables + `supporting/`).
pub(crate) fn write_dataset(
    dir: &Path,
    foods: &[(i64, &str)],
    food_nutrient_rows: &str,
) -> PathBuf {
    let root = dir.join("download");
    let supporting = root.join("supporting");
    fs::create_dir_all(&supporting).unwrap();
    let mut food = String::from("fdc_id,data_type,description,food_category_id,publication_date\n");
    let mut portions = String::from(
        "id,fdc_id,seq_num,amount,measure_unit_id,portion_description,modifier,gram_weight\n",
    );
    for (i, (id, name)) in foods.iter().enumerate() {
        food.push_str(&format!("{id},sr_legacy_food,\"{name}\",9,2019-04-01\n"));
        portions.push_str(&format!("{i},{id},1,1,9999,,\"cup, sliced\",150\n"));
    }
    fs::write(root.join("food.csv"), food).unwrap();
    fs::write(root.join("food_portion.csv"), portions).unwrap();
    fs::write(
        root.join("food_nutrient.csv"),
        format!("id,fdc_id,nutrient_id,amount\n{food_nutrient_rows}"),
    )
    .unwrap();
    fs::write(supporting.join("nutrient.csv"), NUTRIENTS).unwrap();
    fs::write(
        supporting.join("measure_unit.csv"),
        "id,name\n9999,undetermined\n",
    )
    .unwrap();
    fs::write(
        supporting.join("food_category.csv"),
        "id,code,description\n9,0900,Fruits and Fruit Juices\n",
    )
    .unwrap();
    root
}

#[tokio::test]
async fn import_then_read_back_and_search() {
    let (dir, pool) = database().await;
    // Energy 958 comes before 208 for food 1 and after it for food 2: 208 must win both times.
    let input = write_dataset(
        dir.path(),
        &[(1, "Apples, raw, with skin"), (2, "Bananas, raw")],
        "1,1,2048,50\n2,1,1008,52\n3,1,1003,0.26\n4,2,1008,89\n5,2,2048,97\n6,3,1008,1\n",
    );
    let summary = import_command(&pool, &input).await.unwrap();
    assert_eq!(summary.foods(), 2);
    assert_eq!(summary.nutrients, 3);
    assert_eq!(summary.portions, 2);
    assert_eq!(summary.skipped.nutrient_rows_unknown_food, 1);
    println!("{summary}");

    let store = CatalogStore::new(pool.clone());
    assert_eq!(store.count().await.unwrap(), 2);
    let apple = store.get_food(1).await.unwrap().unwrap();
    assert_eq!(apple.nutrients[&NutrientKey::Calories], 52.0);
    assert_eq!(apple.nutrients[&NutrientKey::ProteinG], 0.26);
    assert_eq!(apple.category.as_deref(), Some("Fruits and Fruit Juices"));
    assert_eq!(apple.data_type.as_deref(), Some("SR Legacy"));
    assert_eq!(
        (apple.portions[0].unit.as_str(), apple.portions[0].grams),
        ("cup", 150.0)
    );
    let banana = store.get_food(2).await.unwrap().unwrap();
    assert_eq!(banana.nutrients[&NutrientKey::Calories], 89.0);
    assert_eq!(store.get_food(3).await.unwrap(), None);

    let hits = search(&pool, "banana", 10).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].id.as_str(), hits[0].calories_per_100g),
        ("2", Some(89.0))
    );
    // Prefix matching, and "any word" fills up when no food has every word.
    assert_eq!(search(&pool, "app", 10).await[0].id, "1");
    let either = search(&pool, "apple banana", 10).await;
    assert_eq!(either.len(), 2);
    assert!(
        search(&pool, "fruit", 10).await.len() == 2,
        "category is searchable"
    );
    assert!(search(&pool, "\"*) OR", 10).await.is_empty());
    assert_eq!(search(&pool, "raw", 1).await.len(), 1);
}

#[tokio::test]
async fn a_failed_import_leaves_the_previous_catalog_and_a_good_one_replaces_it() {
    let (dir, pool) = database().await;
    let store = CatalogStore::new(pool.clone());
    let first = write_dataset(dir.path(), &[(1, "Apples, raw")], "1,1,1008,52\n");
    import_command(&pool, &first).await.unwrap();

    // Enough good rows to fill several batches before the bad one, so rows were written when it fails.
    let second_dir = tempfile::tempdir().unwrap();
    let foods: Vec<(i64, String)> = (10..3010).map(|id| (id, format!("Food {id}"))).collect();
    let foods: Vec<(i64, &str)> = foods
        .iter()
        .map(|(id, name)| (*id, name.as_str()))
        .collect();
    let mut rows: String = (10..3010)
        .map(|id| format!("{id},{id},1008,100\n"))
        .collect();
    rows.push_str("9999,10,1003,not-a-number\n");
    let second = write_dataset(second_dir.path(), &foods, &rows);
    let err = import_command(&pool, &second).await.unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::MalformedRow {
                file: "food_nutrient.csv",
                line: 3002,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(store.count().await.unwrap(), 1, "previous catalog intact");
    assert_eq!(
        store.get_food(1).await.unwrap().unwrap().nutrients[&NutrientKey::Calories],
        52.0
    );
    assert_eq!(search(&pool, "apples", 5).await.len(), 1);

    rows.truncate(rows.rfind("9999,").unwrap());
    let second = write_dataset(second_dir.path(), &foods, &rows);
    let summary = import_command(&pool, &second).await.unwrap();
    assert_eq!(summary.foods(), 3000);
    assert_eq!(store.count().await.unwrap(), 3000);
    assert_eq!(store.get_food(1).await.unwrap(), None, "old foods are gone");
    assert!(
        search(&pool, "apples", 5).await.is_empty(),
        "search index rebuilt"
    );
    assert_eq!(search(&pool, "food 2999", 5).await[0].id, "2999");
}

#[tokio::test]
async fn input_errors_are_clear() {
    let (dir, pool) = database().await;
    let missing = wiremock::MockServer::start().await;
    let url = format!(
        "{}/FoodData_Central_sr_legacy_food_csv_2018-04.zip",
        missing.uri()
    );
    let err = import_command(&pool, Path::new(&url)).await.unwrap_err();
    assert!(matches!(err, ImportError::Download { .. }), "{err}");
    assert!(
        err.to_string().contains("HTTP 404") && err.to_string().contains("curl -LO"),
        "{err}"
    );

    let err = import_command(&pool, &dir.path().join("nope.zip"))
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Io { .. }), "{err}");

    let not_zip = dir.path().join("food.zip");
    fs::write(&not_zip, "hello").unwrap();
    let err = import_command(&pool, &not_zip).await.unwrap_err();
    assert!(matches!(err, ImportError::Zip { .. }), "{err}");

    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let err = import_command(&pool, &empty).await.unwrap_err();
    assert!(matches!(err, ImportError::NotADataset(_)), "{err}");

    let input = write_dataset(dir.path(), &[(1, "Apples, raw")], "1,1,1008,52\n");
    fs::remove_file(input.join("supporting/nutrient.csv")).unwrap();
    let err = import_command(&pool, &input).await.unwrap_err();
    assert!(
        err.to_string().starts_with("nutrient.csv is missing from"),
        "{err}"
    );
}

/// A small download (apples and bananas) zipped and served by a mock at `{uri}/download.zip`.
async fn serve_download() -> (wiremock::MockServer, String) {
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let folder = write_dataset(
        dir.path(),
        &[(1, "Apples, raw"), (2, "Bananas, raw")],
        "1,1,1008,52\n2,2,1008,89\n",
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in walk(&folder) {
        let name = entry
            .strip_prefix(&folder)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&fs::read(&entry).unwrap()).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/download.zip"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_bytes(bytes))
        .mount(&server)
        .await;
    let url = format!("{}/download.zip", server.uri());
    (server, url)
}

/// A download URL is fetched (streamed to a temporary file) and imported like a local zip.
#[tokio::test]
async fn a_download_url_is_fetched_and_imported() {
    let (_dir, pool) = database().await;
    let (_server, url) = serve_download().await;
    let summary = import_command(&pool, Path::new(&url)).await.unwrap();
    assert_eq!(summary.foods(), 2);
    assert_eq!(CatalogStore::new(pool).count().await.unwrap(), 2);
}

/// Polls `done` (every 50 ms, at most ~20 s): background work has no completion signal.
pub(crate) async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut done: impl FnMut() -> F,
) {
    for _ in 0..400 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen");
}

/// First start with an empty catalog: the server imports it from `catalog.url` in the
/// background, says so in the log, and `search_food` answers from it once it is in — here with
/// the USDA API down, so only the catalog can answer.
#[tokio::test]
async fn an_empty_catalog_is_imported_from_the_configured_url_at_start() {
    use serde_json::json;
    use wiremock::{Mock, ResponseTemplate, matchers::any};

    use crate::helpers::{Logs, call, spawn_app_with};

    let logs = Logs::default();
    // Single-threaded test runtime: the server's tasks run on this thread and see this default.
    let _default = tracing::dispatcher::set_default(&logs.subscriber());
    let (download, url) = serve_download().await;
    let (usda, off) = (
        wiremock::MockServer::start().await,
        wiremock::MockServer::start().await,
    );
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&usda)
        .await;
    let app = spawn_app_with(tempfile::tempdir().unwrap(), usda, off, |config| {
        config.catalog.auto_import = true;
        config.catalog.url = url.parse().unwrap();
    })
    .await;
    let client = app.client().await;
    let search = || async {
        call(
            &client,
            "search_food",
            json!({"query": "banana", "source": "usda"}),
        )
        .await
    };
    eventually("the catalog import", || async {
        search().await.structured_content.is_some_and(|found| {
            found["results"][0]["id"] == "2" && found["results"][0]["name"] == "Bananas, raw"
        })
    })
    .await;
    let text = logs.text();
    assert!(
        text.contains("importing it from") && text.contains(&url),
        "{text}"
    );
    assert!(
        text.contains("offline USDA catalog ready: imported 2 foods"),
        "{text}"
    );
    assert_eq!(download.received_requests().await.unwrap().len(), 1);

    client.cancel().await.unwrap();
    let (dir, usda, off) = app.stop().await;
    // A catalog that is there is not fetched again.
    let app = spawn_app_with(dir, usda, off, |config| {
        config.catalog.auto_import = true;
        config.catalog.url = url.parse().unwrap();
    })
    .await;
    eventually("the catalog check at the second start", || async {
        logs.text().contains("offline USDA catalog present")
    })
    .await;
    assert_eq!(download.received_requests().await.unwrap().len(), 1);
    app.stop().await;
}

/// A catalog that cannot be fetched leaves the server serving, with a warning that names the
/// URL and the command that imports it by hand.
#[tokio::test]
async fn a_catalog_that_cannot_be_fetched_is_a_warning_with_the_manual_command() {
    use crate::helpers::{Logs, call_ok, spawn_app_with};

    let logs = Logs::default();
    let _default = tracing::dispatcher::set_default(&logs.subscriber());
    let missing = wiremock::MockServer::start().await;
    let url = format!("{}/gone.zip", missing.uri());
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("food-mcp.db");
    let app = spawn_app_with(
        dir,
        wiremock::MockServer::start().await,
        wiremock::MockServer::start().await,
        |config| {
            config.catalog.auto_import = true;
            config.catalog.url = url.parse().unwrap();
        },
    )
    .await;
    eventually("the import warning", || async {
        logs.text()
            .contains("could not import the offline USDA catalog")
    })
    .await;
    let warning = logs
        .text()
        .lines()
        .find(|line| line.contains("could not import"))
        .unwrap()
        .to_string();
    assert!(warning.contains(" WARN "), "{warning}");
    assert!(warning.contains("HTTP 404"), "{warning}");
    assert!(
        warning.contains(&format!(
            "food-mcp import usda {url} --database {}",
            database.display()
        )),
        "{warning}"
    );
    let client = app.client().await;
    // The server serves on.
    call_ok(&client, "save_food", crate::oauth::oats()).await;
    client.cancel().await.unwrap();
    app.stop().await;
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The shared SR Legacy download: `FOOD_MCP_USDA_DATA`, else `../shared/data/usda-sr-legacy`.
/// Without it a test is skipped on a developer's machine, and fails in CI (`CI` set): a check
/// that silently did not run there is a broken build.
pub fn sr_legacy_data() -> Option<PathBuf> {
    let path = std::env::var_os("FOOD_MCP_USDA_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/usda-sr-legacy")
        });
    if path.join("sr_legacy/food.csv").is_file() {
        return Some(path);
    }
    let missing = format!(
        "SR Legacy data not found at {} (set FOOD_MCP_USDA_DATA to the usda-sr-legacy folder)",
        path.display()
    );
    assert!(std::env::var_os("CI").is_none(), "CI is set: {missing}");
    println!("SKIPPED: {missing}");
    None
}

#[tokio::test]
async fn imports_the_real_sr_legacy_download() {
    let Some(data) = sr_legacy_data() else { return };
    let (_dir, pool) = database().await;
    let summary = import_command(&pool, &data).await.unwrap();
    println!("{summary}");
    println!(
        "SR Legacy import took {:.2} s",
        summary.elapsed.as_secs_f64()
    );
    assert_eq!(summary.foods(), 7_793);
    assert_eq!(summary.skipped.nutrient_rows_unknown_food, 0);
    assert_eq!(summary.skipped.nutrient_rows_unknown_nutrient, 0);

    let store = CatalogStore::new(pool.clone());
    assert_eq!(store.count().await.unwrap(), 7_793);

    let banana = store.get_food(173944).await.unwrap().unwrap();
    assert_eq!(banana.name, "Bananas, raw");
    assert_eq!(banana.nutrients[&NutrientKey::Calories], 89.0);
    let medium = banana.portions.iter().find(|p| p.unit == "medium").unwrap();
    assert_eq!(medium.grams, 118.0);
    assert_eq!(medium.description, "1 medium (7\" to 7-7/8\" long)");

    let milk = store.get_food(171265).await.unwrap().unwrap();
    assert_eq!(milk.nutrients[&NutrientKey::Calories], 61.0);
    let cup = milk.portions.iter().find(|p| p.unit == "cup").unwrap();
    assert_eq!((cup.amount, cup.grams), (1.0, 244.0));

    let hits = search(&pool, "banana", 50).await;
    assert!(hits.iter().any(|h| h.id == "173944"), "{hits:#?}");
    assert!(hits.iter().all(|h| h.calories_per_100g.is_some()));
}

/// With the catalog imported and the USDA API answering only errors, the tools answer generic
/// foods from the catalog.
#[tokio::test]
async fn tools_answer_from_the_catalog_with_the_usda_api_down() {
    use serde_json::json;
    use wiremock::{Mock, ResponseTemplate, matchers::any};

    use crate::helpers::{assert_close, call_ok, spawn_app_with};

    let Some(data) = sr_legacy_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pool = food_mcp::storage::open(&dir.path().join("food-mcp.db"))
        .await
        .unwrap();
    import_command(&pool, &data).await.unwrap();
    pool.close().await;

    let (usda, off) = (
        wiremock::MockServer::start().await,
        wiremock::MockServer::start().await,
    );
    let app = spawn_app_with(dir, usda, off, |_| {}).await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.usda)
        .await;
    let client = app.client().await;

    let banana = call_ok(
        &client,
        "get_nutrition",
        json!({"foodId": "173944", "source": "usda", "amount": 1, "unit": "medium"}),
    )
    .await;
    assert_close(&banana["grams"], 118.0);
    assert_close(&banana["nutrients"]["calories"]["value"], 105.0);
    let milk = call_ok(
        &client,
        "get_nutrition",
        json!({"foodId": "171265", "source": "usda", "amount": 1, "unit": "cup"}),
    )
    .await;
    assert_close(&milk["grams"], 244.0);

    let found = call_ok(
        &client,
        "search_food",
        json!({"query": "banana", "source": "usda"}),
    )
    .await;
    assert_eq!(found["results"][0]["id"], "173944", "{found}");
    assert!(
        found["warnings"]
            .to_string()
            .contains("offline USDA catalog only")
    );
    let requests = app.usda.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| r.url.path() == "/foods/search"),
        "foods came from the catalog"
    );

    client.cancel().await.unwrap();
    app.stop().await;
}

/// One food gets the same portions through the catalog and through the API: the real
/// `food_portion.csv` rows of whole milk and raw bananas go through the importer, the recorded API
/// answers for the same foods through the USDA client. (Before one parser read both, the catalog
/// called the banana's "extra large" portion "extra" and its "NLEA serving" "nlea".)
#[tokio::test]
async fn the_catalog_and_the_api_give_one_food_the_same_portions() {
    use std::time::Duration;

    use food_mcp::config::UsdaConfig;
    use food_mcp::sources::usda::UsdaClient;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::helpers::fixture;

    let Some(data) = sr_legacy_data() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs this test on the SR Legacy data"
        );
        return;
    };
    let foods = [
        (
            171265,
            "Milk, whole, 3.25% milkfat, with added vitamin D",
            "food-171265-sr-legacy-whole-milk.json",
            &["cup", "fl oz", "tbsp", "quart"][..],
        ),
        (
            173944,
            "Bananas, raw",
            "food-173944-sr-legacy-banana.json",
            &[
                "cup",
                "cup",
                "extra small",
                "small",
                "medium",
                "large",
                "extra large",
                "nlea serving",
            ][..],
        ),
    ];

    // A download of the two foods with their real portion rows and the real measure units.
    let (dir, pool) = database().await;
    let names: Vec<(i64, &str)> = foods.iter().map(|f| (f.0, f.1)).collect();
    let root = write_dataset(dir.path(), &names, "1,171265,1008,61\n2,173944,1008,89\n");
    let real = fs::read_to_string(data.join("sr_legacy/food_portion.csv")).unwrap();
    let mut lines = real.lines();
    let mut rows = format!("{}\n", lines.next().unwrap());
    for line in lines {
        // fdc_id is the second field, quoted, before any field that could hold a comma.
        let fdc_id = line.split(',').nth(1).unwrap_or_default().trim_matches('"');
        if names.iter().any(|(id, _)| id.to_string() == fdc_id) {
            rows.push_str(line);
            rows.push('\n');
        }
    }
    fs::write(root.join("food_portion.csv"), rows).unwrap();
    fs::copy(
        data.join("supporting/measure_unit.csv"),
        root.join("supporting/measure_unit.csv"),
    )
    .unwrap();
    import_command(&pool, &root).await.unwrap();
    let store = CatalogStore::new(pool);

    let server = MockServer::start().await;
    for (id, _, file, _) in foods {
        Mock::given(method("GET"))
            .and(path(format!("/food/{id}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture(&format!("usda/{file}"))),
            )
            .mount(&server)
            .await;
    }
    let config = UsdaConfig {
        api_key: "test-key".into(),
        base_url: server.uri().parse().unwrap(),
        timeout: Duration::from_secs(5),
        limits: food_mcp::config::Config::defaults().usda.limits,
    };
    let api = UsdaClient::new(&config, reqwest::Client::new()).unwrap();

    for (id, name, _, units) in foods {
        let from_catalog = store.get_food(id).await.unwrap().unwrap().portions;
        let from_api = api.fetch_food(&id.to_string()).await.unwrap().portions;
        assert_eq!(from_catalog, from_api, "{name}");
        let got: Vec<&str> = from_catalog.iter().map(|p| p.unit.as_str()).collect();
        assert_eq!(got, units, "{name}");
    }
}

/// The catalog's answer to `query` from a snapshot of what is in `pool` now.
async fn search(pool: &SqlitePool, query: &str, limit: usize) -> Vec<FoodSummary> {
    CatalogFoods::load(pool.clone())
        .await
        .unwrap()
        .search(query, limit)
}
