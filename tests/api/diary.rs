//! The food diary through a real MCP client: logging with exact totals, days and ranges, updates,
//! deletes, goals, the bad-input matrix, time zones, restarts, a SIGKILL mid-stream, backups and
//! exports (the last two through the real binary).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{
    Client, TestApp, assert_close, binary, call_err, call_ok, fixture, raw_tool, serve_binary,
    spawn_app, spawn_app_with,
};

const DAY: &str = "2026-03-14";

async fn mock_foods(app: &TestApp) {
    for (id, file) in [
        ("173944", "usda/food-173944-sr-legacy-banana.json"),
        ("171265", "usda/food-171265-sr-legacy-whole-milk.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/food/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture(file)))
            .mount(&app.usda)
            .await;
    }
}

fn banana(grams: f64) -> Value {
    json!({ "foodId": "173944", "source": "usda", "amount": grams, "unit": "g" })
}

fn milk_cup() -> Value {
    json!({ "foodId": "171265", "source": "usda", "amount": 1, "unit": "cup" })
}

/// One day of get_diary.
async fn day(client: &Client, date: &str) -> Value {
    let diary = call_ok(client, "get_diary", json!({ "date": date })).await;
    assert_eq!(diary["days"].as_array().unwrap().len(), 1);
    diary["days"][0].clone()
}

fn ids(day: &Value) -> Vec<String> {
    day["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// Saves the owner's food "Overnight oats" (350 kcal in 250 g) and answers its id.
async fn save_oats(client: &Client, calories: f64) -> String {
    let saved = call_ok(
        client,
        "save_food",
        json!({
            "name": "Overnight oats", "servingSize": { "amount": 250, "unit": "g" },
            "nutrients": { "calories": calories, "protein_g": 15, "total_carbs_g": 50, "total_fat_g": 9 }
        }),
    )
    .await;
    saved["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_day_of_meals_has_exact_totals_updates_deletes_and_goals() {
    let app = spawn_app().await;
    mock_foods(&app).await;
    let client = app.client().await;

    let breakfast = call_ok(
        &client,
        "log_food",
        json!({ "items": [banana(118.0), milk_cup()], "date": DAY, "time": "07:30", "meal": "breakfast" }),
    )
    .await;
    let entries = breakfast["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["name"], "Bananas, raw");
    assert_close(&entries[0]["nutrients"]["calories"]["value"], 105.0);
    assert_close(&entries[1]["grams"], 244.0);
    assert_close(&entries[1]["nutrients"]["calories"]["value"], 148.8);
    assert_eq!(entries[1]["meal"], "breakfast");
    assert_eq!(entries[1]["time"], "07:30");
    // 105.02 + 148.84 kcal, summed before rounding.
    assert_close(&breakfast["day"]["totals"]["calories"]["value"], 253.9);
    assert_close(&breakfast["day"]["totals"]["protein_g"]["value"], 8.97);

    let snack = call_ok(
        &client,
        "log_food",
        json!({ "items": [banana(100.0)], "date": DAY, "time": "16:00", "meal": "snack", "note": "after the run" }),
    )
    .await;
    let snack_id = snack["entries"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(snack["entries"][0]["note"], "after the run");

    let goals = call_ok(
        &client,
        "set_goals",
        json!({ "goals": { "calories": 2000, "protein_g": 120, "fiber_g": 30 } }),
    )
    .await;
    assert_eq!(
        goals["goals"]["calories"],
        json!({ "target": 2000.0, "unit": "kcal" })
    );
    assert_eq!(call_ok(&client, "get_goals", json!({})).await, goals);

    let today = day(&client, DAY).await;
    assert_eq!(ids(&today).len(), 3);
    assert_close(&today["totals"]["calories"]["value"], 342.9);
    assert_close(&today["meals"]["breakfast"]["calories"]["value"], 253.9);
    assert_close(&today["meals"]["snack"]["calories"]["value"], 89.0);
    assert_close(&today["meals"]["lunch"]["calories"]["value"], 0.0);
    assert!(today["meals"].get("unassigned").is_none());
    assert_eq!(
        today["goals"]["calories"],
        json!({ "target": 2000.0, "value": 342.9, "unit": "kcal", "remaining": 1657.1, "over": 0.0, "available": true, "lowerBound": false })
    );
    // Milk's fiber is a recorded 0, so fiber is complete: 2.6 g per 100 g of banana.
    assert_close(&today["goals"]["fiber_g"]["value"], 5.67);
    assert!(
        today["nutrientCoverage"]["complete"]
            .as_array()
            .unwrap()
            .contains(&json!("calories"))
    );

    // Change the snack to 2 medium bananas and move it to the next day.
    let changed = call_ok(
        &client,
        "update_diary_entry",
        json!({ "entryId": snack_id, "amount": 2, "unit": "medium", "date": "2026-03-15", "note": "" }),
    )
    .await;
    assert_eq!(changed["entry"]["id"], snack_id.as_str());
    assert_close(&changed["entry"]["grams"], 236.0);
    assert_close(&changed["entry"]["nutrients"]["calories"]["value"], 210.0);
    assert_eq!(changed["entry"]["note"], Value::Null);
    assert_eq!(changed["day"]["date"], "2026-03-15");
    assert_close(&changed["day"]["totals"]["calories"]["value"], 210.0);

    let range = call_ok(
        &client,
        "get_diary",
        json!({ "date": DAY, "to": "2026-03-16" }),
    )
    .await;
    let days = range["days"].as_array().unwrap();
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(dates, [DAY, "2026-03-15", "2026-03-16"]);
    assert_close(&days[0]["totals"]["calories"]["value"], 253.9);
    assert!(
        days[2]["entries"].as_array().unwrap().is_empty(),
        "an empty day is not an error"
    );
    assert_close(&days[2]["totals"]["calories"]["value"], 0.0);
    assert_close(&days[2]["goals"]["protein_g"]["remaining"], 120.0);

    let deleted = call_ok(
        &client,
        "delete_diary_entry",
        json!({ "entryId": snack_id }),
    )
    .await;
    assert_eq!(deleted["deleted"]["id"], snack_id.as_str());
    assert!(deleted["day"]["entries"].as_array().unwrap().is_empty());
    let gone = call_err(
        &client,
        "delete_diary_entry",
        json!({ "entryId": snack_id }),
    )
    .await;
    assert!(gone.contains("no diary entry has id"), "{gone}");

    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn tools_list_teaches_the_diary_tools() {
    let app = spawn_app().await;
    let client = app.client().await;
    let tools = client.list_all_tools().await.unwrap();
    for name in [
        "log_food",
        "get_diary",
        "update_diary_entry",
        "delete_diary_entry",
        "set_goals",
        "get_goals",
    ] {
        let tool = tools
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert!(
            tool.output_schema.is_some(),
            "{name} declares an output schema"
        );
        assert!(tool.annotations.is_some(), "{name} is annotated");
    }
    let log = tools.iter().find(|t| t.name == "log_food").unwrap();
    let schema = serde_json::to_string(&log.input_schema).unwrap();
    for word in ["YYYY-MM-DD", "HH:MM", "breakfast", "search_food"] {
        assert!(schema.contains(word), "log_food's schema teaches {word}");
    }
    let get = tools.iter().find(|t| t.name == "get_diary").unwrap();
    let output = serde_json::to_value(get.output_schema.as_ref().unwrap()).unwrap();
    assert!(output.to_string().contains("nutrientCoverage"));
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_an_actionable_error_and_writes_nothing() {
    let app = spawn_app().await;
    mock_foods(&app).await;
    let client = app.client().await;
    let kept = call_ok(
        &client,
        "log_food",
        json!({ "items": [banana(50.0)], "date": DAY }),
    )
    .await;
    let kept_id = kept["entries"][0]["id"].as_str().unwrap().to_string();
    let too_many: Vec<Value> = (0..101).map(|_| banana(1.0)).collect();

    let cases: Vec<(&'static str, Value, &str)> = vec![
        (
            "log_food",
            json!({ "items": [banana(10.0)], "date": "2026-02-30" }),
            "February 2026 has 28 days",
        ),
        (
            "log_food",
            json!({ "items": [banana(10.0)], "date": "14/03/2026" }),
            "YYYY-MM-DD",
        ),
        (
            "log_food",
            json!({ "items": [banana(10.0)], "date": DAY, "time": "25:00" }),
            "HH:MM",
        ),
        (
            "log_food",
            json!({ "items": [banana(0.0)], "date": DAY }),
            "positive",
        ),
        (
            "log_food",
            json!({ "items": [banana(-5.0)], "date": DAY }),
            "positive",
        ),
        (
            "log_food",
            json!({ "items": [{ "foodId": "173944", "source": "usda", "amount": 1, "unit": "handful" }], "date": DAY }),
            "handful",
        ),
        (
            "log_food",
            json!({ "items": [banana(10.0), { "foodId": "173944", "source": "usda", "amount": 1, "unit": "slice" }], "date": DAY }),
            "item 1",
        ),
        ("log_food", json!({ "items": [], "date": DAY }), "1 to 100"),
        (
            "log_food",
            json!({ "items": too_many, "date": DAY }),
            "1 to 100",
        ),
        (
            "log_food",
            json!({ "items": [banana(10.0)], "date": DAY, "meal": "brunch" }),
            "brunch",
        ),
        (
            "log_food",
            json!({ "items": [banana(10.0)], "date": DAY, "note": "x".repeat(501) }),
            "note",
        ),
        (
            "get_diary",
            json!({ "date": "2026-01-01", "to": "2026-02-01" }),
            "at most 31 days",
        ),
        (
            "get_diary",
            json!({ "date": "2026-03-02", "to": "2026-03-01" }),
            "before",
        ),
        (
            "get_diary",
            json!({ "date": "2026-04-31" }),
            "April 2026 has 30 days",
        ),
        (
            "update_diary_entry",
            json!({ "entryId": "entry:0000000000000000", "amount": 2 }),
            "no diary entry has id",
        ),
        (
            "update_diary_entry",
            json!({ "entryId": kept_id, "amount": 0 }),
            "positive",
        ),
        (
            "update_diary_entry",
            json!({ "entryId": kept_id, "unit": "slice" }),
            "slice",
        ),
        (
            "update_diary_entry",
            json!({ "entryId": kept_id, "date": "2025-02-29" }),
            "February 2025 has 28 days",
        ),
        (
            "update_diary_entry",
            json!({ "entryId": kept_id }),
            "nothing to change",
        ),
        (
            "delete_diary_entry",
            json!({ "entryId": "entry:0000000000000000" }),
            "no diary entry has id",
        ),
        ("delete_diary_entry", json!({}), "entryId"),
        (
            "set_goals",
            json!({ "goals": { "kcal": 2000 } }),
            "unknown nutrient \"kcal\"",
        ),
        (
            "set_goals",
            json!({ "goals": { "calories": -1 } }),
            "goal for calories",
        ),
        ("set_goals", json!({ "goals": {} }), "goals is empty"),
    ];
    for (tool, args, expected) in cases {
        let message = call_err(&client, tool, args.clone()).await;
        assert!(
            message.contains(expected),
            "{tool} {args}: {message:?} should say {expected:?}"
        );
    }

    let today = day(&client, DAY).await;
    assert_eq!(ids(&today), [kept_id], "nothing else was logged");
    assert_close(&today["entries"][0]["amount"], 50.0);
    assert_eq!(today["entries"][0]["date"], DAY);
    assert_eq!(
        call_ok(&client, "get_goals", json!({})).await,
        json!({ "goals": {} })
    );
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn entries_keep_the_food_as_it_was_when_logged() {
    let app = spawn_app().await;
    let client = app.client().await;
    let oats = save_oats(&client, 350.0).await;
    let logged = call_ok(
        &client,
        "log_food",
        json!({ "items": [{ "foodId": oats, "source": "custom", "amount": 250, "unit": "g" }], "date": DAY }),
    )
    .await;
    let id = logged["entries"][0]["id"].as_str().unwrap().to_string();
    // The owner corrects the saved food: the diary's history does not move.
    save_oats(&client, 500.0).await;
    let today = day(&client, DAY).await;
    assert_close(
        &today["entries"][0]["nutrients"]["calories"]["value"],
        350.0,
    );
    // A new amount is measured from the snapshot, not from the corrected food.
    let changed = call_ok(
        &client,
        "update_diary_entry",
        json!({ "entryId": id, "amount": 125 }),
    )
    .await;
    assert_close(&changed["entry"]["nutrients"]["calories"]["value"], 175.0);
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn today_is_the_owners_day_in_the_configured_time_zone() {
    // UTC+14 and UTC−11: at any instant their dates differ.
    let mut answers = Vec::new();
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let tz = jiff::tz::TimeZone::get(zone).unwrap();
        let app = spawn_app_with(
            tempfile::tempdir().unwrap(),
            MockServer::start().await,
            MockServer::start().await,
            |c| c.diary.timezone = Some(tz.clone()),
        )
        .await;
        let client = app.client().await;
        let oats = save_oats(&client, 350.0).await;
        let before = jiff::Timestamp::now()
            .to_zoned(tz.clone())
            .date()
            .to_string();
        let logged = call_ok(
            &client,
            "log_food",
            json!({ "items": [{ "foodId": oats, "source": "custom", "amount": 100, "unit": "g" }] }),
        )
        .await;
        let read = call_ok(&client, "get_diary", json!({})).await;
        let after = jiff::Timestamp::now()
            .to_zoned(tz.clone())
            .date()
            .to_string();
        let date = logged["day"]["date"].as_str().unwrap().to_string();
        assert!(
            date == before || date == after,
            "{zone}: {date} is neither {before} nor {after}"
        );
        assert_eq!(logged["entries"][0]["date"], date.as_str());
        assert!(
            logged["entries"][0]["time"].is_string(),
            "logged now: the time is now"
        );
        assert_eq!(read["days"][0]["entries"].as_array().unwrap().len(), 1);
        answers.push(date);
        client.cancel().await.unwrap();
        app.stop().await;
    }
    assert_ne!(answers[0], answers[1]);
}

#[tokio::test]
async fn a_restart_keeps_entries_and_goals() {
    let app = spawn_app().await;
    mock_foods(&app).await;
    let client = app.client().await;
    call_ok(
        &client,
        "log_food",
        json!({ "items": [banana(118.0), milk_cup()], "date": DAY, "meal": "breakfast" }),
    )
    .await;
    call_ok(
        &client,
        "set_goals",
        json!({ "goals": { "calories": 1800 } }),
    )
    .await;
    let before = day(&client, DAY).await;
    client.cancel().await.unwrap();

    let (dir, usda, off) = app.stop().await;
    let app = spawn_app_with(dir, usda, off, |_| {}).await;
    let client = app.client().await;
    assert_eq!(day(&client, DAY).await, before);
    assert_close(&before["goals"]["calories"]["target"], 1800.0);
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn sigkill_during_a_stream_of_logs_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve_binary(dir.path()).await;
    let http = reqwest::Client::new();
    let oats = raw_tool(
        &http,
        &served.base,
        "save_food",
        json!({ "name": "Oats", "servingSize": { "amount": 100, "unit": "g" }, "nutrients": { "calories": 380 } }),
    )
    .await
    .expect("save_food")["id"]
        .clone();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (http, base, oats) = (http.clone(), served.base.clone(), oats.clone());
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                // Bounded: the kill below ends it long before.
                for _ in 0..5_000 {
                    let args = json!({ "items": [{ "foodId": oats, "source": "custom", "amount": 40, "unit": "g" }], "date": DAY });
                    let Some(logged) = raw_tool(&http, &base, "log_food", args).await else {
                        return;
                    };
                    let id = logged["entries"][0]["id"].as_str().unwrap().to_string();
                    acknowledged.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 60 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    served.child.kill().expect("SIGKILL");
    served.child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let app = spawn_app_with(
        dir,
        MockServer::start().await,
        MockServer::start().await,
        |_| {},
    )
    .await;
    let client = app.client().await;
    let stored = ids(&day(&client, DAY).await);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged entries lost: {missing:?}",
        missing.len()
    );
    client.cancel().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_backup_taken_while_serving_opens_and_serves_the_same_diary_and_export_matches() {
    let app = spawn_app().await;
    mock_foods(&app).await;
    let client = app.client().await;
    call_ok(&client, "log_food", json!({ "items": [banana(118.0), milk_cup()], "date": DAY, "time": "07:30", "meal": "breakfast", "note": "a \"big\", slow one" })).await;
    call_ok(
        &client,
        "log_food",
        json!({ "items": [banana(90.0)], "date": "2026-03-15", "meal": "snack" }),
    )
    .await;
    call_ok(
        &client,
        "set_goals",
        json!({ "goals": { "calories": 2000 } }),
    )
    .await;
    let live = call_ok(
        &client,
        "get_diary",
        json!({ "date": DAY, "to": "2026-03-15" }),
    )
    .await;

    // Writes go on (on another day) while the backup runs.
    let (http, base) = (reqwest::Client::new(), app.url(""));
    let writer = tokio::spawn(async move {
        let mut logged = 0;
        for _ in 0..30 {
            if raw_tool(
                &http,
                &base,
                "log_food",
                json!({ "items": [banana(10.0)], "date": "2026-03-20" }),
            )
            .await
            .is_some()
            {
                logged += 1;
            }
        }
        logged
    });
    let copy = tempfile::tempdir().unwrap();
    let backup = binary(app.db_dir.path())
        .arg("backup")
        .arg(copy.path().join("food-mcp.db"))
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(String::from_utf8_lossy(&backup.stdout).contains("Backed up"));
    let logged_meanwhile = writer.await.unwrap();

    let export = |format: &str| {
        let out = binary(app.db_dir.path())
            .args([
                "diary",
                "export",
                "--from",
                DAY,
                "--to",
                "2026-03-15",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let rows: Value = serde_json::from_str(&export("json")).unwrap();
    let entries: Vec<&Value> = live["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["entries"].as_array().unwrap())
        .collect();
    assert_eq!(rows.as_array().unwrap().len(), entries.len());
    for (row, entry) in rows.as_array().unwrap().iter().zip(&entries) {
        assert_eq!(row["entry_id"], entry["id"]);
        assert_eq!(row["date"], entry["date"]);
        assert_eq!(row["time"], entry["time"]);
        assert_eq!(row["meal"], entry["meal"]);
        assert_eq!(row["food"], entry["name"]);
        assert_eq!(row["amount"], entry["amount"]);
        assert_eq!(row["unit"], entry["unit"]);
        assert_eq!(row["grams"], entry["grams"]);
        assert_eq!(row["note"], entry["note"]);
        for key in [
            "calories",
            "protein_g",
            "total_carbs_g",
            "total_fat_g",
            "sodium_mg",
        ] {
            assert_eq!(row[key], entry["nutrients"][key]["value"], "{key}");
        }
    }
    let csv = export("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("date,time,meal,food,brand,source,food_id,amount,unit,grams,calories")
    );
    assert_eq!(lines.len(), entries.len() + 1);
    assert!(lines[1].starts_with(
        "2026-03-14,07:30,breakfast,\"Bananas, raw\",,usda,173944,118.0,g,118.0,105.0,"
    ));
    client.cancel().await.unwrap();
    let (_, usda, off) = app.stop().await;

    let restored = spawn_app_with(copy, usda, off, |_| {}).await;
    let client = restored.client().await;
    let served = call_ok(
        &client,
        "get_diary",
        json!({ "date": DAY, "to": "2026-03-15" }),
    )
    .await;
    assert_eq!(served, live, "the copy serves the same diary and goals");
    let during = day(&client, "2026-03-20").await["entries"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        during <= logged_meanwhile,
        "a consistent snapshot: {during} of {logged_meanwhile}"
    );
    client.cancel().await.unwrap();
    restored.stop().await;
}

#[tokio::test]
async fn a_read_only_token_reads_the_diary_but_cannot_write_it() {
    use crate::oauth::{authorize_with_rmcp, raw_call, spawn_auth_app, tokens_of};
    let app = spawn_auth_app(|_| {}).await;
    let manager = authorize_with_rmcp(&app, &["food:read"]).await;
    let (_, access, _) = tokens_of(&manager).await;
    let entry = "entry:0123456789abcdef";
    for (tool, args) in [
        ("log_food", json!({ "items": [banana(100.0)], "date": DAY })),
        (
            "update_diary_entry",
            json!({ "entryId": entry, "amount": 2 }),
        ),
        ("delete_diary_entry", json!({ "entryId": entry })),
        ("set_goals", json!({ "goals": { "calories": 2000 } })),
    ] {
        let (status, challenge, _) = raw_call(&app, Some(&access), tool, args).await;
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{tool}");
        assert!(
            challenge.contains("error=\"insufficient_scope\"")
                && challenge.contains("scope=\"food:write\""),
            "{tool}: {challenge}"
        );
    }
    let (status, _, body) =
        raw_call(&app, Some(&access), "get_diary", json!({ "date": DAY })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"]["structuredContent"]["days"][0]["entries"],
        json!([]),
        "nothing was written"
    );
    let (status, _, body) = raw_call(&app, Some(&access), "get_goals", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["structuredContent"], json!({ "goals": {} }));
    app.stop().await;
}
