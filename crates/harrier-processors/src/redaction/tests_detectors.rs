//! Table-driven tests of every built-in detector: true positives, near misses, and the
//! switch that turns each one off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{build_with, log_attr, logs_with_attr};
use super::*;

const JWT: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const GITHUB: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const GITHUB_PAT: &str = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
const PEM: &str =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----";

/// `(detector, input, expected)`: the detector that must find it, the string, and the
/// string after masking. `expected == input` is a near miss.
fn table() -> Vec<(&'static str, String, String)> {
    let rows: Vec<(&str, &str, &str)> = vec![
        // e-mail
        (
            "email",
            "contact alice.smith+tag@example.co.uk now",
            "contact **** now",
        ),
        ("email", "from <bob@mail.example.org>", "from <****>"),
        ("email", "user@localhost", "user@localhost"),
        ("email", "alice@example", "alice@example"),
        ("email", "@example.com handle", "@example.com handle"),
        // payment cards
        ("credit_card", "card 4111 1111 1111 1111 ok", "card **** ok"),
        ("credit_card", "4111-1111-1111-1111", "****"),
        ("credit_card", "pan=5500000000000004;", "pan=****;"),
        ("credit_card", "amex 378282246310005", "amex ****"),
        ("credit_card", "4111111111111112", "4111111111111112"),
        (
            "credit_card",
            "ts 1700000000000000000",
            "ts 1700000000000000000",
        ),
        ("credit_card", "id 41111111111", "id 41111111111"),
        (
            "credit_card",
            "4111  1111 1111 1111",
            "4111  1111 1111 1111",
        ),
        // SSN
        ("us_ssn", "ssn 123-45-6789", "ssn ****"),
        ("us_ssn", "000-12-3456", "000-12-3456"),
        ("us_ssn", "666-12-3456", "666-12-3456"),
        ("us_ssn", "912-12-3456", "912-12-3456"),
        ("us_ssn", "123-00-4567", "123-00-4567"),
        ("us_ssn", "123-45-0000", "123-45-0000"),
        ("us_ssn", "on 2024-05-01", "on 2024-05-01"),
        ("us_ssn", "phone 555-123-4567", "phone 555-123-4567"),
        // IBAN
        ("iban", "to DE89370400440532013000.", "to ****."),
        ("iban", "GB82 WEST 1234 5698 7654 32", "****"),
        (
            "iban",
            "pay GB82 WEST 1234 5698 7654 32 NOW",
            "pay **** NOW",
        ),
        (
            "iban",
            "ES91 2100 0418 4502 0005 1332 THIS WEEK",
            "**** THIS WEEK",
        ),
        ("iban", "DE89370400440532013001", "DE89370400440532013001"),
        (
            "iban",
            "GB82 WEST 1234 5698 7654 33",
            "GB82 WEST 1234 5698 7654 33",
        ),
        // IP addresses (enabled in this table)
        (
            "ip_address",
            "client 192.168.1.20 connected",
            "client **** connected",
        ),
        ("ip_address", "addr 2001:db8::8a2e:370:7334.", "addr ****."),
        ("ip_address", "[::1]:8080", "[****]:8080"),
        ("ip_address", "version 1.2.3.4", "version ****"),
        ("ip_address", "v1.2.3.4", "v1.2.3.4"),
        ("ip_address", "1.2.3.4.5", "1.2.3.4.5"),
        ("ip_address", "999.1.1.1", "999.1.1.1"),
        ("ip_address", "at 12:30:45", "at 12:30:45"),
        ("ip_address", "a::b::c", "a::b::c"),
        // JWT
        ("jwt", "token JWT here", "token **** here"),
        (
            "jwt",
            "eyJhbGciOiJIUzI1NiJ9 only",
            "eyJhbGciOiJIUzI1NiJ9 only",
        ),
        // credentials after Bearer / Basic
        (
            "auth_credentials",
            "Authorization: Bearer abc123.def-456",
            "Authorization: Bearer ****",
        ),
        (
            "auth_credentials",
            "basic dXNlcjpwYXNzd29yZA==",
            "basic ****",
        ),
        (
            "auth_credentials",
            "Bearer authentication is used",
            "Bearer authentication is used",
        ),
        ("auth_credentials", "basic information", "basic information"),
        (
            "auth_credentials",
            "Basic aGVsbG8gd29ybGQ=",
            "Basic aGVsbG8gd29ybGQ=",
        ),
        // AWS
        ("aws_keys", "key AKIAIOSFODNN7EXAMPLE used", "key **** used"),
        ("aws_keys", "ASIAY34FZKBOKMUTVV7A", "****"),
        (
            "aws_keys",
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key=****",
        ),
        (
            "aws_keys",
            "SECRET: \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
            "SECRET: \"****\"",
        ),
        ("aws_keys", "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPL"),
        (
            "aws_keys",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        // GitHub and Slack
        ("github_token", "push with GITHUB", "push with ****"),
        ("github_token", "GITHUB_PAT", "****"),
        ("github_token", "ghp_short", "ghp_short"),
        ("slack_token", "xoxb-1234567890-abcdefghij", "****"),
        (
            "slack_token",
            "xoxz-1234567890-abcdefghij",
            "xoxz-1234567890-abcdefghij",
        ),
        // PEM private keys
        ("private_key", "key PEM after", "key **** after"),
        (
            "private_key",
            "x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg",
            "x ****",
        ),
        (
            "private_key",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        ),
        // URL passwords
        (
            "url_password",
            "dsn postgres://app:s3cr3t@db:5432/x",
            "dsn postgres://app:****@db:5432/x",
        ),
        (
            "url_password",
            "redis://:hunter2@cache",
            "redis://:****@cache",
        ),
        (
            "url_password",
            "https://example.com:8443/path",
            "https://example.com:8443/path",
        ),
        (
            "url_password",
            "ssh://deploy@build-host/x",
            "ssh://deploy@build-host/x",
        ),
        (
            "email",
            "clone ssh://git@github.com/x",
            "clone ssh://****/x",
        ),
    ];
    let fill = |s: &str| {
        s.replace("GITHUB_PAT", GITHUB_PAT)
            .replace("GITHUB", GITHUB)
            .replace("JWT", JWT)
            .replace("PEM", PEM)
    };
    rows.into_iter()
        .map(|(d, input, expected)| (d, fill(input), fill(expected)))
        .collect()
}

fn detectors(enable_ip: bool, off: Option<&str>) -> DetectorsConfig {
    let mut d = DetectorsConfig {
        ip_address: enable_ip,
        ..DetectorsConfig::default()
    };
    let flag = match off {
        None => return d,
        Some("email") => &mut d.email,
        Some("credit_card") => &mut d.credit_card,
        Some("us_ssn") => &mut d.us_ssn,
        Some("iban") => &mut d.iban,
        Some("ip_address") => &mut d.ip_address,
        Some("jwt") => &mut d.jwt,
        Some("auth_credentials") => &mut d.auth_credentials,
        Some("aws_keys") => &mut d.aws_keys,
        Some("github_token") => &mut d.github_token,
        Some("slack_token") => &mut d.slack_token,
        Some("private_key") => &mut d.private_key,
        Some("url_password") => &mut d.url_password,
        Some(other) => panic!("unknown detector {other}"),
    };
    *flag = false;
    d
}

fn redact_one(
    config: RedactionConfig,
    input: &str,
) -> (String, harrier_core::telemetry::Telemetry) {
    let (mut p, telemetry) = build_with(config);
    let mut batch = logs_with_attr("msg", input);
    p.redact(&mut batch);
    (log_attr(&batch, "msg").unwrap_or_default(), telemetry)
}

#[test]
fn every_detector_finds_its_positives_and_skips_near_misses() {
    for (detector, input, expected) in table() {
        let config = RedactionConfig {
            detectors: detectors(true, None),
            ..RedactionConfig::default()
        };
        let (got, telemetry) = redact_one(config, &input);
        assert_eq!(got, expected, "detector {detector}, input {input:?}");
        let counted = telemetry.counter_sum(
            "harrier_processor_redaction_masked_values",
            &[("detector", detector)],
        );
        let total = telemetry.counter_sum("harrier_processor_redaction_masked_values", &[]);
        if input == expected {
            assert_eq!(total, 0, "near miss {input:?} counted");
        } else {
            assert_eq!(counted, total, "{input:?} counted under another detector");
            assert!(counted >= 1, "{input:?} not counted under {detector}");
        }
    }
}

#[test]
fn each_detector_can_be_switched_off() {
    for (detector, input, expected) in table() {
        if input == expected {
            continue;
        }
        let config = RedactionConfig {
            detectors: detectors(true, Some(detector)),
            ..RedactionConfig::default()
        };
        let (got, _) = redact_one(config, &input);
        assert_eq!(got, input, "{detector} = false still changed {input:?}");
    }
}

#[test]
fn ip_addresses_are_off_by_default() {
    let (got, _) = redact_one(RedactionConfig::default(), "client 192.168.1.20 ::1");
    assert_eq!(got, "client 192.168.1.20 ::1");
}

#[test]
fn several_findings_in_one_string_and_overlaps_merge() {
    let (got, telemetry) = redact_one(
        RedactionConfig::default(),
        "a@b.io paid with 4111111111111111, ssn 123-45-6789, see postgres://u:p4ss@h/db",
    );
    assert_eq!(
        got,
        "**** paid with ****, ssn ****, see postgres://u:****@h/db"
    );
    assert_eq!(
        telemetry.counter_sum("harrier_processor_redaction_masked_values", &[]),
        4
    );
    // A JWT inside a Bearer header is found by two detectors: one mask, counted once.
    let (got, telemetry) = redact_one(RedactionConfig::default(), &format!("Bearer {JWT}"));
    assert_eq!(got, "Bearer ****");
    assert_eq!(
        telemetry.counter_sum("harrier_processor_redaction_masked_values", &[]),
        1
    );
}

#[test]
fn aws_secret_is_found_under_a_key_naming_it() {
    let (mut p, _) = build_with(RedactionConfig::default());
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let mut batch = logs_with_attr("cloud.AWS_Secret_Access_Key", secret);
    p.redact(&mut batch);
    assert_eq!(
        log_attr(&batch, "cloud.AWS_Secret_Access_Key").unwrap(),
        "****"
    );
    let mut batch = logs_with_attr("commit.sha", secret);
    p.redact(&mut batch);
    assert_eq!(log_attr(&batch, "commit.sha").unwrap(), secret);
}

#[test]
fn blocked_values_are_extra_detectors() {
    let config = RedactionConfig {
        blocked_values: vec![r"cust-\d{4}".into(), "Alice Smith".into()],
        ..RedactionConfig::default()
    };
    let (got, telemetry) = redact_one(config, "order for cust-1234 (Alice Smith)");
    assert_eq!(got, "order for **** (****)");
    assert_eq!(
        telemetry.counter_sum(
            "harrier_processor_redaction_masked_values",
            &[("detector", "blocked_value")]
        ),
        2
    );
}
