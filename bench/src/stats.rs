//! Latency samples and percentiles.

use std::time::Duration;

/// Latency samples, kept in nanoseconds: whole microseconds would quantise a ~40 µs median
/// by more than the differences being measured.
#[derive(Debug, Default, Clone)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    /// Records one sample.
    pub fn record(&mut self, latency: Duration) {
        self.0
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Adds another set of samples.
    pub fn merge(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Percentiles (0..=100) in microseconds, to the nanosecond.
    pub fn percentiles(&mut self, ps: &[f64]) -> Vec<f64> {
        self.0.sort_unstable();
        ps.iter()
            .map(|p| {
                if self.0.is_empty() {
                    return 0.0;
                }
                let rank = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
                self.0[rank.min(self.0.len() - 1)] as f64 / 1e3
            })
            .collect()
    }
}

/// The median of `values` (0 for none).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_median() {
        let mut l = Latencies::default();
        for i in 1..=100 {
            l.record(Duration::from_micros(i));
        }
        l.record(Duration::from_nanos(1_500));
        assert_eq!(
            l.percentiles(&[0.0, 1.0, 50.0, 99.0, 100.0]),
            vec![1.0, 1.5, 50.0, 99.0, 100.0]
        );
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
