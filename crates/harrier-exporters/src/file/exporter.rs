//! The file exporter: encodes each batch as one OTLP/JSON line (outside the lock) and
//! appends it through the [`FileWriter`] on tokio's blocking pool.

use super::config::FileSettings;
use super::writer::FileWriter;
use async_trait::async_trait;
use harrier_core::component::Exporter;
use harrier_core::error::{ComponentError, ExportError};
use harrier_pdata::Batch;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// Appends batches as OTLP/JSON lines.
pub(crate) struct FileExporter {
    settings: FileSettings,
    /// `None` before `start` and after `shutdown`. Workers export concurrently; the
    /// mutex makes each line one uninterrupted write.
    writer: Arc<Mutex<Option<FileWriter>>>,
}

type Guard<'a> = MutexGuard<'a, Option<FileWriter>>;

fn lock(writer: &Mutex<Option<FileWriter>>) -> Result<Guard<'_>, ExportError> {
    writer
        .lock()
        .map_err(|_| ExportError::permanent("file writer unusable after a panic"))
}

impl FileExporter {
    /// A new exporter; the file is opened in [`Exporter::start`].
    pub(crate) fn new(settings: FileSettings) -> FileExporter {
        FileExporter {
            settings,
            writer: Arc::new(Mutex::new(None)),
        }
    }
}

/// One batch as one line: an OTLP/JSON export request and `\n`.
pub(crate) fn encode_line(batch: &Batch) -> Vec<u8> {
    let mut line = Vec::with_capacity(batch.byte_size() * 2 + 64);
    harrier_pdata::json::encode_request(batch, &mut line);
    line.push(b'\n');
    line
}

#[async_trait]
impl Exporter for FileExporter {
    async fn start(&self) -> Result<(), ComponentError> {
        let path = self.settings.path.clone();
        let rotation = self.settings.rotation;
        let opened = tokio::task::spawn_blocking(move || FileWriter::open(&path, rotation))
            .await
            .map_err(|e| ComponentError::new(format!("opening the output file: {e}")))?;
        let writer = opened.map_err(|e| {
            ComponentError::new(format!(
                "cannot open {} for writing: {e}",
                self.settings.path.display()
            ))
        })?;
        *self
            .writer
            .lock()
            .map_err(|_| ComponentError::new("file writer unusable after a panic"))? = Some(writer);
        Ok(())
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let line = encode_line(batch);
        let writer = Arc::clone(&self.writer);
        let path = self.settings.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = lock(&writer)?;
            let Some(writer) = guard.as_mut() else {
                return Err(ExportError::permanent(format!(
                    "{} is not open (exporter not started or already shut down)",
                    path.display()
                )));
            };
            writer
                .write_line(&line, SystemTime::now())
                .map_err(|e| ExportError::permanent(format!("writing {}: {e}", path.display())))
        })
        .await
        .map_err(|e| ExportError::permanent(format!("file write task failed: {e}")))?
    }

    async fn shutdown(&self) {
        let writer = Arc::clone(&self.writer);
        let path = self.settings.path.clone();
        let closed = tokio::task::spawn_blocking(move || {
            let mut guard = writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.take().map(|mut w| w.close()).transpose()
        })
        .await;
        if let Ok(Err(e)) = closed {
            tracing::warn!(file = %path.display(), error = %e, "closing the output file failed");
        }
    }
}
