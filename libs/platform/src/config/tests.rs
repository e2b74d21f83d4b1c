use super::*;
use std::collections::HashMap;

fn config_from(pairs: &[(&str, &str)]) -> Result<PlatformConfig, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    PlatformConfig::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn defaults_point_at_deploy_local() {
    let config = config_from(&[]).expect("defaults are valid");
    assert_eq!(config.listen_addr.to_string(), DEFAULT_LISTEN_ADDR);
    assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
    assert_eq!(config.log_format, LogFormat::Text);
    assert!(matches!(config.jwt, JwtConfig::SharedSecret(ref s) if s == LOCAL_JWT_SECRET));
}

#[test]
fn a_bad_value_names_the_variable_and_what_is_accepted() {
    let error = config_from(&[("SDS_LISTEN_ADDR", "nowhere")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_LISTEN_ADDR: \"nowhere\" is not an address such as 127.0.0.1:50051"
    );
    let error = config_from(&[("SDS_LOG_FORMAT", "xml")]).unwrap_err();
    assert!(error.to_string().contains("accepted: text, json"));
}

#[test]
fn a_low_balance_threshold_is_below_the_surplus_threshold() {
    let defaults = config_from(&[]).unwrap();
    assert_eq!(
        (
            defaults.ledger_surplus_weeks,
            defaults.ledger_low_balance_weeks
        ),
        (4, 1)
    );
    let error = config_from(&[("SDS_LEDGER_LOW_BALANCE_WEEKS", "4")]).unwrap_err();
    assert_eq!(error.variable, "SDS_LEDGER_LOW_BALANCE_WEEKS");
    assert!(config_from(&[("SDS_LEDGER_SURPLUS_WEEKS", "0")]).is_err());
}

#[test]
fn the_directory_url_is_a_url_or_unset() {
    assert_eq!(config_from(&[]).unwrap().directory_url, None);
    let set = config_from(&[("SDS_DIRECTORY_URL", "http://directory:50051")]).unwrap();
    assert_eq!(set.directory_url.as_deref(), Some("http://directory:50051"));
    let error = config_from(&[("SDS_DIRECTORY_URL", "directory:50051")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_DIRECTORY_URL: \"directory:50051\" is not a URL such as http://directory:50051"
    );
    let error = config_from(&[("SDS_LEDGER_URL", "ftp://ledger")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_LEDGER_URL: \"ftp://ledger\" is not a URL such as http://ledger:50051"
    );
    let set = config_from(&[("SDS_LEDGER_URL", "http://ledger:50051")]).unwrap();
    assert_eq!(set.ledger_url.as_deref(), Some("http://ledger:50051"));
}

#[test]
fn an_empty_or_short_secret_is_refused() {
    let error = config_from(&[("SDS_JWT_SECRET", "")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_JWT_SECRET: the secret is 0 bytes long; at least 32 are needed"
    );
    assert!(config_from(&[("SDS_JWT_SECRET", "short")]).is_err());
    assert!(config_from(&[("SDS_JWT_SECRET", &"x".repeat(32))]).is_ok());
}

#[test]
fn an_inbox_that_forgets_before_the_stream_does_is_refused() {
    let error = config_from(&[("SDS_INBOX_RETENTION_HOURS", "743")]).unwrap_err();
    assert_eq!(error.variable, "SDS_INBOX_RETENTION_HOURS");
    assert!(
        error.problem.contains("at least 744 (the 720 hours"),
        "{error}"
    );
    let config = config_from(&[("SDS_INBOX_RETENTION_HOURS", "744")]).unwrap();
    assert_eq!(
        config.events.inbox_retention,
        Duration::from_secs(744 * 3600)
    );
    assert!(config_from(&[("SDS_RELAY_BATCH_SIZE", "0")]).is_err());
}

#[test]
fn connection_limits_default_to_safe_values_and_refuse_zero_or_too_many() {
    let server = config_from(&[]).unwrap().server;
    assert_eq!(server.handshake_timeout, Duration::from_secs(10));
    assert_eq!(server.body_timeout, Duration::from_secs(10));
    assert_eq!(server.keepalive_interval, Duration::from_secs(60));
    assert_eq!(server.keepalive_timeout, Duration::from_secs(20));
    assert_eq!(server.max_streams_per_connection, 100);
    assert_eq!(server.max_connections, 512);
    for variable in [
        "SDS_HANDSHAKE_TIMEOUT_SECONDS",
        "SDS_REQUEST_BODY_TIMEOUT_SECONDS",
        "SDS_KEEPALIVE_INTERVAL_SECONDS",
        "SDS_KEEPALIVE_TIMEOUT_SECONDS",
        "SDS_MAX_STREAMS_PER_CONNECTION",
        "SDS_MAX_CONNECTIONS",
    ] {
        let error = config_from(&[(variable, "0")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{variable}: is 0; it must be at least 1")
        );
    }
    let error = config_from(&[("SDS_MAX_CONNECTIONS", "lots")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_MAX_CONNECTIONS: \"lots\" is not a whole number of connections"
    );
    let error = config_from(&[("SDS_MAX_STREAMS_PER_CONNECTION", "2147483648")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_MAX_STREAMS_PER_CONNECTION: is 2147483648; HTTP/2 allows at most 2147483647"
    );
}

#[test]
fn the_duplicate_window_defaults_to_an_hour_and_may_not_outlast_the_stream() {
    let config = config_from(&[]).unwrap();
    assert_eq!(config.events.duplicate_window, DEFAULT_DUPLICATE_WINDOW);
    assert_eq!(DEFAULT_DUPLICATE_WINDOW, Duration::from_secs(3600));
    let config = config_from(&[("SDS_EVENTS_DUPLICATE_WINDOW_SECONDS", "120")]).unwrap();
    assert_eq!(config.events.duplicate_window, Duration::from_secs(120));
    let error = config_from(&[("SDS_EVENTS_DUPLICATE_WINDOW_SECONDS", "2592001")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_EVENTS_DUPLICATE_WINDOW_SECONDS: is 2592001 seconds; it may be at most 2592000 (the 30 days the events stream keeps an event)"
    );
    assert!(config_from(&[("SDS_EVENTS_DUPLICATE_WINDOW_SECONDS", "0")]).is_err());
}

#[test]
fn consumers_wait_thirty_seconds_for_an_event_to_be_settled_unless_told_otherwise() {
    assert_eq!(
        config_from(&[]).unwrap().events.ack_wait,
        Duration::from_secs(30)
    );
    let config = config_from(&[("SDS_CONSUMER_ACK_WAIT_SECONDS", "5")]).unwrap();
    assert_eq!(config.events.ack_wait, Duration::from_secs(5));
    let error = config_from(&[("SDS_CONSUMER_ACK_WAIT_SECONDS", "0")]).unwrap_err();
    assert_eq!(error.variable, "SDS_CONSUMER_ACK_WAIT_SECONDS");
}

#[test]
fn production_refuses_the_local_secret() {
    let error = config_from(&[("SDS_ENV", "production")]).unwrap_err();
    assert_eq!(error.variable, "SDS_JWT_SECRET");
    let config = config_from(&[
        ("SDS_ENV", "production"),
        ("SDS_JWT_PUBLIC_KEYS_FILE", "/etc/sds/keys.pem"),
    ])
    .unwrap();
    assert!(matches!(config.jwt, JwtConfig::PublicKeysFile(_)));
}

#[test]
fn a_clock_file_is_read_for_tests_and_refused_in_production() {
    let local = config_from(&[("SDS_CLOCK_FILE", "/tmp/sds-clock")]).unwrap();
    assert_eq!(
        local.clock_file.as_deref(),
        Some(std::path::Path::new("/tmp/sds-clock"))
    );
    assert_eq!(config_from(&[]).unwrap().clock_file, None);
    let error = config_from(&[
        ("SDS_ENV", "production"),
        ("SDS_JWT_PUBLIC_KEYS_FILE", "/etc/sds/keys.pem"),
        ("SDS_CLOCK_FILE", "/tmp/sds-clock"),
    ])
    .unwrap_err();
    assert_eq!(error.variable, "SDS_CLOCK_FILE");
}

#[test]
fn nats_may_be_one_server_or_a_cluster_of_them() {
    let cluster = config_from(&[(
        "SDS_NATS_URL",
        "nats://127.0.0.1:4222, nats://127.0.0.1:4223,tls://user:secret@nats-2:4224",
    )])
    .unwrap();
    assert_eq!(
        nats_servers(&cluster.nats_url).unwrap(),
        [
            "nats://127.0.0.1:4222",
            "nats://127.0.0.1:4223",
            "tls://user:secret@nats-2:4224"
        ]
    );
    for bad in [
        "",
        "nats://127.0.0.1",
        "nats://127.0.0.1:4222,",
        "nats://:4222",
    ] {
        let error = config_from(&[("SDS_NATS_URL", bad)]).unwrap_err();
        assert_eq!(error.variable, "SDS_NATS_URL", "{bad:?}");
        assert!(
            error.problem.contains("such as nats://127.0.0.1:4222"),
            "{bad:?}: {error}"
        );
    }
}

#[test]
fn streams_are_kept_on_one_server_by_default_and_on_a_majority_of_a_cluster() {
    assert_eq!(config_from(&[]).unwrap().events.stream_replicas, 1);
    let three = config_from(&[("SDS_EVENTS_REPLICAS", "3")]).unwrap();
    assert_eq!(three.events.stream_replicas, 3);
    for bad in ["2", "4", "0", "three"] {
        let error = config_from(&[("SDS_EVENTS_REPLICAS", bad)]).unwrap_err();
        assert_eq!(error.variable, "SDS_EVENTS_REPLICAS", "{bad:?}");
    }
}

#[test]
fn production_refuses_any_shared_secret() {
    let error = config_from(&[
        ("SDS_ENV", "production"),
        ("SDS_JWT_SECRET", "a-long-and-very-random-production-secret"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_JWT_SECRET: HS256 shared secrets are for local development; set SDS_JWKS_URL (or SDS_JWKS_FILE, or SDS_JWT_PUBLIC_KEYS_FILE) in production"
    );
    let local =
        config_from(&[("SDS_JWT_SECRET", "a-long-and-very-random-production-secret")]).unwrap();
    assert!(matches!(local.jwt, JwtConfig::SharedSecret(_)));
    let explicit_local = config_from(&[("SDS_ENV", "local")]).unwrap();
    assert!(matches!(explicit_local.jwt, JwtConfig::SharedSecret(ref s) if s == LOCAL_JWT_SECRET));
}

#[test]
fn an_unknown_environment_is_refused_rather_than_taken_for_local() {
    for typo in ["prod", "Production", "staging"] {
        let error = config_from(&[("SDS_ENV", typo)]).unwrap_err();
        assert_eq!(error.variable, "SDS_ENV", "{typo}");
        assert!(
            error.problem.contains("accepted: production, local"),
            "{error}"
        );
    }
}

#[test]
fn production_verifies_tokens_against_a_jwks_refreshed_every_five_minutes_by_default() {
    let config = config_from(&[
        ("SDS_ENV", "production"),
        (
            "SDS_JWKS_URL",
            "https://login.example.scot/.well-known/jwks.json",
        ),
    ])
    .unwrap();
    let JwtConfig::Jwks {
        source,
        refresh,
        service_key_id,
    } = config.jwt
    else {
        panic!("not a JWKS: {:?}", config.jwt);
    };
    assert_eq!(
        source,
        JwksSource::Url(
            "https://login.example.scot/.well-known/jwks.json"
                .parse()
                .unwrap()
        )
    );
    assert_eq!(refresh, DEFAULT_JWKS_REFRESH);
    assert_eq!(refresh, Duration::from_secs(300));
    assert_eq!(service_key_id, None);

    let config = config_from(&[
        ("SDS_JWKS_FILE", "/etc/sds/jwks.json"),
        ("SDS_JWKS_REFRESH_SECONDS", "60"),
    ])
    .unwrap();
    assert!(matches!(
        config.jwt,
        JwtConfig::Jwks { source: JwksSource::File(ref path), refresh, .. }
            if path == std::path::Path::new("/etc/sds/jwks.json") && refresh == Duration::from_secs(60)
    ));
}

#[test]
fn at_most_one_source_of_token_keys_may_be_set() {
    let error = config_from(&[
        (
            "SDS_JWKS_URL",
            "https://login.example.scot/.well-known/jwks.json",
        ),
        ("SDS_JWKS_FILE", "/etc/sds/jwks.json"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_JWKS_FILE: is set together with SDS_JWKS_URL; set only one of SDS_JWKS_URL, SDS_JWKS_FILE, SDS_JWT_PUBLIC_KEYS_FILE"
    );
    let error = config_from(&[
        ("SDS_JWKS_FILE", "/etc/sds/jwks.json"),
        ("SDS_JWT_PUBLIC_KEYS_FILE", "/etc/sds/keys.pem"),
    ])
    .unwrap_err();
    assert_eq!(error.variable, "SDS_JWT_PUBLIC_KEYS_FILE");
    assert!(error.problem.contains("SDS_JWKS_FILE"), "{error}");
    // An empty setting (a template variable left blank) is not set.
    let config =
        config_from(&[("SDS_JWKS_URL", ""), ("SDS_JWT_PUBLIC_KEYS_FILE", "/k.pem")]).unwrap();
    assert!(matches!(config.jwt, JwtConfig::PublicKeysFile(_)));
}

#[test]
fn the_jwks_refresh_is_a_whole_number_of_seconds_and_never_zero() {
    let jwks = ("SDS_JWKS_FILE", "/etc/sds/jwks.json");
    let error = config_from(&[jwks, ("SDS_JWKS_REFRESH_SECONDS", "0")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_JWKS_REFRESH_SECONDS: is 0; it must be at least 1"
    );
    let error = config_from(&[jwks, ("SDS_JWKS_REFRESH_SECONDS", "5m")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_JWKS_REFRESH_SECONDS: \"5m\" is not a whole number of seconds"
    );
}

#[test]
fn a_jwks_url_is_http_or_https_with_a_host_and_no_credentials() {
    for good in [
        "http://keycloak:8080/realms/sds/protocol/openid-connect/certs",
        "https://login.example.scot/.well-known/jwks.json",
        "http://[::1]:8080/jwks.json",
    ] {
        assert!(config_from(&[("SDS_JWKS_URL", good)]).is_ok(), "{good}");
    }
    for bad in [
        "login.example.scot/.well-known/jwks.json",
        "ftp://login.example.scot/jwks.json",
        "/.well-known/jwks.json",
        "https://user:secret@login.example.scot/jwks.json",
    ] {
        let error = config_from(&[("SDS_JWKS_URL", bad)]).unwrap_err();
        assert_eq!(error.variable, "SDS_JWKS_URL", "{bad}");
        assert!(!error.problem.contains("secret"), "{error}");
    }
}

#[test]
fn services_signing_with_their_own_key_against_a_jwks_name_its_key_id() {
    let jwks = (
        "SDS_JWKS_URL",
        "https://login.example.scot/.well-known/jwks.json",
    );
    let key_file = ("SDS_SERVICE_KEY_FILE", "/etc/sds/service-key.pem");
    let key_id = ("SDS_SERVICE_KEY_ID", "sds-services-2026");
    let config = config_from(&[jwks, key_file, key_id]).unwrap();
    assert!(matches!(
        config.jwt,
        JwtConfig::Jwks { service_key_id: Some(ref kid), .. } if kid == "sds-services-2026"
    ));
    let error = config_from(&[jwks, key_file]).unwrap_err();
    assert_eq!(error.variable, "SDS_SERVICE_KEY_ID");
    assert!(error.problem.contains("is not set"), "{error}");
    let error = config_from(&[jwks, key_id]).unwrap_err();
    assert_eq!(error.variable, "SDS_SERVICE_KEY_ID");
    assert!(
        error.problem.contains("without SDS_SERVICE_KEY_FILE"),
        "{error}"
    );
    let error =
        config_from(&[("SDS_JWT_PUBLIC_KEYS_FILE", "/k.pem"), key_file, key_id]).unwrap_err();
    assert_eq!(error.variable, "SDS_SERVICE_KEY_ID");
    // Without a JWKS the service key needs no key id, as before.
    assert!(config_from(&[("SDS_JWT_PUBLIC_KEYS_FILE", "/k.pem"), key_file]).is_ok());
}

#[test]
fn metrics_are_served_only_where_sds_metrics_addr_says_and_pushed_where_otlp_goes() {
    let defaults = config_from(&[]).unwrap().metrics;
    assert_eq!(defaults.addr, None);
    assert_eq!(defaults.otlp_endpoint, None);
    assert_eq!(defaults.sample_interval, Duration::from_secs(5));

    let set = config_from(&[
        ("SDS_METRICS_ADDR", "0.0.0.0:9464"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ("SDS_METRICS_SAMPLE_MS", "250"),
    ])
    .unwrap()
    .metrics;
    assert_eq!(set.addr, Some("0.0.0.0:9464".parse().unwrap()));
    assert_eq!(set.otlp_endpoint.as_deref(), Some("http://collector:4317"));
    assert_eq!(set.sample_interval, Duration::from_millis(250));
    let blank = config_from(&[
        ("SDS_METRICS_ADDR", ""),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
    ])
    .unwrap()
    .metrics;
    assert_eq!((blank.addr, blank.otlp_endpoint), (None, None));

    let error = config_from(&[("SDS_METRICS_ADDR", "9464")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_METRICS_ADDR: \"9464\" is not an address such as 0.0.0.0:9464"
    );
    let error = config_from(&[("SDS_METRICS_SAMPLE_MS", "0")]).unwrap_err();
    assert_eq!(error.variable, "SDS_METRICS_SAMPLE_MS");
}

#[test]
fn production_fetches_its_key_set_over_https_only() {
    let plain = config_from(&[
        ("SDS_ENV", "production"),
        (
            "SDS_JWKS_URL",
            "http://login.example.scot/.well-known/jwks.json",
        ),
    ])
    .unwrap_err();
    assert_eq!(plain.variable, "SDS_JWKS_URL");
    assert!(plain.problem.contains("https only"), "{plain}");
    let secure = config_from(&[
        ("SDS_ENV", "production"),
        (
            "SDS_JWKS_URL",
            "https://login.example.scot/.well-known/jwks.json",
        ),
    ])
    .unwrap();
    assert!(matches!(secure.jwt, JwtConfig::Jwks { .. }));
    // Locally (and in tests) a plain http set is accepted.
    assert!(config_from(&[("SDS_JWKS_URL", "http://127.0.0.1:9/jwks.json")]).is_ok());
}

#[test]
fn tls_is_off_by_default_and_each_half_of_an_identity_needs_the_other() {
    let config = config_from(&[]).unwrap();
    assert_eq!(
        config.tls,
        TlsConfig {
            server_name: DEFAULT_TLS_SERVER_NAME.to_owned(),
            ..TlsConfig::default()
        }
    );
    assert!(!config.tls.serves_tls());

    // Any file that exists will do here; whether it holds a certificate is read at start.
    let file = env!("CARGO_MANIFEST_DIR").to_owned() + "/Cargo.toml";
    let error = config_from(&[("SDS_TLS_CERT", &file)]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_TLS_KEY: is not set but SDS_TLS_CERT is; TLS needs the certificate's private key too"
    );
    let error = config_from(&[("SDS_TLS_KEY", &file)]).unwrap_err();
    assert_eq!(error.variable, "SDS_TLS_CERT");
    let error = config_from(&[("SDS_TLS_CLIENT_CA", &file)]).unwrap_err();
    assert_eq!(error.variable, "SDS_TLS_CLIENT_CA");
    let error = config_from(&[("SDS_TLS_CA", "/no/such/ca.pem")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_TLS_CA: \"/no/such/ca.pem\" is not a file that can be read; give the path of a PEM file"
    );
    let error = config_from(&[("SDS_TLS_SERVER_NAME", "not a name!")]).unwrap_err();
    assert_eq!(error.variable, "SDS_TLS_SERVER_NAME");

    let config = config_from(&[
        ("SDS_TLS_CERT", &file),
        ("SDS_TLS_KEY", &file),
        ("SDS_TLS_CLIENT_CA", &file),
        ("SDS_TLS_SERVER_NAME", "sds.internal"),
    ])
    .unwrap();
    assert!(config.tls.serves_tls());
    assert_eq!(config.tls.server_name, "sds.internal");
}

#[test]
fn rate_limits_default_to_a_generous_bucket_and_off_lifts_them() {
    let config = config_from(&[]).unwrap();
    assert_eq!(
        config.server.rate_limit,
        Some(crate::auth::RateLimit {
            per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
            burst: DEFAULT_RATE_LIMIT_BURST,
        })
    );
    let config = config_from(&[("SDS_RATE_LIMIT_PER_SECOND", "off")]).unwrap();
    assert_eq!(config.server.rate_limit, None);
    // A rate above the default burst raises the burst with it, unless one is given.
    let config = config_from(&[("SDS_RATE_LIMIT_PER_SECOND", "5000")]).unwrap();
    assert_eq!(
        config.server.rate_limit.map(|limit| limit.burst),
        Some(5000)
    );
    for (variable, value) in [
        ("SDS_RATE_LIMIT_PER_SECOND", "0"),
        ("SDS_RATE_LIMIT_PER_SECOND", "fast"),
        ("SDS_RATE_LIMIT_BURST", "0"),
        ("SDS_RATE_LIMIT_BURST", "-1"),
    ] {
        let error = config_from(&[(variable, value)]).unwrap_err();
        assert_eq!(error.variable, variable, "{value}");
    }
    // The burst has no `off` of its own, and is checked even while the rate is off.
    let error = config_from(&[("SDS_RATE_LIMIT_BURST", "off")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SDS_RATE_LIMIT_BURST: \"off\" is not a whole number of requests"
    );
    let error = config_from(&[
        ("SDS_RATE_LIMIT_PER_SECOND", "off"),
        ("SDS_RATE_LIMIT_BURST", "banana"),
    ])
    .unwrap_err();
    assert_eq!(error.variable, "SDS_RATE_LIMIT_BURST");
}
