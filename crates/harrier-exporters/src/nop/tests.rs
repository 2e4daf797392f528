//! Tests of the `nop` exporter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::shared::test_support::{ctx, logs, metrics, toml, traces};

#[tokio::test]
async fn accepts_every_signal() {
    let exporter = NopExporterFactory.build(&toml(""), &ctx("nop")).unwrap();
    exporter.start().await.unwrap();
    for batch in [traces(2, "n"), metrics(), logs(1, "n")] {
        exporter.export(&batch).await.unwrap();
    }
    exporter.shutdown().await;
}

#[test]
fn rejects_any_setting() {
    let errors = NopExporterFactory
        .validate(&toml("verbosity = \"basic\""))
        .unwrap_err();
    assert_eq!(errors[0].path, "verbosity");
    assert_eq!(NopExporterFactory.validate(&toml("")), Ok(()));
}
