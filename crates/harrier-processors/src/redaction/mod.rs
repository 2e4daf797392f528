//! Processor `redaction`: removes personal and secret data from telemetry.
//!
//! Every attribute list (resource, span, span event, span link, log record, metric data
//! point and exemplar), every log body (string or map) and every kvlist map and array
//! inside them is inspected:
//!
//! - values of **blocked keys** (`password`, `token`, `*.authorization`, ...; the `data`
//!   and `stringData` of a Kubernetes `Secret` in `k8s.audit.request_object` /
//!   `k8s.audit.response_object`) are scrubbed whole;
//! - strings are searched by the **built-in detectors** ([`detect`]: e-mail, payment
//!   cards, SSNs, IBANs, IPs, JWTs, credentials, cloud and chat tokens, private keys,
//!   URL passwords) and the `blocked_values` regexes, in one pass per string;
//! - with `allowed_keys`, every other top-level attribute is removed; `ignored_keys` are
//!   never inspected.
//!
//! A finding is masked (`****`), hashed (`hmac:` + 16 hex digits of an HMAC-SHA256, see
//! [`hmac`]) or removed, per `action`. Key types: [`RedactionFactory`],
//! [`RedactionConfig`], [`RedactionProcessor`]. User documentation:
//! `docs/components/redaction.md`.

mod config;
pub mod detect;
pub mod hmac;
mod keys;
mod processor;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_detectors;
#[cfg(test)]
mod tests_keys;
mod validate;

pub use config::{Action, DEFAULT_BLOCKED_KEYS, DetectorsConfig, RedactionConfig, Summary};
pub use processor::{COUNT_KEY, KEYS_KEY, MASK, RedactionProcessor};

use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory, parse_config};
use harrier_core::error::ConfigError;

/// Factory for `redaction`.
pub struct RedactionFactory;

impl Factory for RedactionFactory {
    fn type_name(&self) -> &'static str {
        "redaction"
    }
    fn description(&self) -> &'static str {
        "masks, hashes or removes personal and secret data in attributes and log bodies"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<RedactionConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
}

impl ProcessorFactory for RedactionFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config: RedactionConfig = parse_config(config)?;
        Ok(Box::new(RedactionProcessor::new(config, ctx)?))
    }
}
