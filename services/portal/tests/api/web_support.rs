//! A browser as the web tests need one: it keeps the cookies the portal sets, sends them
//! back, and fills in forms (with the CSRF token the page carries), over the plain HTTP/1.1
//! client of the test kit.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use sds_testkit::{HttpResponse, http_request};

/// Cookies by name, as a browser would keep them for `/portal`.
#[derive(Debug, Clone)]
pub struct Browser {
    pub web: SocketAddr,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(web: SocketAddr) -> Browser {
        Browser {
            web,
            cookies: BTreeMap::new(),
        }
    }

    /// A browser signed in with `token` (the sign-in must work).
    pub async fn signed_in(web: SocketAddr, token: &str) -> Browser {
        let mut browser = Browser::new(web);
        let answer = browser.sign_in(token).await;
        assert_eq!(answer.status, 303, "signed in: {}", answer.body);
        browser
    }

    /// Opens the sign-in page, then posts `token` with the page's CSRF token.
    pub async fn sign_in(&mut self, token: &str) -> HttpResponse {
        let form = self.get("/portal/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = csrf_in(&form.body);
        self.post("/portal/sign-in", &[("token", token), ("csrf", &csrf)])
            .await
    }

    pub async fn get(&mut self, path: &str) -> HttpResponse {
        self.send("GET", path, "application/x-www-form-urlencoded", &[])
            .await
    }

    /// Posts `fields` as a form, with the cookies kept.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> HttpResponse {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            "POST",
            path,
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )
        .await
    }

    /// Posts `fields` and one file as `multipart/form-data`, as a browser sends a form with
    /// a file input: the file under field `file_field`, named `file_name`.
    pub async fn post_file(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_field: &str,
        file_name: &str,
        contents: &[u8],
    ) -> HttpResponse {
        let boundary = "----sds-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(contents);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.send("POST", path, &content_type, &body).await
    }

    /// The CSRF token the page at `path` carries in its forms.
    pub async fn csrf_of(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        csrf_in(&page.body)
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> HttpResponse {
        let cookie = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = vec![("Content-Type", content_type)];
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_str()));
        }
        let answer = http_request(self.web, method, path, &headers, body).await;
        for (name, value) in &answer.headers {
            if name != "set-cookie" {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((key, kept)) = pair.split_once('=') {
                if kept.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(key);
                } else {
                    self.cookies.insert(key.to_owned(), kept.to_owned());
                }
            }
        }
        answer
    }
}

/// The value of the first hidden `csrf` field in `html`.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("a CSRF field in the page: {html}"))
        + marker.len();
    let end = html[start..].find('"').expect("the field's closing quote");
    html[start..start + end].to_owned()
}

/// `application/x-www-form-urlencoded` for one name or value.
pub fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                encoded.push(byte as char)
            }
            b' ' => encoded.push('+'),
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

/// The page's visible text: tags dropped, entities for the five escaped characters read
/// back, whitespace collapsed. Enough for pages this portal writes (no scripts, no
/// comments).
pub fn visible_text(html: &str) -> String {
    let body = html.split("<body>").nth(1).unwrap_or(html);
    let mut text = String::new();
    let mut in_tag = false;
    for character in body.chars() {
        match character {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            other if !in_tag => text.push(other),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The portal with the other services a page reads from, composed by the same build as
/// `sds serve`, on a clock set to 28 November 2026 and a NATS of the test's own.
pub struct Platform {
    pub process: sds_testkit::TestProcess,
    pub nats: sds_testkit::PrivateNats,
}

/// "Today" for tests that use the platform.
pub const TODAY: (i32, u32, u32) = (2026, 11, 28);

impl Platform {
    pub async fn start(components: Vec<sds_runtime::Component>) -> Platform {
        Self::start_with_environment(components, Vec::new()).await
    }

    /// [`Platform::start`] with settings of the test's own (`SDS_*`).
    pub async fn start_with_environment(
        mut components: Vec<sds_runtime::Component>,
        environment: Vec<(&'static str, String)>,
    ) -> Platform {
        let nats = sds_testkit::PrivateNats::start().await;
        components.push(sds_portal::component());
        let clock = sds_platform::ManualClock::on(
            chrono::NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).expect("a date"),
        )
        .clock();
        let process = sds_testkit::TestProcess::start_with(
            components,
            sds_testkit::TestSettings {
                nats_url: Some(nats.url()),
                clock: Some(clock),
                environment,
                ..sds_testkit::TestSettings::default()
            },
        )
        .await;
        Platform { process, nats }
    }

    pub fn web(&self) -> SocketAddr {
        self.process.web()
    }

    /// A person of Fife whose plan, approved from "today", has one option 2 line at `weekly`
    /// a week, its provider still to be chosen: what a package request is published for
    /// (needs assessment among the components). Returns their id.
    pub async fn person_for_a_request(&self, weekly: &str) -> String {
        let today = chrono::NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).expect("a date");
        sds_testkit::plans::approved_plan(
            self.process.channel().await,
            "fife",
            today,
            vec![sds_testkit::plans::option_2_line(weekly, today)],
        )
        .await
    }
}
