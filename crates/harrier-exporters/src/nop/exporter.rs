//! The nop exporter: accepts and discards.

use async_trait::async_trait;
use harrier_core::component::Exporter;
use harrier_core::error::ExportError;
use harrier_pdata::Batch;

/// Discards every batch, reporting success.
pub(crate) struct NopExporter;

#[async_trait]
impl Exporter for NopExporter {
    async fn export(&self, _batch: &Batch) -> Result<(), ExportError> {
        Ok(())
    }
}
