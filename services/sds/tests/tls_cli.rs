//! `sds serve` over TLS and mutual TLS (`SDS_TLS_*`), called by the `sds` client with its
//! `--tls-*` settings: the services of the process call each other over the same mutual
//! TLS, and a caller without a certificate of the platform's CA, or that does not trust
//! the platform's, gets no answer at all.

mod support;

use sds_testkit::TestPki;
use support::*;

/// A server of the whole platform serving mutual TLS, reading "today" from `clock`.
async fn mutual_tls_server(pki: &TestPki, clock: &str) -> ServerProcess {
    let mut settings: Vec<(&str, String)> = pki.mutual_tls_settings();
    settings.push(("SDS_CLOCK_FILE", clock.to_owned()));
    let settings: Vec<(&str, &str)> = settings
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    ServerProcess::start_with(&settings).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_services_of_a_process_serving_mutual_tls_call_each_other_over_it() {
    let pki = TestPki::new();
    let clock = std::env::temp_dir().join(format!("sds-tls-clock-{}", uuid_like()));
    let clock = clock.display().to_string();
    // The server's own `sds health` already went over mutual TLS: the test's client runs
    // with the server's settings, its certificate among them.
    let server = mutual_tls_server(&pki, &clock).await;
    assert!(
        server.log_text().contains("tls=\"mutual\"") || server.log_text().contains("tls=mutual"),
        "the server says it serves mutual TLS:\n{}",
        server.log_text()
    );

    // The demo's history takes contracts to the directory, payments to assessment and the
    // ledger, and the portal to all of them: every call between services, over TLS.
    let seeded = server.run(
        &[
            "demo",
            "seed",
            "--authority",
            "demo-shire",
            "--clock-file",
            &clock,
        ],
        None,
    );
    assert!(seeded.status.success(), "{}", stderr_of(&seeded));
    let provider = stdout_of(&seeded)
        .lines()
        .find_map(|line| line.strip_prefix("DEMO_PROVIDER_TOKEN="))
        .expect("the seed prints the provider's token")
        .to_owned();
    let told = server.run(&["portal", "notifications"], Some(&provider));
    assert!(told.status.success(), "{}", stderr_of(&told));
    let remittances = stdout_of(&told)
        .lines()
        .filter(|line| line.contains("NOTIFICATION_KIND_REMITTANCE_ISSUED"))
        .count();
    assert_eq!(remittances, 2, "{}", stdout_of(&told));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_without_a_certificate_of_the_platforms_ca_is_refused() {
    let pki = TestPki::new();
    let clock = std::env::temp_dir().join(format!("sds-tls-clock-{}", uuid_like()));
    let server = mutual_tls_server(&pki, &clock.display().to_string()).await;
    let addr = server.addr().to_owned();
    let path = |path: &std::path::Path| path.display().to_string();
    let (ca, other_ca) = (path(&pki.ca.cert), path(&pki.other_ca.cert));
    let (cert, key) = (path(&pki.client.cert), path(&pki.client.key));
    let (other_cert, other_key) = (path(&pki.other_client.cert), path(&pki.other_client.key));

    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("plain HTTP/2, no TLS", vec![]),
        (
            "TLS without a client certificate",
            vec![("SDS_TLS_CA", &ca)],
        ),
        (
            "a client certificate from another CA",
            vec![
                ("SDS_TLS_CA", &ca),
                ("SDS_TLS_CERT", &other_cert),
                ("SDS_TLS_KEY", &other_key),
            ],
        ),
        (
            "a client that does not trust the server's CA",
            vec![
                ("SDS_TLS_CA", &other_ca),
                ("SDS_TLS_CERT", &cert),
                ("SDS_TLS_KEY", &key),
            ],
        ),
        (
            "a client that expects another name on the server's certificate",
            vec![
                ("SDS_TLS_CA", &ca),
                ("SDS_TLS_CERT", &cert),
                ("SDS_TLS_KEY", &key),
                ("SDS_TLS_SERVER_NAME", "ledger.elsewhere.example"),
            ],
        ),
    ];
    for (case, settings) in cases {
        let mut env = vec![("SDS_ADDR", addr.as_str())];
        env.extend(settings);
        let output = sds(&["health"], &env);
        assert!(
            !output.status.success(),
            "{case}: answered {}",
            stdout_of(&output)
        );
        let error = stderr_of(&output);
        assert!(
            error.starts_with("error: ") && error.trim().lines().count() == 1,
            "{case}: one line of error, got {error:?}"
        );
    }

    // The same client with the platform's CA and its own certificate from it is served.
    let output = sds(
        &["health"],
        &[
            ("SDS_ADDR", &addr),
            ("SDS_TLS_CA", &ca),
            ("SDS_TLS_CERT", &cert),
            ("SDS_TLS_KEY", &key),
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output).trim(), "SERVING");
}

#[test]
fn a_server_whose_key_is_not_its_certificates_own_refuses_to_start_and_names_both() {
    let pki = TestPki::new();
    let cert = pki.server.cert.display().to_string();
    let wrong_key = pki.client.key.display().to_string();
    let output = sds(
        &["serve"],
        &[
            ("SDS_LISTEN_ADDR", "127.0.0.1:0"),
            ("SDS_HTTP_ADDR", "127.0.0.1:0"),
            ("SDS_TLS_CERT", &cert),
            ("SDS_TLS_KEY", &wrong_key),
        ],
    );
    assert!(!output.status.success());
    let error = stderr_of(&output);
    assert!(
        error.contains("SDS_TLS_CERT and SDS_TLS_KEY") && error.contains(&wrong_key),
        "{error}"
    );

    let output = sds(
        &["serve"],
        &[
            ("SDS_LISTEN_ADDR", "127.0.0.1:0"),
            ("SDS_HTTP_ADDR", "127.0.0.1:0"),
            ("SDS_TLS_CERT", &cert),
        ],
    );
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("SDS_TLS_KEY: is not set but SDS_TLS_CERT is"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_server_whose_own_calls_would_refuse_its_certificate_refuses_to_start() {
    let pki = TestPki::new();
    let path = |path: &std::path::Path| path.display().to_string();
    let (cert, key) = (path(&pki.server.cert), path(&pki.server.key));
    let (ca, other_ca) = (path(&pki.ca.cert), path(&pki.other_ca.cert));
    let leaf = path(&pki.client.cert);
    // What is wrong, the settings added to the certificate and key, what the refusal says.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "a private CA's certificate checked against the system's CAs",
            vec![],
            "would be refused when this process calls the services running alongside it",
        ),
        (
            "a name its certificate does not carry",
            vec![("SDS_TLS_CA", &ca), ("SDS_TLS_SERVER_NAME", "sds.internal")],
            "SDS_TLS_SERVER_NAME \"sds.internal\"",
        ),
        (
            "a client CA that did not issue its own certificate",
            vec![("SDS_TLS_CA", &ca), ("SDS_TLS_CLIENT_CA", &other_ca)],
            "refuses this process's own certificate",
        ),
        (
            "a client CA file holding a leaf certificate, not a CA",
            vec![("SDS_TLS_CA", &ca), ("SDS_TLS_CLIENT_CA", &leaf)],
            "refuses this process's own certificate",
        ),
    ];
    for (case, settings, expected) in cases {
        let mut env = vec![
            ("SDS_LISTEN_ADDR", "127.0.0.1:0"),
            ("SDS_HTTP_ADDR", "127.0.0.1:0"),
            ("SDS_TLS_CERT", cert.as_str()),
            ("SDS_TLS_KEY", key.as_str()),
        ];
        env.extend(settings);
        let output = sds(&["serve"], &env);
        assert!(!output.status.success(), "{case}: started");
        assert!(
            stderr_of(&output).contains(expected),
            "{case}: {}",
            stderr_of(&output)
        );
    }
}
