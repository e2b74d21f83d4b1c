//! Reading a process's metrics as Prometheus scrapes them: `GET /metrics` on its metrics
//! listener, the text parsed into series (name and labels) with their values and the
//! `# TYPE` of each metric, so a test checks names, labels and counts rather than grepping.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// One series: its name and labels.
pub type Series = (String, BTreeMap<String, String>);

/// What one scrape served.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Every sample, by series.
    pub samples: BTreeMap<Series, f64>,
    /// The `# TYPE` of each metric (`counter`, `gauge`, `histogram`).
    pub types: BTreeMap<String, String>,
    /// The `Content-Type` it was served with.
    pub content_type: String,
}

impl Scrape {
    /// Parses Prometheus text (format 0.0.4); panics on a line that is not of it.
    pub fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            if let Some(typed) = line.strip_prefix("# TYPE ") {
                let (name, kind) = typed
                    .split_once(' ')
                    .unwrap_or_else(|| panic!("a TYPE line names a metric and a type: {line}"));
                scrape.types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = parse_sample(line);
            assert!(
                scrape.samples.insert(series, value).is_none(),
                "a series is served once: {line}"
            );
        }
        scrape
    }

    /// The value of the series `name` with exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels = labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }

    /// Every series named `name`: its labels and value.
    pub fn series(&self, name: &str) -> Vec<(&BTreeMap<String, String>, f64)> {
        self.samples
            .iter()
            .filter(|((series, _), _)| series == name)
            .map(|((_, labels), value)| (labels, *value))
            .collect()
    }
}

/// `GET /metrics` from the metrics listener at `addr`, parsed; panics unless it answers 200.
pub async fn scrape(addr: SocketAddr) -> Scrape {
    let response = crate::http_get(addr, "/metrics").await;
    assert_eq!(response.status, 200, "GET /metrics: {}", response.body);
    let mut scrape = Scrape::parse(&response.body);
    scrape.content_type = response
        .header("content-type")
        .unwrap_or_default()
        .to_owned();
    scrape
}

/// A sample line: `name{key="value",...} value`, label values escaped with `\\`, `\"` and
/// `\n`.
fn parse_sample(line: &str) -> (Series, f64) {
    let malformed = || -> ! { panic!("not a sample line of the text format: {line}") };
    let name_end = line.find(['{', ' ']).unwrap_or_else(|| malformed());
    let name = &line[..name_end];
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(mut inside) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inside.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after_key) = inside.split_once("=\"").unwrap_or_else(|| malformed());
            let mut value = String::new();
            let mut characters = after_key.char_indices();
            let end = loop {
                match characters.next() {
                    Some((_, '\\')) => match characters.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, escaped)) => value.push(escaped),
                        None => malformed(),
                    },
                    Some((index, '"')) => break index,
                    Some((_, character)) => value.push(character),
                    None => malformed(),
                }
            };
            labels.insert(key.trim_start_matches(',').to_owned(), value);
            inside = after_key[end + 1..].trim_start_matches(',');
        }
    }
    let value = rest.trim();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().unwrap_or_else(|_| malformed()),
    };
    ((name.to_owned(), labels), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_read_with_their_labels_escapes_and_types() {
        let scrape = Scrape::parse(
            "# HELP a_total Things.\n# TYPE a_total counter\na_total{code=\"OK\",odd=\"x\\\"y,z\\\\\\n\"} 3\n\
             b 0.25\nh_bucket{le=\"+Inf\"} 2\n",
        );
        assert_eq!(scrape.types["a_total"], "counter");
        assert_eq!(
            scrape.value("a_total", &[("code", "OK"), ("odd", "x\"y,z\\\n")]),
            Some(3.0)
        );
        assert_eq!(scrape.value("b", &[]), Some(0.25));
        assert_eq!(scrape.value("h_bucket", &[("le", "+Inf")]), Some(2.0));
        assert_eq!(scrape.series("a_total").len(), 1);
    }
}
