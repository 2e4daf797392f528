//! Fuzz-style property test: a seeded generator mutates the valid corpus files (byte
//! flips, truncation, insertion of the format's special characters, duplicated and
//! dropped lines) and makes token soups, and every case is parsed in both formats. No
//! case may panic, and every successful parse must be self-consistent.

use super::corpus::inputs;
use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Fragments the parsers give meaning to.
const SPECIAL: &[&str] = &[
    "{",
    "}",
    "\"",
    ",",
    "=",
    "#",
    "\\",
    "\n",
    " ",
    "\t",
    "# EOF\n",
    "# TYPE ",
    "# HELP ",
    "# UNIT ",
    "_total",
    "_bucket",
    "_count",
    "_sum",
    "_created",
    "le=\"",
    "quantile=\"",
    "NaN",
    "+Inf",
    "-Inf",
    "1e400",
    "é",
    "日",
    "\\n",
    "\\\"",
    "\\x",
    " # {",
    "\r",
];

/// Tokens token soups are made of.
const TOKENS: &[&str] = &[
    "foo",
    "foo_total",
    "foo_bucket",
    "foo_sum",
    "foo_count",
    "foo_created",
    "foo_info",
    "foo_gcount",
    "bar",
    "{",
    "}",
    "{}",
    "a=\"1\"",
    "le=\"0.5\"",
    "le=\"+Inf\"",
    "quantile=\"0.9\"",
    "foo=\"x\"",
    "\"q.name\"",
    ",",
    "=",
    " ",
    "  ",
    "\t",
    "\n",
    "1",
    "-2.5",
    "1e3",
    "NaN",
    "+Inf",
    "1700000000",
    "1.5",
    "#",
    "# TYPE foo counter",
    "# TYPE foo histogram",
    "# TYPE foo summary",
    "# TYPE foo gaugehistogram",
    "# TYPE foo stateset",
    "# TYPE foo info",
    "# HELP foo h\\n",
    "# UNIT foo seconds",
    "# EOF",
    " # {t=\"1\"} 1",
    "\\",
    "\"",
    "x\\\"y",
];

/// Asserts what every successful parse must satisfy.
fn assert_consistent(input: &str, format: Format, families: &[Family<'_>]) {
    let mut names = std::collections::HashSet::new();
    for family in families {
        assert!(!family.samples.is_empty(), "empty family in {input:?}");
        if format == Format::OpenMetrics {
            assert!(
                names.insert(family.name),
                "family {} twice in {input:?}",
                family.name
            );
        }
        for sample in &family.samples {
            assert!(
                sample.name.starts_with(family.name),
                "{} not in {} for {input:?}",
                sample.name,
                family.name
            );
            let suffix = suffix_of(family, sample);
            assert!(
                family.kind.suffixes(format).contains(&suffix),
                "suffix {suffix:?} of {} not allowed for {:?} in {input:?}",
                sample.name,
                family.kind
            );
            assert!(!sample.name.is_empty());
            for (i, (name, _)) in sample.labels.iter().enumerate() {
                assert!(!name.is_empty());
                assert!(
                    sample.labels[..i].iter().all(|(other, _)| other != name),
                    "duplicate label {name} in {input:?}"
                );
            }
            if let Some(exemplar) = &sample.exemplar {
                assert_eq!(format, Format::OpenMetrics);
                assert!(matches!(suffix, "_total" | "_bucket"));
                let chars: usize = exemplar
                    .labels
                    .iter()
                    .map(|(n, v)| n.chars().count() + v.chars().count())
                    .sum();
                assert!(chars <= 128);
            }
            if suffix == "_bucket" {
                assert!(super::super::lexer::parse_float(sample.label("le").unwrap()).is_some());
            }
        }
    }
}

/// Parses `input` in both formats; checks the successes.
fn run(input: &str) -> u64 {
    let mut parsed: u64 = 0;
    for format in [Format::Text, Format::OpenMetrics] {
        match parse(input, format) {
            Ok(families) => {
                assert_consistent(input, format, &families);
                parsed += 1;
            }
            Err(error) => {
                let lines = input.split('\n').count() + 1;
                assert!(
                    error.line >= 1 && error.line <= lines,
                    "line {} out of range for {input:?}",
                    error.line
                );
            }
        }
    }
    parsed
}

/// One random mutation of `input`.
fn mutate(rng: &mut StdRng, input: &str) -> String {
    let mut bytes = input.as_bytes().to_vec();
    for _ in 0..rng.random_range(1..4) {
        let at = rng.random_range(0..=bytes.len());
        match rng.random_range(0..6) {
            0 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
            1 => bytes.truncate(at),
            2 | 3 => {
                let special = SPECIAL[rng.random_range(0..SPECIAL.len())];
                bytes.splice(at..at, special.bytes());
            }
            4 => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let i = rng.random_range(0..lines.len());
                let j = rng.random_range(0..lines.len());
                lines.insert(j, lines[i]);
                bytes = lines.join("\n").into_bytes();
            }
            _ => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let i = rng.random_range(0..lines.len());
                lines.remove(i);
                bytes = lines.join("\n").into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A random sequence of tokens.
fn token_soup(rng: &mut StdRng) -> String {
    let mut soup = String::new();
    for _ in 0..rng.random_range(0..40) {
        soup.push_str(TOKENS[rng.random_range(0..TOKENS.len())]);
    }
    if rng.random_bool(0.5) {
        soup.push_str("\n# EOF\n");
    }
    soup
}

#[test]
fn mutated_corpus_and_token_soups_never_panic() {
    let corpus: Vec<String> = inputs("valid")
        .into_iter()
        .map(|(path, _)| std::fs::read_to_string(path).unwrap())
        .collect();
    // `PROM_FUZZ_SCALE=N` runs N times as many cases, with seeds varying by run.
    let scale: u64 = std::env::var("PROM_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let seed = if scale > 1 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    } else {
        0x5EED_0F4A_221E_1200
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut parsed: u64 = 0;
    for _ in 0..7_000 * scale {
        let source = &corpus[rng.random_range(0..corpus.len())];
        parsed += run(&mutate(&mut rng, source));
    }
    for _ in 0..3_000 * scale {
        parsed += run(&token_soup(&mut rng));
    }
    // Both outcomes must be exercised, or the generator is off.
    let cases = 20_000 * scale;
    assert!(
        parsed > cases / 40,
        "only {parsed} of {cases} parses succeeded (seed {seed})"
    );
    assert!(
        parsed < cases * 95 / 100,
        "{parsed} of {cases} parses succeeded (seed {seed})"
    );
    eprintln!("{parsed} of {cases} parses succeeded (seed {seed})");
}

#[test]
fn the_valid_corpus_is_consistent() {
    for (path, format) in inputs("valid") {
        let input = std::fs::read_to_string(&path).unwrap();
        assert_consistent(&input, format, &ok(&input, format));
    }
}
