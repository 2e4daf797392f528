//! The corpus in `testdata/`: every valid file parses to exactly its `.out` dump, every
//! invalid file fails on the line (and with the message fragment) of its `.err` file.
//! Files ending in `.prom` are text format, `.om` OpenMetrics.
//!
//! `UPDATE_PROM_CORPUS=1` rewrites the `.out` files (review the diff!).

use super::*;
use std::path::{Path, PathBuf};

/// The corpus directory.
fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/prometheus/parse/testdata")
}

/// The exposition files in `dir`, sorted, with their format.
pub(in super::super) fn inputs(dir: &str) -> Vec<(PathBuf, Format)> {
    let mut files: Vec<(PathBuf, Format)> = std::fs::read_dir(testdata().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let format = match path.extension()?.to_str()? {
                "prom" => Format::Text,
                "om" => Format::OpenMetrics,
                _ => return None,
            };
            Some((path, format))
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

#[test]
fn valid_files_parse_to_their_dumps() {
    let update = std::env::var_os("UPDATE_PROM_CORPUS").is_some();
    let files = inputs("valid");
    assert!(files.len() >= 10, "corpus missing: {files:?}");
    for (path, format) in files {
        let input = std::fs::read_to_string(&path).unwrap();
        let actual = dump(&ok(&input, format));
        let expected_path = path.with_extension(format!(
            "{}.out",
            path.extension().unwrap().to_str().unwrap()
        ));
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        assert_eq!(actual, expected, "{}", path.display());
    }
}

#[test]
fn invalid_files_fail_on_their_line() {
    let files = inputs("invalid");
    assert!(files.len() >= 40, "corpus missing: {files:?}");
    for (path, format) in files {
        let input = std::fs::read_to_string(&path).unwrap();
        let expectation_path = path.with_extension(format!(
            "{}.err",
            path.extension().unwrap().to_str().unwrap()
        ));
        let expectation = std::fs::read_to_string(&expectation_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expectation_path.display()));
        let (line, fragment) = expectation.trim_end().split_once('\n').unwrap();
        let error = err(&input, format);
        assert_eq!(
            error.line,
            line.parse::<usize>().unwrap(),
            "{}: {error}",
            path.display()
        );
        assert!(
            error.message.contains(fragment),
            "{}: {error:?} does not contain {fragment:?}",
            path.display()
        );
        assert!(error.to_string().starts_with(&format!("line {line}: ")));
    }
}

#[test]
fn valid_files_also_parse_in_the_other_format_without_panic() {
    for (path, format) in inputs("valid").into_iter().chain(inputs("invalid")) {
        let input = std::fs::read_to_string(&path).unwrap();
        let other = match format {
            Format::Text => Format::OpenMetrics,
            Format::OpenMetrics => Format::Text,
        };
        let _ = parse(&input, other);
    }
}
