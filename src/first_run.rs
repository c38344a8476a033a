//! What a server does by itself on its first start: it fills an empty USDA catalog from
//! `catalog.url` in the background, and it hands the owner password it generated to the owner
//! without putting it in the log.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use indicatif::{HumanBytes, ProgressBar};
use tokio::task::JoinHandle;
use url::Url;

use crate::catalog;
use crate::config::CatalogConfig;
use crate::storage::{Pool, catalog::CatalogStore};

/// How often a running import reports its progress in the log.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The file a generated owner password is written to, in the database's folder, when no
/// terminal can show it.
pub const PASSWORD_FILE: &str = "owner-password";

/// With `catalog.auto_import` on, starts a task that imports the catalog from `catalog.url` when
/// the catalog is empty. The server answers meanwhile (USDA foods from the API); `search_food`
/// and `get_nutrition` use the catalog once the import has committed. Aborting the task rolls
/// the import back.
pub fn spawn_catalog_import(
    pool: Pool,
    settings: &CatalogConfig,
    database: &Path,
) -> Option<JoinHandle<()>> {
    if !settings.auto_import {
        return None;
    }
    let url = settings.url.clone();
    let database = database.to_path_buf();
    Some(tokio::spawn(async move {
        match CatalogStore::new(pool.clone()).count().await {
            Ok(0) => import_catalog(&pool, &url, &database).await,
            Ok(foods) => tracing::debug!(foods, "offline USDA catalog present"),
            Err(err) => tracing::warn!(%err, "cannot read the offline USDA catalog"),
        }
    }))
}

async fn import_catalog(pool: &Pool, url: &Url, database: &Path) {
    let manual = format!(
        "food-mcp import usda {url} --database {}",
        database.display()
    );
    let Some(input) = import_input(url) else {
        tracing::warn!(
            "catalog.url {url} is neither an http(s) nor a file URL; import the catalog by hand: {manual}"
        );
        return;
    };
    tracing::info!(
        "the offline USDA catalog is empty: importing it from {url} in the background \
         (catalog.auto_import); until then USDA foods come from the API"
    );
    // A hidden bar still counts; its state is logged instead of drawn.
    let progress = ProgressBar::hidden();
    let import = catalog::import_with_progress(pool, &input, &progress);
    tokio::pin!(import);
    let mut every =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    let result = loop {
        tokio::select! {
            result = &mut import => break result,
            _ = every.tick() => log_progress(&progress),
        }
    };
    match result {
        Ok(summary) => tracing::info!(
            "offline USDA catalog ready: {}",
            summary.to_string().replace('\n', "; ")
        ),
        Err(err) => tracing::warn!(
            "could not import the offline USDA catalog: {err}. USDA foods come from the API \
             until it is imported. Import it by hand (a downloaded zip or its folder works in \
             place of the URL): {manual}; or set catalog.auto_import = false"
        ),
    }
}

/// What the importer reads for `url`: the URL itself when it is http(s), the path of a file URL.
fn import_input(url: &Url) -> Option<PathBuf> {
    match url.scheme() {
        "http" | "https" => Some(PathBuf::from(url.as_str())),
        "file" => url.to_file_path().ok(),
        _ => None,
    }
}

fn log_progress(progress: &ProgressBar) {
    let (done, total) = (progress.position(), progress.length().unwrap_or(0));
    let step = progress.message();
    if total > 0 {
        tracing::info!(
            "catalog import: {step} {} of {} ({}%)",
            HumanBytes(done),
            HumanBytes(total),
            done * 100 / total
        );
    } else {
        tracing::info!("catalog import: {step} {}", HumanBytes(done));
    }
}

/// Gives the owner the password generated at first start: on a terminal it is shown once (never
/// through the log, whose lines may be collected); otherwise it goes to [`PASSWORD_FILE`] beside
/// the database, readable by this user only, and the log names the file.
pub fn hand_over_owner_password(
    password: &str,
    database: &Path,
    terminal: bool,
) -> anyhow::Result<()> {
    if terminal {
        eprintln!(
            "\n==== food-mcp owner password (shown once) ====\n  {password}\n\
             Enter it on the consent page when a client connects. Change it any time with\n  \
             food-mcp owner set-password\n==============================================\n"
        );
        return Ok(());
    }
    let file = database
        .parent()
        .unwrap_or(Path::new(""))
        .join(PASSWORD_FILE);
    write_private(&file, &format!("{password}\n")).map_err(|err| {
        anyhow::anyhow!(
            "writing the generated owner password to {}: {err}; set one with `food-mcp owner set-password`",
            file.display()
        )
    })?;
    tracing::warn!(
        "generated the owner password the consent page asks for; it is in {} (readable by this \
         user only): read it, then delete the file. Change it any time with `food-mcp owner set-password`",
        file.display()
    );
    Ok(())
}

/// Writes `text` to a file only its owner may read, replacing an older one.
fn write_private(file: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut out = options.open(file)?;
        // `mode` applies to a new file only; an older one may have been readable by others.
        out.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        out.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    options.open(file)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_input_takes_http_urls_and_file_paths() {
        let https: Url = "https://fdc.example/sr.zip".parse().unwrap();
        assert_eq!(
            import_input(&https),
            Some(PathBuf::from("https://fdc.example/sr.zip"))
        );
        let file: Url = "file:///srv/sr.zip".parse().unwrap();
        assert_eq!(import_input(&file), Some(PathBuf::from("/srv/sr.zip")));
        assert_eq!(
            import_input(&"ftp://fdc.example/sr.zip".parse().unwrap()),
            None
        );
    }

    /// Off a terminal the password goes to a private file beside the database, and the log
    /// line names the file, never the password.
    #[test]
    fn a_generated_password_off_a_terminal_goes_to_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("food-mcp.db");
        let older = dir.path().join(PASSWORD_FILE);
        std::fs::write(&older, "an older one\n").unwrap();
        let logs = crate::telemetry::tests::capture(|| {
            hand_over_owner_password("pw-1234567890abcdefgh", &database, false).unwrap()
        });
        assert_eq!(
            std::fs::read_to_string(&older).unwrap(),
            "pw-1234567890abcdefgh\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&older).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!logs.contains("pw-1234567890abcdefgh"), "{logs}");
        assert!(logs.contains(&older.display().to_string()), "{logs}");
    }

    #[test]
    fn a_password_that_cannot_be_written_is_an_error_that_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("missing-folder").join("food-mcp.db");
        let err = hand_over_owner_password("pw", &database, false).unwrap_err();
        assert!(err.to_string().contains("missing-folder"), "{err}");
    }
}
