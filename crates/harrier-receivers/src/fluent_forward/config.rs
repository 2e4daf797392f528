//! `fluent_forward` receiver settings: [`FluentForwardConfig`] and its parts, with
//! their validation. The defaults are the documented ones (docs/components/fluent_forward.md).

use harrier_core::config::{ByteSize, duration};
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// When a `chunk` option is answered with `{"ack": chunk}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acknowledgement {
    /// Once the entries are admitted into every pipeline (default).
    #[default]
    Accepted,
    /// Once every exporter has delivered the entries (end-to-end acknowledgement).
    Delivered,
}

/// One `security.users` entry, checked when the client sends its PING.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The user name the client sends.
    pub username: String,
    /// The password; the client proves it knows it with a salted SHA-512 digest.
    pub password: String,
}

/// `receivers.fluent_forward.security`: the forward protocol's authentication
/// handshake (HELO / PING / PONG). When present, every connection must authenticate
/// before sending events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// The secret shared with the clients (required, not empty).
    pub shared_key: String,
    /// The host name this server reports in its PONG (default `localhost`).
    #[serde(default = "default_self_hostname")]
    pub self_hostname: String,
    /// When not empty, clients must also send one of these user names and its
    /// password (default: none).
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// How long a client has to complete the handshake after connecting (default `10s`).
    #[serde(default = "default_handshake_timeout", with = "duration")]
    pub handshake_timeout: Duration,
}

fn default_self_hostname() -> String {
    "localhost".into()
}

fn default_handshake_timeout() -> Duration {
    Duration::from_secs(10)
}

/// `receivers.fluent_forward`: a Fluentd Forward Protocol v1 server (Fluent Bit's and
/// Fluentd's `forward` outputs, the fluent-logger libraries, Docker's fluentd driver).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FluentForwardConfig {
    /// TCP listen address (default `127.0.0.1:24224`); `""` disables TCP, which then
    /// needs `socket_path`.
    pub endpoint: String,
    /// A unix socket to listen on as well (default: none). A stale socket file left by
    /// an earlier run is replaced; any other file at that path is an error.
    pub socket_path: Option<String>,
    /// Connections served at once over TCP and the unix socket together (default
    /// 1000). Further clients wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Largest single forward message, as sent (default `16MiB`). A larger message
    /// closes its connection; nothing of it is accepted.
    pub max_message_size: ByteSize,
    /// Largest size of a CompressedPackedForward message's entries after
    /// decompression (default `64MiB`).
    pub max_decompressed_size: ByteSize,
    /// When a `chunk` option is acknowledged: `"accepted"` (default) or `"delivered"`.
    pub acknowledgement: Acknowledgement,
    /// Chunks per connection admitted but not yet acknowledged (default 64). In
    /// `"delivered"` mode, once this many wait for delivery the connection stops being
    /// read until the oldest is delivered.
    pub max_pending_acks: usize,
    /// The authentication handshake, if required (default: none).
    pub security: Option<SecurityConfig>,
}

impl Default for FluentForwardConfig {
    fn default() -> Self {
        FluentForwardConfig {
            endpoint: "127.0.0.1:24224".into(),
            socket_path: None,
            max_connections: 1000,
            max_message_size: ByteSize::mib(16),
            max_decompressed_size: ByteSize::mib(64),
            acknowledgement: Acknowledgement::Accepted,
            max_pending_acks: 64,
            security: None,
        }
    }
}

fn addr(endpoint: &str) -> Result<SocketAddr, ConfigError> {
    endpoint.parse().map_err(|e| {
        ConfigError::new(
            "endpoint",
            format!(
                "invalid address {endpoint:?}: {e} (expected host:port, e.g. 127.0.0.1:24224, or \"\" to disable TCP)"
            ),
        )
    })
}

impl FluentForwardConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Each problem with its key.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        let socket = self.socket_path.as_deref().unwrap_or("");
        if self.endpoint.is_empty() && socket.is_empty() {
            errors.push(ConfigError::new(
                "endpoint",
                "nothing to listen on: set endpoint (host:port) and/or socket_path",
            ));
        }
        if !self.endpoint.is_empty()
            && let Err(e) = addr(&self.endpoint)
        {
            errors.push(e);
        }
        if self.socket_path.as_deref() == Some("") {
            errors.push(ConfigError::new(
                "socket_path",
                "must not be empty (leave it out to disable the unix socket)",
            ));
        }
        let positive = [
            ("max_connections", self.max_connections as u64),
            ("max_message_size", self.max_message_size.0),
            ("max_decompressed_size", self.max_decompressed_size.0),
            ("max_pending_acks", self.max_pending_acks as u64),
        ];
        for (key, value) in positive {
            if value == 0 {
                errors.push(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if let Some(s) = &self.security {
            if s.shared_key.is_empty() {
                errors.push(ConfigError::new("security.shared_key", "must not be empty"));
            }
            if s.handshake_timeout.is_zero() {
                errors.push(ConfigError::new(
                    "security.handshake_timeout",
                    "must be greater than 0",
                ));
            }
            for (i, user) in s.users.iter().enumerate() {
                if user.username.is_empty() {
                    errors.push(ConfigError::new(
                        format!("security.users[{i}].username"),
                        "must not be empty",
                    ));
                }
                if s.users[..i].iter().any(|u| u.username == user.username) {
                    errors.push(ConfigError::new(
                        format!("security.users[{i}].username"),
                        format!("duplicate user {:?}", user.username),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Addresses listened on, for duplicate-port checks.
    pub fn listen_addresses(&self) -> Vec<(String, SocketAddr)> {
        if self.endpoint.is_empty() {
            return Vec::new();
        }
        addr(&self.endpoint)
            .map(|a| vec![("endpoint".to_string(), a)])
            .unwrap_or_default()
    }
}
