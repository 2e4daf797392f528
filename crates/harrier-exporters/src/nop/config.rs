//! `exporters.nop` settings: there are none.

use serde::Deserialize;

/// `exporters.nop`: takes no settings; any key is an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NopConfig {}
