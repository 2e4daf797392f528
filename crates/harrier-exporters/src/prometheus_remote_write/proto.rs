//! The remote-write 1.0 messages as prost types, mirrored by hand from
//! `proto/prometheus/remote_write.proto` (there is no protoc in the build; change both
//! together). Only what a sender needs; field numbers are the wire contract.

/// `prometheus.WriteRequest`: one remote-write request body (before snappy).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WriteRequest {
    /// The series, each at most once per request.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metric family metadata (only with `send_metadata`). Field 2 is reserved.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TimeSeries {
    /// Sorted by name, `__name__` included.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// In timestamp order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars of this series (histogram buckets).
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub(crate) struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value (never empty: an empty value means "no label").
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub(crate) struct Sample {
    /// The value; [`STALE_NAN`] marks the series stale.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Exemplar {
    /// Usually `trace_id` and `span_id`.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The measurement.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct MetricMetadata {
    /// A [`MetadataType`].
    #[prost(enumeration = "MetadataType", tag = "1")]
    pub r#type: i32,
    /// The family name (`http_requests_total`, `latency_seconds`).
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// The metric's description.
    #[prost(string, tag = "4")]
    pub help: String,
    /// The unit word (`seconds`, `bytes`), if any.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `prometheus.MetricMetadata.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub(crate) enum MetadataType {
    /// `UNKNOWN`.
    Unknown = 0,
    /// `COUNTER`.
    Counter = 1,
    /// `GAUGE`.
    Gauge = 2,
    /// `HISTOGRAM`.
    Histogram = 3,
    /// `GAUGEHISTOGRAM`.
    GaugeHistogram = 4,
    /// `SUMMARY`.
    Summary = 5,
    /// `INFO`.
    Info = 6,
    /// `STATESET`.
    StateSet = 7,
}

/// The Prometheus staleness marker: a NaN with this exact bit pattern tells the server
/// that the series ended (`value/NaN` is not enough: ordinary NaNs are values).
pub(crate) const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// [`STALE_NAN_BITS`] as a value.
pub(crate) const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use prost::Message;

    /// The encoding, checked byte by byte against what the .proto prescribes.
    #[test]
    fn encodes_as_the_proto_prescribes() {
        let request = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 1000,
                }],
                exemplars: vec![],
            }],
            metadata: vec![MetricMetadata {
                r#type: MetadataType::Counter as i32,
                metric_family_name: "up".into(),
                help: "h".into(),
                unit: String::new(),
            }],
        };
        let mut expected = vec![0x0a, 30]; // field 1 (timeseries), 30 bytes
        expected.extend([0x0a, 14]); // TimeSeries.labels, 14 bytes
        expected.extend([0x0a, 8]); // Label.name
        expected.extend(b"__name__");
        expected.extend([0x12, 2]); // Label.value
        expected.extend(b"up");
        expected.extend([0x12, 12]); // TimeSeries.samples, 12 bytes
        expected.push(0x09); // Sample.value, fixed64
        expected.extend(1.0f64.to_le_bytes());
        expected.extend([0x10, 0xe8, 0x07]); // Sample.timestamp = 1000 (varint)
        expected.extend([0x1a, 9]); // field 3 (metadata), 9 bytes
        expected.extend([0x08, 1]); // type = COUNTER
        expected.extend([0x12, 2]); // metric_family_name
        expected.extend(b"up");
        expected.extend([0x22, 1]); // help (field 4)
        expected.extend(b"h");
        assert_eq!(request.encode_to_vec(), expected);
        assert_eq!(WriteRequest::decode(expected.as_slice()).unwrap(), request);
    }

    #[test]
    fn stale_nan_has_the_prometheus_bits() {
        assert!(STALE_NAN.is_nan());
        assert_eq!(STALE_NAN.to_bits(), 0x7ff0000000000002);
        let encoded = Sample {
            value: STALE_NAN,
            timestamp: 0,
        }
        .encode_to_vec();
        assert_eq!(encoded, [0x09, 0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]);
    }
}
