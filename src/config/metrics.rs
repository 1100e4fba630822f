//! The `[metrics]` section: where the Prometheus scrape endpoint listens. Absent (or without
//! `listen`) means no endpoint at all.

use std::net::SocketAddr;

use serde::Deserialize;

use super::ConfigError;

/// `[metrics]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<String>,
}

/// Validated `[metrics]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Where `GET /metrics` is served; `None`: metrics are off.
    pub listen: Option<SocketAddr>,
}

/// Checks `[metrics]`; `invalid(key, message)` builds the error naming file and key.
pub fn validate(
    raw: RawMetrics,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<MetricsSettings, ConfigError> {
    let Some(text) = raw.listen else {
        return Ok(MetricsSettings::default());
    };
    // Only literal addresses: resolving a host name here would make loading the config do DNS,
    // and "localhost" may resolve to an address family the operator did not mean.
    let listen = text.trim().parse::<SocketAddr>().map_err(|_| {
        invalid(
            "metrics.listen",
            format!(
                "{text:?} is not an address with a port like \"127.0.0.1:9464\" or \"[::1]:9464\""
            ),
        )
    })?;
    Ok(MetricsSettings {
        listen: Some(listen),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(listen: Option<&str>) -> Result<MetricsSettings, String> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        };
        let raw = RawMetrics {
            listen: listen.map(str::to_string),
        };
        validate(raw, &invalid).map_err(|error| error.to_string())
    }

    #[test]
    fn absent_is_off_and_addresses_parse() {
        assert_eq!(check(None).unwrap().listen, None);
        let v4 = check(Some("127.0.0.1:9464")).unwrap().listen.unwrap();
        assert_eq!(v4.port(), 9464);
        assert!(v4.ip().is_loopback());
        let v6 = check(Some("[::1]:9464")).unwrap().listen.unwrap();
        assert!(v6.is_ipv6());
    }

    #[test]
    fn bad_addresses_name_the_key() {
        for bad in [
            "nonsense",
            "",
            "127.0.0.1",
            "localhost:9464",
            "127.0.0.1:99999",
        ] {
            let error = check(Some(bad)).expect_err(bad);
            assert!(error.contains("key `metrics.listen`"), "{error}");
        }
    }
}
