//! The architecture invariants of ARCHITECTURE.md, checked mechanically over `src/` (in the
//! manner of rust-analyzer's tidy test): who may know SQL, which modules stay pure, where actors
//! are called, which way the top-level modules depend on each other, and that every file says
//! what it holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The pure modules: no IO crate, no framework.
const PURE: &[&str] = &["food", "auth", "ports", "clock"];
const IO_CRATES: &[&str] = &[
    "axum", "sqlx", "ractor", "reqwest", "rmcp", "tokio", "hyper",
];

struct SourceFile {
    path: PathBuf,
    /// Path under `src/`, with `/` separators.
    relative: String,
    /// The text before the file's `#[cfg(test)] mod tests` (tests may reach anywhere).
    code: String,
}

fn sources() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = match text.find("#[cfg(test)]\nmod tests") {
                    Some(at) => text[..at].to_string(),
                    None => text,
                };
                let relative = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(SourceFile {
                    path,
                    relative,
                    code,
                });
            }
        }
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    assert!(
        files.len() > 20,
        "found only {} files under src/",
        files.len()
    );
    files
}

/// The top-level module a file belongs to (`food` for `food/units.rs`, `app` for `app.rs`).
fn top_module(relative: &str) -> &str {
    let first = relative.split('/').next().unwrap();
    first.strip_suffix(".rs").unwrap_or(first)
}

/// Whether `code` names `krate` as a path root (`sqlx::`, `use sqlx`, `sqlx::{`).
fn mentions_crate(code: &str, krate: &str) -> bool {
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .any(|line| {
            line.match_indices(krate).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = &line[at + krate.len()..];
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                    && after.starts_with("::")
            })
        })
}

#[test]
fn every_file_opens_with_a_doc_line() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|f| {
            !std::fs::read_to_string(&f.path)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .map(|f| f.relative)
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` line: {missing:?}"
    );
}

#[test]
fn only_storage_knows_sql() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|f| top_module(&f.relative) != "storage" && mentions_crate(&f.code, "sqlx"))
        .map(|f| f.relative)
        .collect();
    assert!(
        offenders.is_empty(),
        "sqlx outside src/storage/: {offenders:?}"
    );
}

#[test]
fn pure_modules_use_no_io_crate() {
    let mut offenders = Vec::new();
    for file in sources() {
        if !PURE.contains(&top_module(&file.relative)) {
            continue;
        }
        for krate in IO_CRATES {
            if mentions_crate(&file.code, krate) {
                offenders.push(format!("{} uses {krate}", file.relative));
            }
        }
    }
    assert!(offenders.is_empty(), "impure pure modules: {offenders:?}");
}

#[test]
fn actors_are_called_only_inside_actors() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|f| top_module(&f.relative) != "actors")
        .filter(|f| f.code.contains("call!(") || f.code.contains("call_t!("))
        .map(|f| f.relative)
        .collect();
    assert!(
        offenders.is_empty(),
        "ractor::call! outside src/actors/ (use the actor's typed handle): {offenders:?}"
    );
}

#[test]
fn top_level_modules_depend_one_way() {
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources() {
        let from = top_module(&file.relative).to_string();
        for (at, _) in file.code.match_indices("crate::") {
            let rest = &file.code[at + "crate::".len()..];
            let to: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                uses.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    let mut both_ways = Vec::new();
    for (from, tos) in &uses {
        for to in tos {
            if from < to && uses.get(to).is_some_and(|back| back.contains(from)) {
                both_ways.push(format!("{from} <-> {to}"));
            }
        }
    }
    assert!(
        both_ways.is_empty(),
        "modules that import each other: {both_ways:?}"
    );
    // And no longer cycle either: a topological order exists.
    let mut remaining = uses.clone();
    loop {
        let leaves: Vec<String> = remaining
            .keys()
            .filter(|m| remaining[*m].iter().all(|to| !remaining.contains_key(to)))
            .cloned()
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            remaining.remove(&leaf);
        }
    }
    assert!(
        remaining.is_empty(),
        "a dependency cycle among: {:?}",
        remaining.keys().collect::<Vec<_>>()
    );
}
