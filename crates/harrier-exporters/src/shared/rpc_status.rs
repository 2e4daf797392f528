//! The few `google.rpc` / `google.protobuf` messages exporters must read: a server's
//! `google.rpc.Status` (gRPC `grpc-status-details-bin`, OTLP/HTTP protobuf error bodies)
//! and the `google.rpc.RetryInfo` it may carry.
//!
//! Declared here with `prost` derives instead of pulling in `tonic-types`/`prost-types`,
//! which are not workspace dependencies; the wire format is fixed by
//! `google/rpc/status.proto` and `google/rpc/error_details.proto`.

use prost::Message;
use std::time::Duration;

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct RpcStatus {
    /// The gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// A developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Typed details (`RetryInfo`, ...).
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ProtoAny {
    /// `type.googleapis.com/<full message name>`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct RetryInfo {
    /// How long the client should wait before retrying.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ProtoDuration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanosecond part, same sign as `seconds`.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// The `type_url` of a packed `RetryInfo`.
#[cfg(test)]
pub(crate) const RETRY_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.RetryInfo";

impl ProtoDuration {
    /// As a `Duration`; negative values become zero.
    pub(crate) fn to_duration(&self) -> Duration {
        let seconds = u64::try_from(self.seconds).unwrap_or(0);
        let nanos = u32::try_from(self.nanos).unwrap_or(0).min(999_999_999);
        Duration::new(seconds, nanos)
    }

    /// From a `Duration` (saturating).
    #[cfg(test)]
    pub(crate) fn from_duration(d: Duration) -> ProtoDuration {
        ProtoDuration {
            seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
        }
    }
}

impl RpcStatus {
    /// Decodes an encoded `google.rpc.Status`; `None` when `bytes` is empty or invalid.
    pub(crate) fn decode_opt(bytes: &[u8]) -> Option<RpcStatus> {
        if bytes.is_empty() {
            return None;
        }
        RpcStatus::decode(bytes).ok()
    }

    /// The first `RetryInfo` among the details, if any. `Some(None)` means a RetryInfo
    /// without a delay.
    pub(crate) fn retry_info(&self) -> Option<Option<Duration>> {
        self.details
            .iter()
            .filter(|any| is_retry_info(&any.type_url))
            .find_map(|any| RetryInfo::decode(any.value.as_slice()).ok())
            .map(|info| info.retry_delay.map(|d| d.to_duration()))
    }
}

/// Whether a `type_url` names `google.rpc.RetryInfo` (any host prefix is accepted).
fn is_retry_info(type_url: &str) -> bool {
    type_url.rsplit('/').next() == Some("google.rpc.RetryInfo")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn status_with_retry(delay: Option<Duration>) -> Vec<u8> {
        RpcStatus {
            code: 8,
            message: "slow down".into(),
            details: vec![
                ProtoAny {
                    type_url: "type.googleapis.com/google.rpc.DebugInfo".into(),
                    value: vec![1, 2, 3],
                },
                ProtoAny {
                    type_url: RETRY_INFO_TYPE_URL.into(),
                    value: RetryInfo {
                        retry_delay: delay.map(ProtoDuration::from_duration),
                    }
                    .encode_to_vec(),
                },
            ],
        }
        .encode_to_vec()
    }

    #[test]
    fn finds_retry_info_among_details() {
        let bytes = status_with_retry(Some(Duration::from_millis(2500)));
        let status = RpcStatus::decode_opt(&bytes).unwrap();
        assert_eq!(status.message, "slow down");
        assert_eq!(status.retry_info(), Some(Some(Duration::from_millis(2500))));
        let bytes = status_with_retry(None);
        assert_eq!(
            RpcStatus::decode_opt(&bytes).unwrap().retry_info(),
            Some(None)
        );
        let plain = RpcStatus {
            code: 8,
            message: String::new(),
            details: vec![],
        };
        assert_eq!(plain.retry_info(), None);
        assert_eq!(RpcStatus::decode_opt(&[]), None);
        assert_eq!(RpcStatus::decode_opt(&[0xff, 0xff]), None);
    }

    #[test]
    fn negative_durations_clamp_to_zero() {
        let d = ProtoDuration {
            seconds: -3,
            nanos: -5,
        };
        assert_eq!(d.to_duration(), Duration::ZERO);
    }
}
