//! Outgoing mail through lettre: SMTP (STARTTLS or TLS from the start, rustls on the
//! ring provider the binaries install), or a mailbox directory that receives each
//! message as an `.eml` file (the embedded default, so that `make run` users can read
//! their links without a mail server).

use crate::settings::AuthSettings;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use marquee_platform::ExposeSecret;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A message to one recipient, in plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail settings: {0}")]
    Settings(String),
    #[error("building the message: {0}")]
    Message(String),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing to the mailbox: {0}")]
    Mailbox(#[from] std::io::Error),
    #[error("sending took longer than {0:?}")]
    Timeout(Duration),
}

/// Sends mail; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    timeout: Duration,
    transport: Arc<Transport>,
}

enum Transport {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
    Mailbox(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match self.transport.as_ref() {
            Transport::Smtp(_) => "smtp".to_string(),
            Transport::Mailbox(dir) => format!("mailbox {}", dir.display()),
        };
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &transport)
            .finish()
    }
}

impl Mailer {
    /// SMTP when `mail.smtp_url` is set, else the mailbox directory (created on first
    /// use). A malformed URL or sender stops the service at start-up.
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, MailError> {
        let from: Mailbox = settings
            .mail
            .from
            .parse()
            .map_err(|error| MailError::Settings(format!("mail.from: {error}")))?;
        let timeout = Duration::from_secs(settings.mail.timeout_secs.max(1));
        let transport = match &settings.mail.smtp_url {
            Some(url) if !url.expose_secret().trim().is_empty() => {
                let url = connection_url(url.expose_secret().trim())?;
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
                    .map_err(|error| {
                        // The URL holds the password: name the problem, not the URL.
                        MailError::Settings(format!("mail.smtp_url is not usable: {error}"))
                    })?
                    .timeout(Some(timeout))
                    .build();
                Transport::Smtp(Box::new(transport))
            }
            _ => Transport::Mailbox(settings.mailbox_dir()),
        };
        Ok(Self {
            from,
            timeout,
            transport: Arc::new(transport),
        })
    }

    /// Where messages are written, when this is the mailbox.
    pub fn mailbox_dir(&self) -> Option<&std::path::Path> {
        match self.transport.as_ref() {
            Transport::Mailbox(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends `mail`, within the configured timeout as a whole.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.message(mail)?;
        let sending = async {
            match self.transport.as_ref() {
                Transport::Smtp(transport) => transport.send(message).await.map(drop)?,
                Transport::Mailbox(dir) => write_to_mailbox(dir, &message.formatted()).await?,
            }
            Ok(())
        };
        tokio::time::timeout(self.timeout, sending)
            .await
            .map_err(|_| MailError::Timeout(self.timeout))?
    }

    fn message(&self, mail: &Mail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|error| MailError::Message(format!("recipient: {error}")))?;
        let body = seven_bit(&mail.text).unwrap_or_else(|| Body::new(mail.text.clone()));
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|error| MailError::Message(error.to_string()))
    }
}

/// The text as a 7bit body when it can be one (ASCII, no NUL or lone CR, lines of at
/// most 998 bytes, RFC 5322): links stay whole and readable in the raw message, which is
/// how `make run` users read the mailbox. lettre alone would pick quoted-printable for
/// lines over 76 characters, breaking a link across lines and writing `=` as `=3D`.
fn seven_bit(text: &str) -> Option<Body> {
    if !text.is_ascii() || text.contains(['\0', '\r']) {
        return None;
    }
    if text.lines().any(|line| line.len() > 998) {
        return None;
    }
    let crlf = text.replace('\n', "\r\n");
    Some(Body::dangerous_pre_encoded(
        crlf.into_bytes(),
        ContentTransferEncoding::SevenBit,
    ))
}

/// The URL lettre reads, secure by default: `smtp://` without a `tls` parameter means
/// STARTTLS required (lettre alone would talk plain text); `tls=none` asks for plain
/// text explicitly (a relay on a trusted network, or a test server).
fn connection_url(raw: &str) -> Result<String, MailError> {
    let (base, query) = raw.split_once('?').unwrap_or((raw, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let tls = params.iter().find_map(|p| p.strip_prefix("tls="));
    if base.starts_with("smtp://") {
        match tls {
            None => params.push("tls=required"),
            Some("none") => params.retain(|p| *p != "tls=none"),
            Some("required" | "opportunistic") => {}
            Some(_) => {
                return Err(MailError::Settings(
                    "mail.smtp_url: tls must be required, opportunistic or none".into(),
                ));
            }
        }
    } else if !base.starts_with("smtps://") {
        return Err(MailError::Settings(
            "mail.smtp_url must start with smtp:// or smtps://".into(),
        ));
    }
    Ok(if params.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", params.join("&"))
    })
}

/// Writes a message as `<time>-<uuid>.eml`, whole or not at all (a temporary name,
/// then a rename), so a reader never sees half a message.
async fn write_to_mailbox(dir: &std::path::Path, message: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let name = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        uuid::Uuid::new_v4().simple()
    );
    let partial = dir.join(format!(".{name}.part"));
    tokio::fs::write(&partial, message).await?;
    tokio::fs::rename(&partial, dir.join(format!("{name}.eml"))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_platform::SecretString;

    fn settings(configure: impl FnOnce(&mut AuthSettings)) -> AuthSettings {
        let mut settings = AuthSettings::default();
        configure(&mut settings);
        settings
    }

    #[test]
    fn smtp_urls_are_secure_unless_plain_text_is_asked_for() {
        for (raw, expected) in [
            (
                "smtp://u:p@mail.example.com:587",
                "smtp://u:p@mail.example.com:587?tls=required",
            ),
            (
                "smtp://mail.example.com?tls=opportunistic",
                "smtp://mail.example.com?tls=opportunistic",
            ),
            ("smtp://127.0.0.1:2525?tls=none", "smtp://127.0.0.1:2525"),
            (
                "smtps://u:p@mail.example.com",
                "smtps://u:p@mail.example.com",
            ),
        ] {
            assert_eq!(connection_url(raw).unwrap(), expected, "{raw}");
        }
        for bad in [
            "http://mail.example.com",
            "smtp://mail.example.com?tls=maybe",
        ] {
            assert!(connection_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn the_mailbox_receives_whole_messages() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::from_settings(&settings(|s| {
            s.mail.mailbox_dir = Some(dir.path().join("inbox"));
        }))
        .unwrap();
        assert_eq!(
            mailer.mailbox_dir(),
            Some(dir.path().join("inbox").as_path())
        );
        mailer
            .send(&Mail {
                to: "ada@example.com".into(),
                subject: "Verify your e-mail address".into(),
                text: format!(
                    "Open this link, which is longer than a line of quoted-printable:\n\n\
                     http://127.0.0.1:8080/verify-email?token=mqv_{}\n",
                    "a".repeat(43)
                ),
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("inbox"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].extension().unwrap(), "eml");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(
            text.contains("Subject: Verify your e-mail address"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "\r\nhttp://127.0.0.1:8080/verify-email?token=mqv_{}\r\n",
                "a".repeat(43)
            )),
            "{text}"
        );
    }

    #[test]
    fn bad_settings_stop_the_start_and_never_show_the_password() {
        let error = Mailer::from_settings(&settings(|s| {
            s.mail.smtp_url = Some(SecretString::from("ftp://u:hunter2@example.com"));
        }))
        .unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(
            Mailer::from_settings(&settings(|s| s.mail.from = "not an address".into())).is_err()
        );
        let mailer = Mailer::from_settings(&settings(|s| {
            s.mail.smtp_url = Some(SecretString::from("smtp://u:hunter2@127.0.0.1:2525"));
        }))
        .unwrap();
        assert!(mailer.mailbox_dir().is_none());
        assert!(!format!("{mailer:?}").contains("hunter2"));
    }
}
