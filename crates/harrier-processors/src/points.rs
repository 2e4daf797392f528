//! Metric data points of every type (gauge, sum, histogram, exponential histogram,
//! summary) seen through their attributes, so processors handle them with one code path.

use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint, metric,
};

/// A data point with attributes.
pub trait DataPoint {
    /// Its attributes.
    fn attributes(&self) -> &[KeyValue];
    /// Its attributes, to change.
    fn attributes_mut(&mut self) -> &mut Vec<KeyValue>;
}

macro_rules! data_point {
    ($($t:ty),*) => {$(
        impl DataPoint for $t {
            fn attributes(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
                &mut self.attributes
            }
        }
    )*};
}

data_point!(
    NumberDataPoint,
    HistogramDataPoint,
    ExponentialHistogramDataPoint,
    SummaryDataPoint
);

/// Calls `f` with the attributes of every data point of a metric.
pub fn for_each_attributes_mut(
    data: Option<&mut metric::Data>,
    mut f: impl FnMut(&mut Vec<KeyValue>),
) {
    fn each<P: DataPoint>(points: &mut [P], f: &mut impl FnMut(&mut Vec<KeyValue>)) {
        points.iter_mut().for_each(|p| f(p.attributes_mut()));
    }
    match data {
        Some(metric::Data::Gauge(g)) => each(&mut g.data_points, &mut f),
        Some(metric::Data::Sum(s)) => each(&mut s.data_points, &mut f),
        Some(metric::Data::Histogram(h)) => each(&mut h.data_points, &mut f),
        Some(metric::Data::ExponentialHistogram(h)) => each(&mut h.data_points, &mut f),
        Some(metric::Data::Summary(s)) => each(&mut s.data_points, &mut f),
        None => {}
    }
}

/// Keeps the data points whose attributes satisfy `keep`; returns how many were removed.
pub fn retain(data: Option<&mut metric::Data>, mut keep: impl FnMut(&[KeyValue]) -> bool) -> usize {
    fn retain_points<P: DataPoint>(
        points: &mut Vec<P>,
        keep: &mut impl FnMut(&[KeyValue]) -> bool,
    ) -> usize {
        let before = points.len();
        points.retain(|p| keep(p.attributes()));
        before - points.len()
    }
    match data {
        Some(metric::Data::Gauge(g)) => retain_points(&mut g.data_points, &mut keep),
        Some(metric::Data::Sum(s)) => retain_points(&mut s.data_points, &mut keep),
        Some(metric::Data::Histogram(h)) => retain_points(&mut h.data_points, &mut keep),
        Some(metric::Data::ExponentialHistogram(h)) => retain_points(&mut h.data_points, &mut keep),
        Some(metric::Data::Summary(s)) => retain_points(&mut s.data_points, &mut keep),
        None => 0,
    }
}
