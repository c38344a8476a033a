//! Reading a FoodData Central bulk-CSV download (zip or folder) into catalog rows, one CSV row at a time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use zip::ZipArchive;

use super::{ImportError, Skipped};
use crate::food::nutrients::NutrientKey;
use crate::food::portion::UsdaPortion;
use crate::ports::catalog::{Batch, FoodRow, NutrientRow, PortionRow};

/// Rows per batch handed to the writer: enough to amortize one multi-row INSERT, few enough that
/// the handful of batches queued between reader and writer stays well under a megabyte.
const BATCH_ROWS: usize = 500;

const FOOD: &str = "food.csv";
const FOOD_NUTRIENT: &str = "food_nutrient.csv";
const NUTRIENT: &str = "nutrient.csv";
const FOOD_PORTION: &str = "food_portion.csv";
const MEASURE_UNIT: &str = "measure_unit.csv";
const FOOD_CATEGORY: &str = "food_category.csv";
const WWEIA_CATEGORY: &str = "wweia_food_category.csv";

/// Files without which no catalog can be built. The category tables are optional: without them
/// foods simply have no category.
const REQUIRED: [&str; 5] = [FOOD, FOOD_NUTRIENT, NUTRIENT, FOOD_PORTION, MEASURE_UNIT];

const SR_LEGACY: &str = "SR Legacy";
const FOUNDATION: &str = "Foundation";
const SURVEY: &str = "Survey (FNDDS)";

/// What the reader saw, for the summary.
#[derive(Default)]
pub(crate) struct ReadCounts {
    pub foods_by_type: BTreeMap<&'static str, u64>,
    pub portions: u64,
    pub skipped: Skipped,
}

/// Reads the download at `input` and hands its rows to `emit` in batches. Blocking IO: run it off
/// the async runtime. An `Err` from `emit` stops the read and is returned as is.
pub(crate) fn read_dataset(
    input: &Path,
    progress: &ProgressBar,
    emit: &mut dyn FnMut(Batch) -> Result<(), ImportError>,
) -> Result<ReadCounts, ImportError> {
    let mut data = Dataset::open(input)?;
    if let Some(missing) = REQUIRED
        .into_iter()
        .find(|name| !data.files.contains_key(*name))
    {
        return Err(ImportError::MissingFile {
            file: missing,
            input: input.to_path_buf(),
        });
    }
    progress.set_length(data.total_size());

    let units = read_lookup(&mut data, progress, MEASURE_UNIT, ["id", "name"])?;
    let nutrients = read_nutrients(&mut data, progress)?;
    let categories = read_lookup(&mut data, progress, FOOD_CATEGORY, ["id", "description"])?;
    let wweia = read_lookup(
        &mut data,
        progress,
        WWEIA_CATEGORY,
        [
            "wweia_food_category_code|wweia_food_category",
            "wweia_food_category_description",
        ],
    )?;

    let mut counts = ReadCounts::default();
    let foods = read_foods(&mut data, progress, &categories, &wweia, &mut counts, emit)?;
    read_food_nutrients(&mut data, progress, &foods, &nutrients, &mut counts, emit)?;
    read_portions(&mut data, progress, &foods, &units, &mut counts, emit)?;
    Ok(counts)
}

/// The catalog's name for a `food.data_type`, or `None` for types it does not hold (Branded, the
/// Foundation sub-sample and acquisition records...).
pub(crate) fn data_type_label(raw: &str) -> Option<&'static str> {
    match raw {
        "sr_legacy_food" => Some(SR_LEGACY),
        "foundation_food" => Some(FOUNDATION),
        "survey_fndds_food" => Some(SURVEY),
        _ => None,
    }
}

/// `id → text` from a small two-column table; empty when the (optional) table is absent.
fn read_lookup(
    data: &mut Dataset,
    progress: &ProgressBar,
    file: &'static str,
    columns: [&'static str; 2],
) -> Result<HashMap<i64, String>, ImportError> {
    let mut map = HashMap::new();
    if data.files.contains_key(file) {
        data.table(file, &columns, progress)?.for_each(|row| {
            map.insert(row.int(0)?, row.text(1).to_string());
            Ok(())
        })?;
    }
    Ok(map)
}

/// `nutrient.id → (key, rank)`, with `None` for nutrients food-mcp does not track.
fn read_nutrients(
    data: &mut Dataset,
    progress: &ProgressBar,
) -> Result<HashMap<i64, Option<(NutrientKey, usize)>>, ImportError> {
    let mut map = HashMap::new();
    data.table(NUTRIENT, &["id", "nutrient_nbr"], progress)?
        .for_each(|row| {
            // Later FDC releases write numbers as "208.0"; NutrientKey knows them as "208".
            let nbr = row.text(1);
            let nbr = nbr.strip_suffix(".0").unwrap_or(nbr);
            map.insert(row.int(0)?, NutrientKey::from_usda_number(nbr));
            Ok(())
        })?;
    Ok(map)
}

fn read_foods(
    data: &mut Dataset,
    progress: &ProgressBar,
    categories: &HashMap<i64, String>,
    wweia: &HashMap<i64, String>,
    counts: &mut ReadCounts,
    emit: &mut dyn FnMut(Batch) -> Result<(), ImportError>,
) -> Result<HashSet<i64>, ImportError> {
    let mut ids = HashSet::new();
    let mut sink = Sink::new(Batch::Foods, emit);
    let columns = ["fdc_id", "data_type", "description", "food_category_id"];
    data.table(FOOD, &columns, progress)?.for_each(|row| {
        let fdc_id = row.int(0)?;
        let Some(data_type) = data_type_label(row.text(1)) else {
            counts.skipped.foods_other_types += 1;
            return Ok(());
        };
        if !ids.insert(fdc_id) {
            return Err(row.malformed(format!("fdc_id {fdc_id} appears twice")));
        }
        // FNDDS foods point into the WWEIA categories, the others into food_category.
        let lookup = if data_type == SURVEY {
            wweia
        } else {
            categories
        };
        let category = row.opt_int(3)?.and_then(|id| lookup.get(&id).cloned());
        *counts.foods_by_type.entry(data_type).or_default() += 1;
        sink.push(FoodRow {
            fdc_id,
            data_type,
            description: row.text(2).to_string(),
            category,
        })
    })?;
    sink.finish()?;
    Ok(ids)
}

fn read_food_nutrients(
    data: &mut Dataset,
    progress: &ProgressBar,
    foods: &HashSet<i64>,
    nutrients: &HashMap<i64, Option<(NutrientKey, usize)>>,
    counts: &mut ReadCounts,
    emit: &mut dyn FnMut(Batch) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let skipped = &mut counts.skipped;
    let mut sink = Sink::new(Batch::Nutrients, emit);
    let columns = ["fdc_id", "nutrient_id", "amount"];
    data.table(FOOD_NUTRIENT, &columns, progress)?
        .for_each(|row| {
            let fdc_id = row.int(0)?;
            let nutrient_id = row.int(1)?;
            let amount = row.opt_float(2)?;
            if !foods.contains(&fdc_id) {
                skipped.nutrient_rows_unknown_food += 1;
                return Ok(());
            }
            let Some(known) = nutrients.get(&nutrient_id) else {
                skipped.nutrient_rows_unknown_nutrient += 1;
                return Ok(());
            };
            let Some((key, rank)) = *known else {
                skipped.nutrient_rows_untracked += 1;
                return Ok(());
            };
            let Some(amount) = amount else {
                skipped.nutrient_rows_without_amount += 1;
                return Ok(());
            };
            sink.push(NutrientRow {
                fdc_id,
                key,
                rank,
                amount,
            })
        })?;
    sink.finish()
}

fn read_portions(
    data: &mut Dataset,
    progress: &ProgressBar,
    foods: &HashSet<i64>,
    units: &HashMap<i64, String>,
    counts: &mut ReadCounts,
    emit: &mut dyn FnMut(Batch) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut sink = Sink::new(Batch::Portions, emit);
    let columns = [
        "fdc_id",
        "seq_num",
        "amount",
        "measure_unit_id",
        "portion_description",
        "modifier",
        "gram_weight",
    ];
    data.table(FOOD_PORTION, &columns, progress)?
        .for_each(|row| {
            let fdc_id = row.int(0)?;
            let seq = row.opt_int(1)?;
            let raw = UsdaPortion {
                amount: row.opt_float(2)?,
                // An id missing from measure_unit.csv says no more than "undetermined" does.
                measure_unit: row
                    .opt_int(3)?
                    .and_then(|id| units.get(&id))
                    .map(String::as_str),
                description: Some(row.text(4)),
                modifier: Some(row.text(5)),
                grams: row.opt_float(6)?,
            };
            if !foods.contains(&fdc_id) {
                counts.skipped.portion_rows_unknown_food += 1;
                return Ok(());
            }
            let Some(portion) = raw.to_portion() else {
                counts.skipped.portion_rows_unusable += 1;
                return Ok(());
            };
            counts.portions += 1;
            sink.push(PortionRow {
                fdc_id,
                seq,
                portion,
            })
        })?;
    sink.finish()
}

/// Collects rows into batches and hands full ones to the writer.
struct Sink<'e, T> {
    rows: Vec<T>,
    wrap: fn(Vec<T>) -> Batch,
    emit: &'e mut dyn FnMut(Batch) -> Result<(), ImportError>,
}

impl<'e, T> Sink<'e, T> {
    fn new(
        wrap: fn(Vec<T>) -> Batch,
        emit: &'e mut dyn FnMut(Batch) -> Result<(), ImportError>,
    ) -> Self {
        Sink {
            rows: Vec::with_capacity(BATCH_ROWS),
            wrap,
            emit,
        }
    }

    fn push(&mut self, row: T) -> Result<(), ImportError> {
        self.rows.push(row);
        if self.rows.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ImportError> {
        let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(BATCH_ROWS));
        (self.emit)((self.wrap)(rows))
    }

    fn finish(mut self) -> Result<(), ImportError> {
        if self.rows.is_empty() {
            Ok(())
        } else {
            self.flush()
        }
    }
}

/// Where a needed file lies: in the folder tree or in the zip.
enum Location {
    Path(PathBuf),
    ZipEntry(usize),
}

struct Entry {
    location: Location,
    /// Uncompressed size, for the progress bar.
    size: u64,
    /// Folder depth: official downloads hold one folder, so the shallowest copy of a name wins.
    depth: usize,
}

/// An opened download: the CSV files found in it by name, wherever they lie.
struct Dataset {
    input: PathBuf,
    files: HashMap<String, Entry>,
    archive: Option<ZipArchive<BufReader<File>>>,
}

impl Dataset {
    fn open(input: &Path) -> Result<Dataset, ImportError> {
        let io_error = |source| ImportError::Io {
            path: input.to_path_buf(),
            source,
        };
        let metadata = fs::metadata(input).map_err(io_error)?;
        let mut dataset = Dataset {
            input: input.to_path_buf(),
            files: HashMap::new(),
            archive: None,
        };
        if metadata.is_dir() {
            dataset.scan_folder(input, 0)?;
        } else {
            let file = File::open(input).map_err(io_error)?;
            let mut archive =
                ZipArchive::new(BufReader::new(file)).map_err(|source| ImportError::Zip {
                    path: input.to_path_buf(),
                    source,
                })?;
            for index in 0..archive.len() {
                let entry = archive.by_index(index).map_err(|source| ImportError::Zip {
                    path: input.to_path_buf(),
                    source,
                })?;
                let name = entry
                    .name()
                    .map_err(|source| ImportError::Zip {
                        path: input.to_path_buf(),
                        source,
                    })?
                    .into_owned();
                let size = entry.size();
                let depth = name.matches('/').count();
                if let Some(base) = name.rsplit('/').next() {
                    dataset.add(base, Location::ZipEntry(index), size, depth);
                }
            }
            dataset.archive = Some(archive);
        }
        if !dataset.files.contains_key(FOOD) {
            return Err(ImportError::NotADataset(input.to_path_buf()));
        }
        Ok(dataset)
    }

    fn scan_folder(&mut self, folder: &Path, depth: usize) -> Result<(), ImportError> {
        let io_error = |source| ImportError::Io {
            path: folder.to_path_buf(),
            source,
        };
        for entry in fs::read_dir(folder).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            let path = entry.path();
            // file_type does not follow symlinks, so a symlinked folder cannot loop the walk.
            if entry.file_type().map_err(io_error)?.is_dir() {
                self.scan_folder(&path, depth + 1)?;
            } else if let Some(name) = entry.file_name().to_str() {
                let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                self.add(name, Location::Path(path.clone()), size, depth);
            }
        }
        Ok(())
    }

    fn add(&mut self, name: &str, location: Location, size: u64, depth: usize) {
        if !name.ends_with(".csv") {
            return;
        }
        let entry = Entry {
            location,
            size,
            depth,
        };
        match self.files.get(name) {
            Some(existing) if existing.depth <= depth => {}
            _ => {
                self.files.insert(name.to_string(), entry);
            }
        }
    }

    /// Bytes the import will read.
    fn total_size(&self) -> u64 {
        [
            FOOD,
            FOOD_NUTRIENT,
            NUTRIENT,
            FOOD_PORTION,
            MEASURE_UNIT,
            FOOD_CATEGORY,
            WWEIA_CATEGORY,
        ]
        .iter()
        .filter_map(|name| self.files.get(*name))
        .map(|entry| entry.size)
        .sum()
    }

    /// Opens `file` as CSV and checks that its header has every one of `columns` ("a|b" accepts
    /// either name, for headers that changed between releases).
    fn table<'d>(
        &'d mut self,
        file: &'static str,
        columns: &[&'static str],
        progress: &ProgressBar,
    ) -> Result<Table<'d>, ImportError> {
        let missing = || ImportError::MissingFile {
            file,
            input: self.input.clone(),
        };
        let entry = self.files.get(file).ok_or_else(missing)?;
        let reader: Box<dyn Read + 'd> = match (&entry.location, self.archive.as_mut()) {
            (Location::Path(path), _) => {
                Box::new(File::open(path).map_err(|source| ImportError::Io {
                    path: path.clone(),
                    source,
                })?)
            }
            (Location::ZipEntry(index), Some(archive)) => Box::new(
                archive
                    .by_index(*index)
                    .map_err(|source| ImportError::Zip {
                        path: self.input.join(file),
                        source,
                    })?,
            ),
            (Location::ZipEntry(_), None) => return Err(missing()),
        };
        progress.set_message(file);
        let mut csv = csv::ReaderBuilder::new().from_reader(progress.wrap_read(reader));
        let header = csv.headers().map_err(|e| csv_error(file, e))?.clone();
        let found = || header.iter().collect::<Vec<_>>().join(", ");
        let mut indexes = Vec::with_capacity(columns.len());
        for column in columns {
            let index = column
                .split('|')
                .find_map(|name| header.iter().position(|h| h.trim() == name))
                .ok_or_else(|| ImportError::BadHeader {
                    file,
                    expected: column.replace('|', " or "),
                    found: found(),
                })?;
            indexes.push(index);
        }
        Ok(Table {
            file,
            csv,
            names: columns.to_vec(),
            indexes,
        })
    }
}

struct Table<'d> {
    file: &'static str,
    csv: csv::Reader<indicatif::ProgressBarIter<Box<dyn Read + 'd>>>,
    names: Vec<&'static str>,
    indexes: Vec<usize>,
}

impl Table<'_> {
    /// Calls `f` on every data row, stopping at the first error.
    fn for_each(
        mut self,
        mut f: impl FnMut(&Row<'_>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let mut record = csv::StringRecord::new();
        while self
            .csv
            .read_record(&mut record)
            .map_err(|e| csv_error(self.file, e))?
        {
            let row = Row {
                file: self.file,
                line: record.position().map_or(0, |p| p.line()),
                record: &record,
                names: &self.names,
                indexes: &self.indexes,
            };
            f(&row)?;
        }
        Ok(())
    }
}

/// One data row, read through the columns its table asked for (by position in that list).
struct Row<'r> {
    file: &'static str,
    line: u64,
    record: &'r csv::StringRecord,
    names: &'r [&'static str],
    indexes: &'r [usize],
}

impl Row<'_> {
    fn text(&self, column: usize) -> &str {
        self.record.get(self.indexes[column]).unwrap_or("").trim()
    }

    fn malformed(&self, reason: String) -> ImportError {
        ImportError::MalformedRow {
            file: self.file,
            line: self.line,
            reason,
        }
    }

    fn not_a_number(&self, column: usize) -> ImportError {
        self.malformed(format!(
            "{} {:?} is not a number",
            self.names[column],
            self.text(column)
        ))
    }

    fn int(&self, column: usize) -> Result<i64, ImportError> {
        self.opt_int(column)?
            .ok_or_else(|| self.malformed(format!("{} is empty", self.names[column])))
    }

    fn opt_int(&self, column: usize) -> Result<Option<i64>, ImportError> {
        let text = self.text(column);
        if text.is_empty() {
            return Ok(None);
        }
        // Some FDC exports write whole numbers as "1.0".
        let text = text.strip_suffix(".0").unwrap_or(text);
        text.parse()
            .map(Some)
            .map_err(|_| self.not_a_number(column))
    }

    fn opt_float(&self, column: usize) -> Result<Option<f64>, ImportError> {
        let text = self.text(column);
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Some(value)),
            _ => Err(self.not_a_number(column)),
        }
    }
}

fn csv_error(file: &'static str, error: csv::Error) -> ImportError {
    let line = error.position().map_or(0, |p| p.line());
    let reason = match error.into_kind() {
        csv::ErrorKind::Io(source) => {
            return ImportError::Io {
                path: PathBuf::from(file),
                source,
            };
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        other => format!("{other:?}"),
    };
    ImportError::MalformedRow { file, line, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_types() {
        assert_eq!(data_type_label("sr_legacy_food"), Some("SR Legacy"));
        assert_eq!(data_type_label("foundation_food"), Some("Foundation"));
        assert_eq!(data_type_label("survey_fndds_food"), Some("Survey (FNDDS)"));
        assert_eq!(data_type_label("branded_food"), None);
    }

    /// Writes a minimal download (every required file) and returns its folder.
    fn dataset(food_nutrient: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("supporting");
        fs::create_dir(&sub).unwrap();
        let write = |path: PathBuf, text: &str| fs::write(path, text).unwrap();
        write(
            dir.path().join(FOOD),
            "\u{feff}\"fdc_id\",\"data_type\",\"description\",\"food_category_id\"\n\
             \"1\",\"sr_legacy_food\",\"Bananas, raw\",\"9\"\n\
             \"2\",\"branded_food\",\"Banana chips\",\"\"\n\
             \"3\",\"survey_fndds_food\",\"Banana, raw\",\"6002\"\n",
        );
        write(dir.path().join(FOOD_NUTRIENT), food_nutrient);
        write(
            dir.path().join(FOOD_PORTION),
            "id,fdc_id,seq_num,amount,measure_unit_id,portion_description,modifier,gram_weight\n\
             1,1,1,1,9999,,\"medium (7\"\" to 7-7/8\"\" long)\",118\n\
             2,2,1,1,9999,,cup,100\n\
             3,3,1,,9999,1 medium banana,10205,118\n\
             4,1,2,0,9999,,cup,142\n",
        );
        write(
            sub.join(NUTRIENT),
            "id,name,unit_name,nutrient_nbr,rank\n1008,Energy,KCAL,208,1\n2047,Energy (Atwater General),KCAL,957.0,1\n1007,Ash,G,207,1\n",
        );
        write(
            sub.join(MEASURE_UNIT),
            "id,name\n1000,cup\n9999,undetermined\n",
        );
        write(
            sub.join(FOOD_CATEGORY),
            "id,code,description\n9,0900,Fruits and Fruit Juices\n",
        );
        write(
            sub.join(WWEIA_CATEGORY),
            "wweia_food_category_code,wweia_food_category_description\n6002,Bananas\n",
        );
        dir
    }

    fn read(dir: &Path) -> Result<(Vec<Batch>, ReadCounts), ImportError> {
        let mut batches = Vec::new();
        let counts = read_dataset(dir, &ProgressBar::hidden(), &mut |b| {
            batches.push(b);
            Ok(())
        })?;
        Ok((batches, counts))
    }

    #[test]
    fn reads_a_folder_into_rows_and_counts_what_it_skips() {
        let dir = dataset(
            "id,fdc_id,nutrient_id,amount\n1,1,1008,89\n2,1,1007,0.8\n3,2,1008,500\n4,1,9,1\n5,3,2047,\n6,3,2047,90\n",
        );
        let (batches, counts) = read(dir.path()).unwrap();
        let [
            Batch::Foods(foods),
            Batch::Nutrients(nutrients),
            Batch::Portions(portions),
        ] = &batches[..]
        else {
            panic!("expected one batch per table");
        };
        assert_eq!(foods.iter().map(|f| f.fdc_id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(
            foods[0].category.as_deref(),
            Some("Fruits and Fruit Juices")
        );
        assert_eq!(
            foods[1].category.as_deref(),
            Some("Bananas"),
            "FNDDS uses WWEIA categories"
        );
        assert_eq!(foods[1].data_type, "Survey (FNDDS)");
        let kept: Vec<_> = nutrients
            .iter()
            .map(|n| (n.fdc_id, n.key, n.rank, n.amount))
            .collect();
        assert_eq!(
            kept,
            [
                (1, NutrientKey::Calories, 0, 89.0),
                (3, NutrientKey::Calories, 2, 90.0)
            ]
        );
        assert_eq!(portions.len(), 2);
        assert_eq!(portions[1].portion.description, "1 medium banana");
        let s = &counts.skipped;
        assert_eq!(s.foods_other_types, 1);
        assert_eq!(s.nutrient_rows_unknown_food, 1);
        assert_eq!(s.nutrient_rows_unknown_nutrient, 1);
        assert_eq!(s.nutrient_rows_untracked, 1);
        assert_eq!(s.nutrient_rows_without_amount, 1);
        assert_eq!(s.portion_rows_unknown_food, 1);
        assert_eq!(s.portion_rows_unusable, 1);
        assert_eq!(counts.portions, 2);
    }

    #[test]
    fn reads_the_same_files_from_a_zip() {
        let dir = dataset("id,fdc_id,nutrient_id,amount\n1,1,1008,89\n");
        let zip_path = dir.path().join("download.zip");
        let mut zip = zip::ZipWriter::new(File::create(&zip_path).unwrap());
        for name in [FOOD, FOOD_NUTRIENT, FOOD_PORTION] {
            zip.start_file(
                format!("FoodData_Central/{name}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            std::io::Write::write_all(&mut zip, &fs::read(dir.path().join(name)).unwrap()).unwrap();
        }
        for name in [NUTRIENT, MEASURE_UNIT] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(
                &mut zip,
                &fs::read(dir.path().join("supporting").join(name)).unwrap(),
            )
            .unwrap();
        }
        zip.finish().unwrap();
        let (batches, counts) = read(&zip_path).unwrap();
        assert_eq!(batches.len(), 3);
        assert_eq!(counts.foods_by_type.values().sum::<u64>(), 2);
    }

    #[test]
    fn errors_name_the_file_the_column_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).err().unwrap();
        assert!(matches!(err, ImportError::NotADataset(_)), "{err}");

        let dir = dataset("id,fdc_id,nutrient_id,amount\n1,1,1008,89\n");
        fs::remove_file(dir.path().join(FOOD_PORTION)).unwrap();
        let err = read(dir.path()).err().unwrap();
        assert!(
            matches!(
                err,
                ImportError::MissingFile {
                    file: FOOD_PORTION,
                    ..
                }
            ),
            "{err}"
        );

        let dir = dataset("id,fdc_id,nutrient,amount\n1,1,1008,89\n");
        let err = read(dir.path()).err().unwrap();
        assert!(
            matches!(&err, ImportError::BadHeader { file: FOOD_NUTRIENT, expected, .. } if expected == "nutrient_id"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("found: id, fdc_id, nutrient, amount"),
            "{err}"
        );

        let dir = dataset("id,fdc_id,nutrient_id,amount\n1,1,1008,89\n2,1,1008,lots\n");
        let err = read(dir.path()).err().unwrap();
        assert!(
            matches!(
                err,
                ImportError::MalformedRow {
                    file: FOOD_NUTRIENT,
                    line: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("amount \"lots\" is not a number"),
            "{err}"
        );

        let dir = dataset("id,fdc_id,nutrient_id,amount\n1,1,1008,89\n2,1,1008\n");
        let err = read(dir.path()).err().unwrap();
        assert!(
            matches!(
                err,
                ImportError::MalformedRow {
                    file: FOOD_NUTRIENT,
                    line: 3,
                    ..
                }
            ),
            "{err}"
        );
    }
}
