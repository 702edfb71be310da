//! The real SMTP server the e-mail tests send through (aiosmtpd, scripts/smtp_sink.py,
//! one .eml file per message), and a minimal reader of what it stored.
//!
//! scripts/test.sh starts the sink and sets `TOLLGATE_TEST_SMTP` (host:port) and
//! `TOLLGATE_TEST_MAIL_DIR`. Without them, a test starts its own sink from the
//! virtualenv `tg_ensure_smtp_sink` creates (.data/mail-venv), or fails saying how
//! to get one: these tests never pass without a real SMTP server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tollgate::service::mail::{Mailer, SmtpSettings, TlsMode};

/// A running SMTP sink.
pub struct MailSink {
    pub host: String,
    pub port: u16,
    /// Where each received message is stored as `*.eml`.
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Drop for MailSink {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The sink of scripts/test.sh, or one started for this test.
pub fn mail_sink() -> MailSink {
    if let Ok(addr) = std::env::var("TOLLGATE_TEST_SMTP") {
        let (host, port) = addr
            .rsplit_once(':')
            .expect("TOLLGATE_TEST_SMTP is host:port");
        let dir = std::env::var("TOLLGATE_TEST_MAIL_DIR").expect(
            "TOLLGATE_TEST_SMTP is set, so TOLLGATE_TEST_MAIL_DIR must name the sink's directory",
        );
        return MailSink {
            host: host.into(),
            port: port.parse().expect("TOLLGATE_TEST_SMTP port"),
            dir: dir.into(),
            child: None,
        };
    }
    let python = repo_root().join(".data/mail-venv/bin/python");
    assert!(
        python.exists(),
        "these tests need a real SMTP server: run scripts/test.sh (it starts one), or once \
         `source scripts/lib/common.sh && tg_ensure_smtp_sink` so tests can start their own, \
         or set TOLLGATE_TEST_SMTP=host:port and TOLLGATE_TEST_MAIL_DIR=<the sink's directory>"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let dir = std::env::temp_dir().join(format!("tollgate-mail-{}", uuid::Uuid::now_v7().simple()));
    let child = Command::new(python)
        .arg(repo_root().join("scripts/smtp_sink.py"))
        .args(["--port", &port.to_string(), "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start scripts/smtp_sink.py");
    let sink = MailSink {
        host: "127.0.0.1".into(),
        port,
        dir,
        child: Some(child),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the SMTP sink did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sink
}

impl MailSink {
    /// A mailer sending through this sink.
    pub fn mailer(&self) -> Mailer {
        Mailer::smtp(
            "Tollgate <no-reply@tollgate.localhost>",
            &self.smtp_settings(),
        )
        .expect("mailer")
    }

    /// Plain SMTP to this sink.
    pub fn smtp_settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: self.host.clone(),
            port: Some(self.port),
            username: None,
            password: None,
            tls: TlsMode::None,
            timeout: Duration::from_secs(10),
        }
    }

    /// Every stored message to `to`, oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|raw| Mail::parse(&String::from_utf8_lossy(&raw)))
            .filter(|m| {
                m.header("to")
                    .is_some_and(|t| t.to_lowercase().contains(&to.to_lowercase()))
            })
            .collect()
    }

    /// Waits (up to 10 s) until `count` messages to `to` are stored, and returns them.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.messages_to(to);
            if found.len() >= count || Instant::now() > deadline {
                assert_eq!(
                    found.len(),
                    count,
                    "e-mails to {to} in {}",
                    self.dir.display()
                );
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A stored message: headers (unfolded) and the decoded text body.
#[derive(Debug, Clone)]
pub struct Mail {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Mail {
    /// Parses a single-part message, decoding a quoted-printable or base64 body.
    pub fn parse(raw: &str) -> Mail {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            match (line.starts_with([' ', '\t']), headers.last_mut()) {
                (true, Some((_, value))) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                _ => {
                    if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.trim().to_lowercase(), value.trim().to_string()));
                    }
                }
            }
        }
        let encoding = headers
            .iter()
            .find(|(n, _)| n == "content-transfer-encoding")
            .map(|(_, v)| v.to_lowercase());
        let bytes = match encoding.as_deref() {
            Some("quoted-printable") => decode_quoted_printable(body),
            Some("base64") => decode_base64(body),
            _ => body.as_bytes().to_vec(),
        };
        Mail {
            headers,
            body: String::from_utf8(bytes)
                .expect("UTF-8 body")
                .replace("\r\n", "\n"),
        }
    }

    /// The first header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The subject (plain ASCII, as Tollgate's subjects in these tests are).
    pub fn subject(&self) -> &str {
        self.header("subject").expect("Subject header")
    }
}

fn decode_quoted_printable(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("QP escape"));
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn decode_base64(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c)
            .expect("base64 character") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
