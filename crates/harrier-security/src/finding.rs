//! What a detector reports about one telemetry item.
//!
//! A [`Finding`] names the detector that fired (`kind`, one of the detector names such as
//! `privileged_pod`), how bad it is ([`Severity`]) and why, as one human sentence. The
//! anomaly processor turns the findings of an item into its `security.anomaly.*`
//! attributes.

/// How serious a finding is. Ordered: `Low < Medium < High < Critical`, so the
/// highest of several findings is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look when investigating something else.
    Low,
    /// Unusual; review when convenient.
    Medium,
    /// Likely an attack step or a serious misconfiguration; review soon.
    High,
    /// Direct path to cluster or node takeover; review now.
    Critical,
}

impl Severity {
    /// The lowercase name used in configuration and in `security.anomaly.severity`:
    /// `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One detector's verdict on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The detector's name (e.g. `privileged_pod`); becomes an element of
    /// `security.anomaly.types`.
    pub kind: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// One sentence: who did what, and why it is unusual.
    pub reason: String,
}
