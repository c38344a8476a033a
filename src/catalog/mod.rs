//! Offline USDA catalog: imports a FoodData Central CSV download into SQLite and serves foods from it.
//!
//! [`import_command`] streams the CSVs ([`import`]: a blocking reader thread) into SQLite
//! ([`CatalogWriter`]: the async writer) through a small bounded channel, inside one transaction: a
//! failed or interrupted import leaves the previous catalog as it was.
//! [`CatalogStore`](crate::storage::catalog::CatalogStore) reads the result.

pub(crate) mod import;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use crate::ports::StorageError;
use crate::storage::Pool;
use crate::storage::catalog::CatalogWriter;

/// Batches in flight between reader and writer: enough to keep both busy, few enough that memory
/// stays bounded however large the download.
const QUEUED_BATCHES: usize = 8;

/// Why an import failed. Every variant names the file (and line) to look at.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "downloading {url} failed: {reason}; download it another way (e.g. `curl -LO {url}`) and pass the file"
    )]
    Download { url: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a readable zip archive: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error(
        "no food.csv in {0}: expected a FoodData Central CSV download (the zip, or the folder it unpacks to)"
    )]
    NotADataset(PathBuf),
    #[error("{file} is missing from {input}")]
    MissingFile { file: &'static str, input: PathBuf },
    #[error("{file}: the header has no column {expected:?} (found: {found})")]
    BadHeader {
        file: &'static str,
        expected: String,
        found: String,
    },
    #[error("{file} line {line}: {reason}")]
    MalformedRow {
        file: &'static str,
        line: u64,
        reason: String,
    },
    #[error("catalog database: {0}")]
    Database(#[from] StorageError),
    /// The CSV reader stopped without saying why (its thread panicked or the writer went away).
    #[error("import aborted: the CSV reader stopped unexpectedly")]
    Aborted,
}

/// Rows the import left out, by reason. None of these is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Foods of data types the catalog does not hold (Branded, sub-samples, acquisitions...).
    pub foods_other_types: u64,
    /// food_nutrient rows of a food that is not in the catalog.
    pub nutrient_rows_unknown_food: u64,
    /// food_nutrient rows naming a nutrient id that nutrient.csv does not have.
    pub nutrient_rows_unknown_nutrient: u64,
    /// food_nutrient rows of nutrients food-mcp does not track (ash, amino acids, kJ...).
    pub nutrient_rows_untracked: u64,
    /// food_nutrient rows with an empty amount.
    pub nutrient_rows_without_amount: u64,
    /// food_portion rows of a food that is not in the catalog.
    pub portion_rows_unknown_food: u64,
    /// food_portion rows without a positive amount and gram weight, or without a measure word.
    pub portion_rows_unusable: u64,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSummary {
    /// Foods imported per data type ("SR Legacy" → 7793).
    pub foods_by_type: BTreeMap<&'static str, u64>,
    /// Nutrient values stored (one per food and nutrient).
    pub nutrients: u64,
    pub portions: u64,
    pub skipped: Skipped,
    pub elapsed: Duration,
}

impl ImportSummary {
    pub fn foods(&self) -> u64 {
        self.foods_by_type.values().sum()
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let types: Vec<String> = self
            .foods_by_type
            .iter()
            .map(|(t, n)| format!("{t}: {n}"))
            .collect();
        writeln!(
            f,
            "imported {} foods ({}), {} nutrient values and {} portions in {:.1} s",
            self.foods(),
            types.join(", "),
            self.nutrients,
            self.portions,
            self.elapsed.as_secs_f64()
        )?;
        let s = &self.skipped;
        let reasons = [
            (s.foods_other_types, "foods of other data types"),
            (
                s.nutrient_rows_unknown_food,
                "nutrient rows of foods not imported",
            ),
            (
                s.nutrient_rows_unknown_nutrient,
                "nutrient rows of unknown nutrient ids",
            ),
            (
                s.nutrient_rows_untracked,
                "nutrient rows of nutrients food-mcp does not track",
            ),
            (
                s.nutrient_rows_without_amount,
                "nutrient rows without an amount",
            ),
            (
                s.portion_rows_unknown_food,
                "portions of foods not imported",
            ),
            (
                s.portion_rows_unusable,
                "portions without amount, weight or measure",
            ),
        ];
        let skipped: Vec<String> = reasons
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, why)| format!("{n} {why}"))
            .collect();
        if skipped.is_empty() {
            write!(f, "skipped: nothing")
        } else {
            write!(f, "skipped: {}", skipped.join("; "))
        }
    }
}

/// `food-mcp import usda <zip|dir|url>`: replaces the catalog with the SR Legacy, Foundation and
/// Survey (FNDDS) foods of the FoodData Central CSV download at `input`. Shows a progress bar on
/// stderr when it is a terminal. The catalog migration must have run on `pool`.
pub async fn import_command(pool: &Pool, input: &Path) -> Result<ImportSummary, ImportError> {
    // indicatif draws on stderr only when it is a terminal, so logs and pipes stay clean.
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{msg:20} [{bar:30}] {binary_bytes}/{binary_total_bytes} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = import_with_progress(pool, input, &progress).await;
    progress.finish_and_clear();
    result
}

/// [`import_command`] reporting to `progress` (a hidden bar still counts): its message names the
/// step (`downloading`, then each CSV file), its position and length count bytes.
pub async fn import_with_progress(
    pool: &Pool,
    input: &Path,
    progress: &ProgressBar,
) -> Result<ImportSummary, ImportError> {
    let text = input.to_string_lossy();
    if text.starts_with("http://") || text.starts_with("https://") {
        // The temporary file lives until the import is done, then is deleted.
        let file = download(&text, progress).await?;
        import(pool, file.path(), progress).await
    } else {
        import(pool, input, progress).await
    }
}

/// Streams a download to a temporary file (never into memory), with the progress bar.
async fn download(
    url: &str,
    progress: &ProgressBar,
) -> Result<tempfile::NamedTempFile, ImportError> {
    use tokio::io::AsyncWriteExt;
    let failed = |reason: String| ImportError::Download {
        url: url.to_string(),
        reason,
    };
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut response = http
        .get(url)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    progress.set_message("downloading");
    progress.set_length(response.content_length().unwrap_or(0));
    let file = tempfile::NamedTempFile::new().map_err(|e| failed(e.to_string()))?;
    let mut out = tokio::fs::File::from_std(file.reopen().map_err(|e| failed(e.to_string()))?);
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
        out.write_all(&chunk)
            .await
            .map_err(|e| failed(e.to_string()))?;
        progress.inc(chunk.len() as u64);
    }
    out.flush().await.map_err(|e| failed(e.to_string()))?;
    progress.set_position(0);
    Ok(file)
}

async fn import(
    pool: &Pool,
    input: &Path,
    progress: &ProgressBar,
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let (sender, mut batches) = mpsc::channel(QUEUED_BATCHES);
    let reader = {
        let input = input.to_path_buf();
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            import::read_dataset(&input, &progress, &mut |batch| {
                sender
                    .blocking_send(batch)
                    .map_err(|_| ImportError::Aborted)
            })
        })
    };

    // Returning early drops `batches`, which stops the reader at its next send, and drops
    // `writer`, which rolls back: the previous catalog stays.
    let mut writer = CatalogWriter::begin(pool).await?;
    while let Some(batch) = batches.recv().await {
        writer.insert(batch).await?;
    }
    // The channel closes when the reader is done, successfully or not; only success may commit.
    let counts = reader.await.map_err(|_| ImportError::Aborted)??;
    let nutrients = writer.commit().await?;

    Ok(ImportSummary {
        foods_by_type: counts.foods_by_type,
        nutrients,
        portions: counts.portions,
        skipped: counts.skipped,
        elapsed: started.elapsed(),
    })
}
