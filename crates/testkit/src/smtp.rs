//! A local SMTP server that speaks enough of RFC 5321 for a real client (lettre) to hand
//! it messages: `EHLO`/`HELO`, `AUTH PLAIN` and `AUTH LOGIN` (any credentials, noted),
//! `MAIL FROM`, `RCPT TO`, `DATA` (dot-unstuffed), `RSET`, `NOOP`, `QUIT`. No TLS: point
//! clients at [`FakeSmtpServer::url`] (`smtp://…?tls=none`).
//!
//! Knobs: [`FakeSmtpServer::refuse_mail`] answers `MAIL FROM` with a permanent failure,
//! [`FakeSmtpServer::stall`] accepts connections but never greets (for timeouts).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as sent after `DATA` (headers and body, CRLF line ends, unstuffed).
    pub data: String,
    /// `user:password` when the client authenticated.
    pub auth: Option<String>,
}

impl ReceivedMail {
    /// The header's value (the first one, unfolded), e.g. `header("Subject")`.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut lines = head.split("\r\n").peekable();
        while let Some(line) = lines.next() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.eq_ignore_ascii_case(name) {
                let mut value = value.trim().to_string();
                while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                    value.push(' ');
                    value.push_str(next.trim());
                }
                return Some(value);
            }
        }
        None
    }

    /// The body (after the header block).
    pub fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }

    /// The first URL in the body that contains `needle` (up to the next whitespace).
    pub fn link_containing(&self, needle: &str) -> Option<String> {
        self.body()
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains(needle))
            .map(str::to_string)
    }
}

#[derive(Default)]
struct State {
    messages: Mutex<Vec<ReceivedMail>>,
    refuse_mail: AtomicBool,
    stall: AtomicBool,
}

/// The running server; stops when dropped.
pub struct FakeSmtpServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for FakeSmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeSmtpServer {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(State::default());
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, state).await;
                });
            }
        });
        Self { addr, state, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `smtp://127.0.0.1:<port>?tls=none`.
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    /// [`Self::url`] with credentials (the server accepts any).
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("smtp://{user}:{password}@{}?tls=none", self.addr)
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.state.messages.lock().unwrap().clone()
    }

    /// The messages to `recipient` so far.
    pub fn messages_to(&self, recipient: &str) -> Vec<ReceivedMail> {
        self.messages()
            .into_iter()
            .filter(|mail| mail.to.iter().any(|to| to.eq_ignore_ascii_case(recipient)))
            .collect()
    }

    /// Waits (up to `timeout`) until `count` messages to `recipient` arrived; returns them.
    pub async fn wait_for(
        &self,
        recipient: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let found = self.messages_to(recipient);
            if found.len() >= count || tokio::time::Instant::now() >= deadline {
                assert!(
                    found.len() >= count,
                    "{count} messages to {recipient} expected within {timeout:?}, got {}",
                    found.len()
                );
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Answers `MAIL FROM` with `550` from now on (or again normally).
    pub fn refuse_mail(&self, refuse: bool) {
        self.state.refuse_mail.store(refuse, Ordering::SeqCst);
    }

    /// Accepts connections but never says a word (or greets again normally).
    pub fn stall(&self, stall: bool) {
        self.state.stall.store(stall, Ordering::SeqCst);
    }
}

async fn session(stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    if state.stall.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Ok(());
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    reply(&mut write, "220 fake-smtp.test ESMTP ready").await?;
    let mut from = None;
    let mut to = Vec::new();
    let mut auth = None;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(
                    b"250-fake-smtp.test\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n",
                )
                .await?;
        } else if upper.starts_with("HELO") {
            reply(&mut write, "250 fake-smtp.test").await?;
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = match command.split_whitespace().nth(2) {
                Some(encoded) => encoded.to_string(),
                None => {
                    reply(&mut write, "334 ").await?;
                    line.clear();
                    lines.read_line(&mut line).await?;
                    line.trim().to_string()
                }
            };
            let decoded = STANDARD.decode(encoded).unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect();
            if let [_, user, password] = parts.as_slice() {
                auth = Some(format!("{user}:{password}"));
            }
            reply(&mut write, "235 2.7.0 accepted").await?;
        } else if upper.starts_with("AUTH LOGIN") {
            let mut answers = Vec::new();
            for prompt in ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"] {
                reply(&mut write, prompt).await?;
                line.clear();
                lines.read_line(&mut line).await?;
                let decoded = STANDARD.decode(line.trim()).unwrap_or_default();
                answers.push(String::from_utf8_lossy(&decoded).into_owned());
            }
            auth = Some(answers.join(":"));
            reply(&mut write, "235 2.7.0 accepted").await?;
        } else if upper.starts_with("MAIL FROM:") {
            if state.refuse_mail.load(Ordering::SeqCst) {
                reply(&mut write, "550 5.7.1 refused by the test").await?;
                continue;
            }
            from = Some(address(&command["MAIL FROM:".len()..]));
            to.clear();
            reply(&mut write, "250 2.1.0 ok").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command["RCPT TO:".len()..]));
            reply(&mut write, "250 2.1.5 ok").await?;
        } else if upper == "DATA" {
            if from.is_none() || to.is_empty() {
                reply(&mut write, "503 5.5.1 MAIL and RCPT first").await?;
                continue;
            }
            reply(&mut write, "354 end with <CRLF>.<CRLF>").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                let content = line.trim_end_matches(['\r', '\n']);
                if content == "." {
                    break;
                }
                data.push_str(content.strip_prefix('.').unwrap_or(content));
                data.push_str("\r\n");
            }
            state.messages.lock().unwrap().push(ReceivedMail {
                from: from.take().unwrap_or_default(),
                to: std::mem::take(&mut to),
                data,
                auth: auth.clone(),
            });
            reply(&mut write, "250 2.0.0 queued").await?;
        } else if upper == "RSET" {
            from = None;
            to.clear();
            reply(&mut write, "250 2.0.0 ok").await?;
        } else if upper == "NOOP" {
            reply(&mut write, "250 2.0.0 ok").await?;
        } else if upper == "QUIT" {
            reply(&mut write, "221 2.0.0 bye").await?;
            return Ok(());
        } else {
            reply(&mut write, "502 5.5.2 not implemented").await?;
        }
    }
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    write.write_all(format!("{text}\r\n").as_bytes()).await
}

/// `<ada@example.com> SIZE=123` → `ada@example.com`.
fn address(argument: &str) -> String {
    let argument = argument.trim();
    match (argument.find('<'), argument.find('>')) {
        (Some(start), Some(end)) if start < end => argument[start + 1..end].to_string(),
        _ => argument
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_plain_client_hands_over_a_message() {
        let server = FakeSmtpServer::start().await;
        let stream = TcpStream::connect(server.addr()).await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        assert!(lines.next_line().await.unwrap().unwrap().starts_with("220"));
        let credentials = STANDARD.encode(b"\0mailer\0pw");
        for command in [
            "EHLO client.test".to_string(),
            format!("AUTH PLAIN {credentials}"),
            "MAIL FROM:<no-reply@marquee.test>".into(),
            "RCPT TO:<ada@example.com>".into(),
            "DATA".into(),
            "Subject: Hi\r\n\r\n..dot-stuffed\r\nhttp://x.test/a?token=1\r\n.".into(),
            "QUIT".into(),
        ] {
            write
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .unwrap();
        }
        let received = server
            .wait_for("ada@example.com", 1, Duration::from_secs(5))
            .await;
        let mail = &received[0];
        assert_eq!(mail.from, "no-reply@marquee.test");
        assert_eq!(mail.auth.as_deref(), Some("mailer:pw"));
        assert_eq!(mail.header("subject").as_deref(), Some("Hi"));
        assert!(mail.body().starts_with(".dot-stuffed\r\n"), "{mail:?}");
        assert_eq!(
            mail.link_containing("token=").as_deref(),
            Some("http://x.test/a?token=1")
        );
    }
}
