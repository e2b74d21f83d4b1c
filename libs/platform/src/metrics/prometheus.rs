//! Collected metrics as Prometheus text, exposition format 0.0.4: a `# HELP` and `# TYPE`
//! line per metric, then a line per series; a histogram as cumulative `_bucket` series
//! (`le` its upper bound, the last `+Inf`), `_sum` and `_count`.
//!
//! Names are written as they are (the instruments already carry Prometheus names, counters
//! ending in `_total`), with no scope or resource labels: `namespace` and `pod` come from
//! the scrape. Metrics without a series are left out.

use std::fmt::Write as _;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};

/// The content type of what [`encode`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every metric in `collected`, sorted by name.
pub(super) fn encode(collected: &ResourceMetrics) -> String {
    let mut metrics: Vec<&Metric> = collected
        .scope_metrics()
        .flat_map(|scope| scope.metrics())
        .collect();
    metrics.sort_by(|a, b| a.name().cmp(b.name()));
    let mut text = String::new();
    for metric in metrics {
        match metric.data() {
            AggregatedMetrics::F64(data) => write_metric(&mut text, metric, data),
            AggregatedMetrics::U64(data) => write_metric(&mut text, metric, data),
            AggregatedMetrics::I64(data) => write_metric(&mut text, metric, data),
        }
    }
    text
}

/// A sample value as Prometheus reads it.
trait Value: Copy {
    fn write(self, text: &mut String);
}

impl Value for u64 {
    fn write(self, text: &mut String) {
        let _ = write!(text, "{self}");
    }
}

impl Value for i64 {
    fn write(self, text: &mut String) {
        let _ = write!(text, "{self}");
    }
}

impl Value for f64 {
    fn write(self, text: &mut String) {
        if self.is_nan() {
            text.push_str("NaN");
        } else if self.is_infinite() {
            text.push_str(if self.is_sign_positive() {
                "+Inf"
            } else {
                "-Inf"
            });
        } else {
            let _ = write!(text, "{self}");
        }
    }
}

fn write_metric<T: Value>(text: &mut String, metric: &Metric, data: &MetricData<T>) {
    let name = metric.name();
    match data {
        MetricData::Gauge(gauge) => {
            let mut points = gauge.data_points().peekable();
            if points.peek().is_none() {
                return;
            }
            write_header(text, metric, "gauge");
            for point in points {
                write_sample(text, name, point.attributes(), None, point.value());
            }
        }
        MetricData::Sum(sum) => {
            let mut points = sum.data_points().peekable();
            if points.peek().is_none() {
                return;
            }
            write_header(
                text,
                metric,
                if sum.is_monotonic() {
                    "counter"
                } else {
                    "gauge"
                },
            );
            for point in points {
                write_sample(text, name, point.attributes(), None, point.value());
            }
        }
        MetricData::Histogram(histogram) => {
            let mut points = histogram.data_points().peekable();
            if points.peek().is_none() {
                return;
            }
            write_header(text, metric, "histogram");
            let bucket = format!("{name}_bucket");
            for point in points {
                let mut below = 0_u64;
                for (bound, count) in point.bounds().zip(point.bucket_counts()) {
                    below = below.saturating_add(count);
                    let mut le = String::new();
                    bound.write(&mut le);
                    write_sample(text, &bucket, point.attributes(), Some(&le), below);
                }
                write_sample(
                    text,
                    &bucket,
                    point.attributes(),
                    Some("+Inf"),
                    point.count(),
                );
                write_sample(
                    text,
                    &format!("{name}_sum"),
                    point.attributes(),
                    None,
                    point.sum(),
                );
                write_sample(
                    text,
                    &format!("{name}_count"),
                    point.attributes(),
                    None,
                    point.count(),
                );
            }
        }
        // No instrument here aggregates into one.
        MetricData::ExponentialHistogram(_) => {}
    }
}

fn write_header(text: &mut String, metric: &Metric, kind: &str) {
    let name = metric.name();
    let mut help = String::new();
    for character in metric.description().chars() {
        match character {
            '\\' => help.push_str("\\\\"),
            '\n' => help.push_str("\\n"),
            other => help.push(other),
        }
    }
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
}

fn write_sample<'a, T: Value>(
    text: &mut String,
    name: &str,
    attributes: impl Iterator<Item = &'a KeyValue>,
    le: Option<&str>,
    value: T,
) {
    text.push_str(name);
    let labels = attributes
        .map(|attribute| (attribute.key.as_str(), attribute.value.as_str()))
        .chain(le.map(|le| ("le", le.into())));
    let mut first = true;
    for (key, value) in labels {
        text.push(if first { '{' } else { ',' });
        first = false;
        text.push_str(key);
        text.push_str("=\"");
        for character in value.chars() {
            match character {
                '\\' => text.push_str("\\\\"),
                '"' => text.push_str("\\\""),
                '\n' => text.push_str("\\n"),
                other => text.push(other),
            }
        }
        text.push('"');
    }
    if !first {
        text.push('}');
    }
    text.push(' ');
    value.write(text);
    text.push('\n');
}
