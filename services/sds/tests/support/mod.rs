//! What the end-to-end tests of the `sds` binary share: running it, reading what it printed,
//! and [`ServerProcess`], a real `sds serve` on real PostgreSQL and NATS.
//!
//! What must stay true: every server a test starts has its own port, database and NATS
//! server, and stops when the test drops it, so that tests run in parallel and leave
//! nothing behind.

// Each test binary (`cli`, `assessment_cli`) includes this module and uses a different
// part of it; what one of them leaves unused is not dead.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use sds_testkit::TEST_JWT_SECRET;
use serde_json::Value;

pub const SDS: &str = env!("CARGO_BIN_EXE_sds");

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn sds(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(SDS)
        .args(args)
        .env_remove("SDS_TOKEN")
        .envs(env.iter().copied())
        .env("SDS_JWT_SECRET", TEST_JWT_SECRET)
        .output()
        .expect("run sds")
}

pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn last_line_json(output: &Output) -> Value {
    let text = stdout_of(output);
    let last = text
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output; stderr: {}", stderr_of(output)));
    serde_json::from_str(last)
        .unwrap_or_else(|error| panic!("last line is not JSON ({error}): {last}"))
}

/// A real `sds serve` process with its own port, database and NATS server, stopped when
/// dropped. Its log goes to a file that a failed start prints.
pub struct ServerProcess {
    pub child: Child,
    pub env: Vec<(String, String)>,
    /// The server's own NATS; `None` for a replica on NATS the test holds (a cluster's).
    pub nats: Option<sds_testkit::PrivateNats>,
    pub log: PathBuf,
}

impl ServerProcess {
    pub async fn start() -> Self {
        let database = sds_testkit::fresh_database().await;
        Self::start_on(&database.url, &database.name).await
    }

    /// A real `sds serve` as [`start`](Self::start) gives, but on the database at
    /// `database_url` (a [`sds_testkit::PrivatePostgres`]'s, say, which the test may stop
    /// and resume); `label` names its log and its exports folder.
    pub async fn start_on(database_url: &str, label: &str) -> Self {
        Self::start_on_with(database_url, label, &[]).await
    }

    /// [`start`](Self::start) with settings of the test's own added to the server's.
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        let database = sds_testkit::fresh_database().await;
        Self::start_on_with(&database.url, &database.name, extra).await
    }

    async fn start_on_with(database_url: &str, label: &str, extra: &[(&str, &str)]) -> Self {
        let nats = sds_testkit::PrivateNats::start().await;
        let url = nats.url();
        Self::start_replica(database_url, label, &url, Some(nats), extra).await
    }

    /// A real `sds serve` on the database at `database_url` and the NATS at `nats_url` (a
    /// cluster's servers, say, which the test holds), with settings of the test's own
    /// (`SDS_ONLY` to serve some of the services, `SDS_LEDGER_URL` to reach another
    /// process's ledger, ...); `label` names its log and, unless given, its exports folder.
    pub async fn start_replica(
        database_url: &str,
        label: &str,
        nats_url: &str,
        nats: Option<sds_testkit::PrivateNats>,
        extra: &[(&str, &str)],
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let web_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut env = vec![
            ("SDS_ADDR".to_owned(), addr.clone()),
            ("SDS_LISTEN_ADDR".to_owned(), addr),
            ("SDS_HTTP_ADDR".to_owned(), format!("127.0.0.1:{web_port}")),
            ("SDS_DATABASE_URL".to_owned(), database_url.to_owned()),
            ("SDS_NATS_URL".to_owned(), nats_url.to_owned()),
            (
                "SDS_EXPORTS_DIR".to_owned(),
                std::env::temp_dir()
                    .join(format!("sds-exports-{label}"))
                    .display()
                    .to_string(),
            ),
        ];
        for (name, value) in extra {
            env.retain(|(key, _)| key != name);
            env.push(((*name).to_owned(), (*value).to_owned()));
        }
        let log = std::env::temp_dir().join(format!("sds-serve-{label}.log"));
        let log_file = std::fs::File::create(&log).expect("create server log");
        let child = spawn_serve(&env, log_file);
        let mut server = Self {
            child,
            env,
            nats,
            log,
        };
        server.wait_until_serving("starting").await;
        server
    }

    /// Starts `sds serve` again on the same port, database, NATS server and exports
    /// folder, as after a crash: the test has killed [`child`](Self::child) and reaped it.
    /// The new process logs on in the same file.
    pub async fn restart(&mut self) {
        let log_file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .expect("open the server log");
        self.child = spawn_serve(&self.env, log_file);
        self.wait_until_serving("restarting").await;
    }

    /// Waits until the server answers SERVING; panics with its log if it exits first or
    /// takes more than 30 s.
    async fn wait_until_serving(&mut self, what: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!(
                    "sds serve exited with {exit} while {what}:\n{}",
                    self.log_text()
                );
            }
            if self.run(&["health"], None).status.success() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "sds serve was not SERVING within 30 s of {what}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The database the server works in (`SDS_DATABASE_URL`).
    pub fn database_url(&self) -> &str {
        self.setting("SDS_DATABASE_URL")
    }

    /// Where the server writes payment runs' files (`SDS_EXPORTS_DIR`).
    pub fn exports_dir(&self) -> PathBuf {
        PathBuf::from(self.setting("SDS_EXPORTS_DIR"))
    }

    pub fn setting(&self, name: &str) -> &str {
        self.env
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("the server has no {name}"))
    }

    /// A commissioning officer of the demo authority, as `sds token` issues one.
    pub fn commissioning_token(&self) -> String {
        self.token(&[
            "--org",
            "demo-shire",
            "--kind",
            "authority",
            "--roles",
            "commissioning",
            "--authority",
            "demo-shire",
        ])
    }

    /// Registers a care service in the directory through `sds directory register`, and
    /// waits until assessment has heard of it through `provider.registered` (plan lines may
    /// then name it by its number). Returns its directory id.
    pub async fn directory_lists(&self, name: &str, number: &str) -> String {
        let output = self.run(
            &[
                "directory",
                "register",
                "--name",
                name,
                "--kind",
                "registered-care-service",
                "--care-inspectorate-number",
                number,
                "--service-type",
                "Support services",
                "--locality",
                "Aberdeenshire",
                "--capacity",
                "20",
            ],
            Some(&self.commissioning_token()),
        );
        assert!(output.status.success(), "{}", stderr_of(&output));
        let id = printed(&output)["id"]
            .as_str()
            .expect("the registered provider's id")
            .to_owned();
        let database = self
            .env
            .iter()
            .find(|(name, _)| name == "SDS_DATABASE_URL")
            .map(|(_, url)| url.clone())
            .expect("the server's database");
        let pool = sqlx::PgPool::connect(&database)
            .await
            .expect("connect to the server's database");
        sds_testkit::wait_until(
            Duration::from_secs(20),
            "assessment hears of the registered provider",
            || async {
                let known: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM assessment.known_provider WHERE provider_id = $1::uuid",
                )
                .bind(&id)
                .fetch_optional(&pool)
                .await
                .expect("read the provider index");
                known.map(|_| ())
            },
        )
        .await;
        pool.close().await;
        id
    }

    /// Staff of the demo authority with these roles (comma-separated), as `sds token`
    /// issues them.
    pub fn staff_token(&self, roles: &str) -> String {
        self.token(&[
            "--org",
            "demo-shire",
            "--kind",
            "authority",
            "--roles",
            roles,
            "--authority",
            "demo-shire",
        ])
    }

    /// Runs `sds` as [`run`](Self::run) does, with `input` on its standard input.
    pub fn run_with_input(&self, args: &[&str], token: Option<&str>, input: &[u8]) -> Output {
        let mut command = Command::new(SDS);
        command
            .args(args)
            .env_remove("SDS_TOKEN")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SDS_JWT_SECRET", TEST_JWT_SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(token) = token {
            command.env("SDS_TOKEN", token);
        }
        let mut child = command.spawn().expect("run sds");
        std::io::Write::write_all(child.stdin.as_mut().expect("piped stdin"), input)
            .expect("write sds's standard input");
        child.wait_with_output().expect("wait for sds")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn run(&self, args: &[&str], token: Option<&str>) -> Output {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(token) = token {
            env.push(("SDS_TOKEN", token));
        }
        sds(args, &env)
    }

    pub fn addr(&self) -> &str {
        &self.env[0].1
    }

    pub fn token(&self, args: &[&str]) -> String {
        let output = self.run(&[&["token"], args].concat(), None);
        assert!(output.status.success(), "{}", stderr_of(&output));
        stdout_of(&output).trim().to_owned()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `sds serve` with `env`, logging to `log`.
fn spawn_serve(env: &[(String, String)], log: std::fs::File) -> Child {
    Command::new(SDS)
        .arg("serve")
        .env_remove("RUST_LOG")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("SDS_JWT_SECRET", TEST_JWT_SECRET)
        .env("SDS_DRAIN_SECONDS", "5")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn sds serve")
}

/// The sample of the Care Inspectorate datastore that `deploy/local/up` imports.
pub fn sample_csv() -> PathBuf {
    repo_root().join("deploy/local/sample/care-inspectorate-sample.csv")
}

pub fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("sds-{}-{name}", uuid_like()));
    std::fs::write(&path, bytes).unwrap();
    path
}

pub fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::time::Instant::now())
        .replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

/// The sample policy `deploy/local/up` sets for the demo authority.
pub fn sample_policy() -> String {
    repo_root()
        .join("deploy/local/sample/policy.json")
        .to_str()
        .expect("the repository path is UTF-8")
        .to_owned()
}

/// The JSON a command printed, after checking it succeeded.
pub fn printed(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr_of(output));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", stdout_of(output)))
}

/// The one line a refused command printed, after checking it failed and printed nothing
/// else.
pub fn refusal(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "expected a refusal, got: {}",
        stdout_of(output)
    );
    assert!(output.stdout.is_empty(), "{}", stdout_of(output));
    let message = stderr_of(output);
    assert_eq!(message.lines().count(), 1, "{message}");
    message.trim_end().to_owned()
}
