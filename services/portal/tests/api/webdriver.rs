//! A real browser for the browser tests: Debian's headless Chromium driven by its
//! chromedriver over the W3C WebDriver protocol (plain HTTP and JSON, sent with the test
//! kit's HTTP/1.1 client), with screenshots kept as test artefacts and axe-core run in the
//! page. A test waits for conditions (an element, a text) with a deadline; it never sleeps.
//!
//! Missing Chromium, chromedriver or axe-core fail the test with what to install: the test
//! command (deploy/local/test) installs all three, and a browser test that quietly skipped
//! would prove nothing.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How long a page may take to show what the test waits for.
pub const PAGE: Duration = Duration::from_secs(20);
/// How long one WebDriver command may take (opening a session starts Chromium).
const COMMAND: Duration = Duration::from_secs(60);
/// The key a W3C element reference is kept under.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The flags issue 11 and TOOLCHAIN.md give: headless, no sandbox (tests run as root in
/// containers), and no background traffic, which this machine's closed network refuses.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
];

/// `name` on PATH (Debian puts chromedriver in /usr/bin), or `override_variable`'s value.
fn program(name: &str, override_variable: &str, install: &str) -> PathBuf {
    if let Ok(path) = std::env::var(override_variable) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for folder in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        let candidate = folder.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "{name} is not installed, so the browser test cannot run. deploy/local/test installs it; \
         by hand: {install} (or set {override_variable})"
    );
}

/// The folder screenshots are kept in: `target/browser-artefacts`.
pub fn artefacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let folder = target.join("browser-artefacts");
    std::fs::create_dir_all(&folder).expect("make target/browser-artefacts");
    // Canonical, because chromedriver takes only a canonical path for a file input.
    std::fs::canonicalize(&folder).expect("target/browser-artefacts has a canonical path")
}

/// axe-core's script: `SDS_AXE_JS`, or where deploy/local/test installs it with npm.
pub fn axe_script() -> String {
    let path = std::env::var_os("SDS_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../.local/tools/axe-core/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "axe-core is not at {} ({error}), so the accessibility check cannot run. \
             deploy/local/test installs it; by hand: npm install --prefix .local/tools/axe-core axe-core@4 \
             (or set SDS_AXE_JS to axe.min.js)",
            path.display()
        )
    })
}

/// One chromedriver with one Chromium session, both ended when dropped.
pub struct Chromium {
    driver: Child,
    address: SocketAddr,
    session: String,
    profile: PathBuf,
}

impl Chromium {
    /// Starts chromedriver on a port it picks itself (so two tests never race for one) and
    /// opens a session of headless Chromium with a fresh profile.
    pub async fn start() -> Chromium {
        let chromium = program("chromium", "SDS_CHROMIUM", "apt-get install -y chromium");
        let chromedriver = program(
            "chromedriver",
            "SDS_CHROMEDRIVER",
            "apt-get install -y chromium-driver",
        );
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("start {}: {error}", chromedriver.display()));
        let stdout = driver.stdout.take().expect("chromedriver's output");
        let port = tokio::time::timeout(PAGE, async {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                // "ChromeDriver was started successfully on port 40261."
                if let Some(rest) = line.split("successfully on port ").nth(1) {
                    return rest.trim_end_matches('.').trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("chromedriver says which port it listens on");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let profile =
            std::env::temp_dir().join(format!("sds-chromium-{}", uuid::Uuid::now_v7().simple()));
        let mut args: Vec<String> = CHROMIUM_FLAGS
            .iter()
            .map(|flag| (*flag).to_owned())
            .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let created = send(
            address,
            "POST",
            "/session",
            &json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": {"binary": chromium, "args": args},
            }}}),
        )
        .await;
        let session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a Chromium session: {created}"))
            .to_owned();
        Chromium {
            driver,
            address,
            session,
            profile,
        }
    }

    async fn command(&self, method: &str, path: &str, body: &Value) -> Value {
        send(
            self.address,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
        .await
    }

    /// Opens `url` and waits until it has loaded (the session's page-load strategy).
    pub async fn open(&self, url: &str) {
        self.command("POST", "/url", &json!({ "url": url })).await;
    }

    /// The element `css` selects, waiting until there is one.
    pub async fn element(&self, css: &str) -> String {
        sds_testkit::wait_until(PAGE, &format!("the page has {css}"), || async {
            self.try_element(css).await
        })
        .await
    }

    async fn try_element(&self, css: &str) -> Option<String> {
        let answer = self
            .command_may_fail(
                "POST",
                "/element",
                &json!({"using": "css selector", "value": css}),
            )
            .await?;
        answer[ELEMENT].as_str().map(str::to_owned)
    }

    async fn command_may_fail(&self, method: &str, path: &str, body: &Value) -> Option<Value> {
        let path = format!("/session/{}{path}", self.session);
        match exchange(self.address, method, &path, body).await {
            Ok((200, answer)) => Some(answer["value"].clone()),
            // "no such element" while the page is still coming: asked again.
            Ok(_) => None,
            Err(error) => panic!("WebDriver {method} {path}: {error}"),
        }
    }

    /// Types `text` into the element `css` selects; for a file input, `text` is the path of
    /// the file to choose.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css).await;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            &json!({ "text": text }),
        )
        .await;
    }

    /// Clicks the element `css` selects (a button that submits waits for the next page).
    pub async fn click(&self, css: &str) {
        let element = self.element(css).await;
        self.command("POST", &format!("/element/{element}/click"), &json!({}))
            .await;
    }

    /// The page's visible text, or `None` while a page is being replaced (a command on
    /// the old page can find it gone).
    async fn text_now(&self) -> Option<String> {
        let text = self
            .command_may_fail(
                "POST",
                "/execute/sync",
                &json!({"script": "return document.body ? document.body.innerText : null;", "args": []}),
            )
            .await?;
        text.as_str().map(str::to_owned)
    }

    /// Waits until the page's visible text contains `expected`; returns the text.
    pub async fn wait_for_text(&self, expected: &str) -> String {
        sds_testkit::wait_until(PAGE, &format!("the page says {expected:?}"), || async {
            let text = self.text_now().await?;
            text.contains(expected).then_some(text)
        })
        .await
    }

    /// The current page's path and query.
    pub async fn url(&self) -> String {
        self.command("GET", "/url", &Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` in the page with `args` (in `arguments`) and returns its value.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            &json!({"script": script, "args": args}),
        )
        .await
    }

    /// Saves a screenshot of the page as `target/browser-artefacts/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.command("GET", "/screenshot", &Value::Null).await;
        keep_png(&encoded, name)
    }

    /// Saves a screenshot of the element `css` selects (scrolled into view) as
    /// `target/browser-artefacts/<name>.png`.
    pub async fn screenshot_of(&self, css: &str, name: &str) -> PathBuf {
        let element = self.element(css).await;
        let encoded = self
            .command(
                "GET",
                &format!("/element/{element}/screenshot"),
                &Value::Null,
            )
            .await;
        keep_png(&encoded, name)
    }

    /// axe-core's violations on the current page of impact "serious" or "critical", each
    /// as "rule: help (selectors)". An axe that checked nothing fails the test: no
    /// violations must mean the rules ran and passed.
    pub async fn serious_accessibility_violations(&self, axe: &str) -> Vec<String> {
        // Injected through WebDriver, which the page's Content-Security-Policy (no scripts
        // at all) does not govern: the page itself still runs none.
        self.execute(axe, json!([])).await;
        let found = self
            .command(
                "POST",
                "/execute/async",
                &json!({"script": "const done = arguments[arguments.length - 1]; \
                    axe.run(document) \
                      .then(result => done(JSON.stringify({violations: result.violations, passed: result.passes.length}))) \
                      .catch(error => done(JSON.stringify({violations: [{id: 'axe-failed', impact: 'critical', help: String(error), nodes: []}], passed: 0})));",
                    "args": []}),
            )
            .await;
        let found: Value =
            serde_json::from_str(found.as_str().unwrap_or("{}")).expect("axe's results");
        assert!(
            found["passed"].as_u64().unwrap_or_default() > 0,
            "axe-core checked no rule on the page: {found}"
        );
        let violations = found["violations"].as_array().cloned().unwrap_or_default();
        violations
            .iter()
            .filter(|violation| {
                matches!(violation["impact"].as_str(), Some("serious" | "critical"))
            })
            .map(|violation| {
                let targets: Vec<String> = violation["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|node| node["target"].to_string())
                    .collect();
                format!(
                    "{}: {} ({})",
                    violation["id"].as_str().unwrap_or_default(),
                    violation["help"].as_str().unwrap_or_default(),
                    targets.join(", ")
                )
            })
            .collect()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The session's end closes Chromium; chromedriver itself is killed on drop. Both are
        // best effort: the test's verdict is already made.
        let address = self.address;
        let session = self.session.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    let path = format!("/session/{session}");
                    let _ = exchange(address, "DELETE", &path, &Value::Null).await;
                });
            }
        })
        .join();
        let _ = self.driver.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn keep_png(encoded: &Value, name: &str) -> PathBuf {
    let png = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_str().unwrap_or_default())
        .expect("a screenshot is base64");
    let path = artefacts().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("keep the screenshot");
    path
}

/// One WebDriver command; a refusal fails the test with what chromedriver said.
async fn send(address: SocketAddr, method: &str, path: &str, body: &Value) -> Value {
    let (status, answer) = exchange(address, method, path, body)
        .await
        .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"));
    assert_eq!(status, 200, "WebDriver {method} {path}: {answer}");
    answer["value"].clone()
}

/// One HTTP/1.1 exchange with chromedriver, read to the end of the body its
/// Content-Length gives: chromedriver keeps the connection open whatever the request asks,
/// so a response read to the end of the stream would never end. Bounded by [`COMMAND`].
async fn exchange(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let talk = async {
        let mut stream = TcpStream::connect(address)
            .await
            .map_err(|error| format!("connect to chromedriver: {error}"))?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        stream
            .write_all(&request)
            .await
            .map_err(|error| format!("send: {error}"))?;
        let mut received = Vec::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            if let Some(end) = find(&received, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&received[..end]).to_string();
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .ok_or_else(|| format!("no Content-Length in {head}"))?;
                if received.len() >= end + 4 + length {
                    let status = head
                        .split_whitespace()
                        .nth(1)
                        .and_then(|code| code.parse().ok())
                        .ok_or_else(|| format!("no status in {head}"))?;
                    let json = serde_json::from_slice(&received[end + 4..end + 4 + length])
                        .map_err(|error| format!("the answer is not JSON: {error}"))?;
                    return Ok((status, json));
                }
            }
            let read = stream
                .read(&mut buffer)
                .await
                .map_err(|error| format!("read: {error}"))?;
            if read == 0 {
                return Err("chromedriver closed the connection mid-answer".to_owned());
            }
            received.extend_from_slice(&buffer[..read]);
        }
    };
    tokio::time::timeout(COMMAND, talk)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {COMMAND:?}")))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
