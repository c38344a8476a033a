//! The `food-mcp` binary: which database the operator commands use, refusing to create one in the
//! wrong folder, `--database`/`--config` on every subcommand, `--help`, `health`, and a refused
//! start that logs no "listening".

use std::path::Path;
use std::process::Output;

use crate::helpers::spawn_app;

/// Runs `food-mcp args…` in `dir`, with none of the caller's `FOOD_MCP_*` settings (and so no
/// developer `.env`, which is read from the working directory).
async fn food_mcp(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_food-mcp"));
    // Output is piped, not a terminal: the binary must write no colour codes.
    command.args(args).current_dir(dir).env_remove("NO_COLOR");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FOOD_MCP") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command.output().await.expect("food-mcp runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Run from a folder without the server's database, an admin command says where it looked,
/// fails, and creates nothing; pointed at the database, it works and says which one it used.
#[tokio::test]
async fn admin_commands_refuse_a_missing_database_and_name_the_one_they_use() {
    let elsewhere = tempfile::tempdir().unwrap();
    for args in [
        &["clients", "list"][..],
        &["clients", "revoke", "some-client"],
        &["owner", "set-password"],
    ] {
        let output = food_mcp(elsewhere.path(), args, &[]).await;
        assert!(!output.status.success(), "{args:?} succeeded");
        let err = stderr(&output);
        let expected = elsewhere.path().join("data/food-mcp.db");
        assert!(
            err.contains(&format!("database: {}", expected.display())),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("there is no food-mcp database") && err.contains("--database"),
            "{args:?}: {err}"
        );
    }
    assert!(
        std::fs::read_dir(elsewhere.path())
            .unwrap()
            .next()
            .is_none(),
        "nothing was created"
    );

    // The server's database, named with --database (before or after the subcommand) or by a
    // --config file.
    let app = spawn_app().await;
    let database = app.db_dir.path().join("food-mcp.db");
    let database = database.to_str().unwrap();
    let output = food_mcp(
        elsewhere.path(),
        &["--database", database, "clients", "list"],
        &[],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("database: {database}")));
    assert_eq!(stdout(&output).trim(), "No registered clients.");

    let config = elsewhere.path().join("food.toml");
    std::fs::write(&config, format!("database_path = {database:?}\n")).unwrap();
    let output = food_mcp(
        elsewhere.path(),
        &["clients", "list", "--config", config.to_str().unwrap()],
        &[],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("database: {database}")));
    app.stop().await;
}

#[tokio::test]
async fn help_names_the_config_file_and_the_environment_variables() {
    let dir = tempfile::tempdir().unwrap();
    let output = food_mcp(dir.path(), &["--help"], &[]).await;
    assert!(output.status.success());
    let help = stdout(&output);
    for needle in [
        "--config <FILE>",
        "--database <FILE>",
        "FOOD_MCP_CONFIG",
        "FOOD_MCP__<SECTION>__<KEY>",
        ".env",
        "config/default.toml",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    // The flags are global: every subcommand takes them.
    let output = food_mcp(dir.path(), &["clients", "list", "--help"], &[]).await;
    assert!(stdout(&output).contains("--database <FILE>"));
}

/// `food-mcp health` exits 0 when the server at the configured address answers, 1 otherwise.
#[tokio::test]
async fn health_succeeds_only_when_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app().await;
    // A server bound to every interface is asked on loopback.
    let bind = format!("0.0.0.0:{}", app.addr.port());
    let output = food_mcp(dir.path(), &["health"], &[("FOOD_MCP__BIND", &bind)]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("ready"), "{}", stdout(&output));
    let addr = app.addr.to_string();
    app.stop().await;

    let output = food_mcp(dir.path(), &["health"], &[("FOOD_MCP__BIND", &addr)]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not ready"), "{}", stderr(&output));
}

/// A start-up check that refuses to start (an open mode on a public address) leaves no
/// "listening" line behind: that line comes only after every check passed.
#[tokio::test]
async fn a_refused_start_never_logs_listening() {
    let dir = tempfile::tempdir().unwrap();
    let output = food_mcp(
        dir.path(),
        &["serve"],
        &[
            ("FOOD_MCP__AUTH__ENABLED", "false"),
            ("FOOD_MCP__BIND", "0.0.0.0:0"),
            ("FOOD_MCP__METRICS__BIND", ""),
            ("FOOD_MCP__CATALOG__AUTO_IMPORT", "false"),
        ],
    )
    .await;
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("refusing to start with bind 0.0.0.0:0"),
        "{err}"
    );
    assert!(!err.contains("listening;"), "{err}");
    assert!(!err.contains('\x1b'), "no colours off a terminal: {err:?}");
}
