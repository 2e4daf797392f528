//! The forward protocol's authentication handshake (spec v1, "Handshake Messages").
//!
//! ```text
//! server -> ["HELO", {"nonce": <16 random bytes>, "auth": <16-byte salt or "">, "keepalive": true}]
//! client -> ["PING", client_hostname, shared_key_salt, shared_key_hexdigest, username, password_hexdigest]
//! server -> ["PONG", true, "", server_hostname, shared_key_hexdigest]   (or ["PONG", false, reason, "", ""])
//! ```
//!
//! `shared_key_hexdigest` is `sha512(shared_key_salt + hostname + nonce + shared_key)`
//! in lower-case hex: the client's uses its own host name, the server's answer its
//! `self_hostname`, which lets the client check the server knows the key too. The
//! `auth` salt is sent only when `security.users` is set; then `password_hexdigest` is
//! `sha512(auth_salt + username + password)`. A client that fails gets a PONG saying
//! why and its connection is closed.

use super::config::SecurityConfig;
use super::decode::DecodeError;
use rmpv::Value;
use sha2::{Digest, Sha512};

/// `sha512(parts...)` in lower-case hex.
fn hex_sha512(parts: &[&[u8]]) -> String {
    let mut hasher = Sha512::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize().as_slice())
}

/// The shared key digest: `sha512(salt + hostname + nonce + shared_key)` in hex.
pub(crate) fn shared_key_digest(salt: &[u8], hostname: &[u8], nonce: &[u8], key: &[u8]) -> String {
    hex_sha512(&[salt, hostname, nonce, key])
}

/// The password digest: `sha512(auth_salt + username + password)` in hex.
pub(crate) fn password_digest(auth_salt: &[u8], username: &[u8], password: &[u8]) -> String {
    hex_sha512(&[auth_salt, username, password])
}

/// Compares without an early exit, so timing does not reveal the matching prefix.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Encodes a msgpack value. Writing to a `Vec` cannot fail.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // io::Write for Vec<u8> never returns an error.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

fn bytes_of(value: &Value) -> Option<&[u8]> {
    match value {
        Value::String(s) => Some(s.as_bytes()),
        Value::Binary(b) => Some(b),
        _ => None,
    }
}

/// The outcome of a PING.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Authenticated: send `pong`, then read events.
    Accepted {
        /// The encoded PONG.
        pong: Vec<u8>,
        /// The host name the client gave.
        client: String,
    },
    /// Refused: send `pong`, then close.
    Refused {
        /// The encoded PONG.
        pong: Vec<u8>,
        /// Why, as told to the client.
        reason: &'static str,
    },
}

/// One connection's handshake state: the nonce and the user-auth salt it sent.
pub(crate) struct Challenge {
    nonce: [u8; 16],
    auth_salt: Option<[u8; 16]>,
}

impl Challenge {
    /// Fresh random values for one connection.
    pub(crate) fn new(security: &SecurityConfig) -> Challenge {
        Challenge {
            nonce: rand::random(),
            auth_salt: (!security.users.is_empty()).then(rand::random),
        }
    }

    /// A challenge with fixed values (tests).
    #[cfg(test)]
    pub(crate) fn fixed(nonce: [u8; 16], auth_salt: Option<[u8; 16]>) -> Challenge {
        Challenge { nonce, auth_salt }
    }

    /// The encoded HELO.
    pub(crate) fn helo(&self) -> Vec<u8> {
        let auth = match &self.auth_salt {
            Some(salt) => Value::Binary(salt.to_vec()),
            None => Value::from(""),
        };
        encode(&Value::Array(vec![
            Value::from("HELO"),
            Value::Map(vec![
                (Value::from("nonce"), Value::Binary(self.nonce.to_vec())),
                (Value::from("auth"), auth),
                (Value::from("keepalive"), Value::Boolean(true)),
            ]),
        ]))
    }

    /// Checks the client's PING against the configured key and users.
    ///
    /// # Errors
    /// [`DecodeError::Shape`] when the message is not a PING.
    pub(crate) fn check_ping(
        &self,
        security: &SecurityConfig,
        ping: &Value,
    ) -> Result<Verdict, DecodeError> {
        let not_ping = || DecodeError::Shape("expected a PING handshake message".into());
        let Value::Array(items) = ping else {
            return Err(not_ping());
        };
        let fields: Option<Vec<&[u8]>> = items.iter().map(bytes_of).collect();
        let Some(
            [
                kind,
                hostname,
                salt,
                key_digest,
                username,
                password_hexdigest,
            ],
        ) = fields.as_deref()
        else {
            return Err(not_ping());
        };
        if *kind != b"PING" {
            return Err(not_ping());
        }
        let refuse = |reason: &'static str| Verdict::Refused {
            pong: encode(&Value::Array(vec![
                Value::from("PONG"),
                Value::Boolean(false),
                Value::from(reason),
                Value::from(""),
                Value::from(""),
            ])),
            reason,
        };
        let key = security.shared_key.as_bytes();
        let expected = shared_key_digest(salt, hostname, &self.nonce, key);
        if !same(expected.as_bytes(), &key_digest.to_ascii_lowercase()) {
            return Ok(refuse("shared_key mismatch"));
        }
        if let Some(auth_salt) = &self.auth_salt {
            let known = security.users.iter().any(|u| {
                let expected =
                    password_digest(auth_salt, u.username.as_bytes(), u.password.as_bytes());
                same(u.username.as_bytes(), username)
                    & same(
                        expected.as_bytes(),
                        &password_hexdigest.to_ascii_lowercase(),
                    )
            });
            if !known {
                return Ok(refuse("username/password mismatch"));
            }
        }
        let server = security.self_hostname.as_bytes();
        let answer = shared_key_digest(salt, server, &self.nonce, key);
        Ok(Verdict::Accepted {
            pong: encode(&Value::Array(vec![
                Value::from("PONG"),
                Value::Boolean(true),
                Value::from(""),
                Value::from(security.self_hostname.as_str()),
                Value::from(answer),
            ])),
            client: String::from_utf8_lossy(hostname).into_owned(),
        })
    }
}
