//! Latency samples and percentiles.

/// Latency samples in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    /// Records one sample.
    pub fn record(&mut self, micros: u64) {
        self.0.push(micros.min(u64::from(u32::MAX)) as u32);
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

    /// Percentiles (0..=100) in microseconds.
    pub fn percentiles(&mut self, ps: &[f64]) -> Vec<u32> {
        self.0.sort_unstable();
        ps.iter()
            .map(|p| {
                if self.0.is_empty() {
                    return 0;
                }
                let rank = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
                self.0[rank.min(self.0.len() - 1)]
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
            l.record(i);
        }
        assert_eq!(l.percentiles(&[50.0, 99.0, 100.0]), vec![51, 99, 100]);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
