//! Accounts people expect, through the gateway: the verification link mailed at
//! registration, resending it, forgot → reset (every session ends, the link works
//! once, an expired link is refused). On the embedded default the mail is read from the
//! mailbox directory (`<data dir>/mailbox`, where `make run` users find it); on
//! PostgreSQL it goes over SMTP to a server started in the test.

use super::{Options, PASSWORD, assert_problem, spawn_fleet};
use marquee_platform::SecretString;
use marquee_testkit::smtp::FakeSmtpServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// How long a reset link lives here: long enough to use, short enough to outwait.
const RESET_TTL_SECS: i64 = 8;

enum Inbox {
    Mailbox(PathBuf),
    Smtp(FakeSmtpServer),
}

impl Inbox {
    /// The bodies of the messages to `to` so far, oldest first.
    fn messages(&self, to: &str) -> Vec<String> {
        match self {
            Self::Smtp(server) => server
                .messages_to(to)
                .into_iter()
                .map(|mail| mail.data)
                .collect(),
            Self::Mailbox(dir) => {
                let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map(|entries| {
                        entries
                            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
                            .collect()
                    })
                    .unwrap_or_default();
                files.sort();
                files
                    .into_iter()
                    .filter_map(|path| std::fs::read_to_string(path).ok())
                    .filter(|text| text.contains(&format!("\r\nTo: {to}\r\n")))
                    .collect()
            }
        }
    }

    /// The tokens of the `page` links mailed to `to`, once there are `count`.
    async fn tokens(&self, to: &str, page: &str, count: usize) -> Vec<String> {
        let what = format!("{count} {page} mails to {to}");
        marquee_testkit::wait_for(Duration::from_secs(15), &what, || {
            let tokens: Vec<String> = self
                .messages(to)
                .iter()
                .filter_map(|text| {
                    let start = text.find(&format!("{page}?token="))?;
                    let link: String = text[start..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    Some(link.split_once("token=")?.1.to_string())
                })
                .collect();
            let found = tokens.len();
            async move {
                if found >= count {
                    Ok(tokens)
                } else {
                    Err(found)
                }
            }
        })
        .await
    }
}

async fn accounts(postgres: bool) {
    let smtp = if postgres {
        Some(FakeSmtpServer::start().await)
    } else {
        None
    };
    let smtp_url = smtp.as_ref().map(FakeSmtpServer::url);
    let fleet = spawn_fleet(Options {
        postgres,
        auth: Box::new(move |auth| {
            auth.password_reset_ttl_secs = RESET_TTL_SECS;
            auth.mail.smtp_url = smtp_url.map(SecretString::from);
        }),
        ..Default::default()
    })
    .await;
    let inbox = match smtp {
        Some(server) => Inbox::Smtp(server),
        None => Inbox::Mailbox(fleet.data_dir.join("mailbox")),
    };

    // Registration mails a verification link to the studio's page.
    let registered = fleet.register("ada@example.com").await;
    assert_eq!(registered["user"]["email_verified"], false);
    let access = registered["access_token"].as_str().unwrap().to_string();
    let me: Value = fleet
        .get_with("/api/v1/auth/me", &access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], false, "{me}");
    let verification = inbox
        .tokens("ada@example.com", "http://127.0.0.1:8080/verify-email", 1)
        .await
        .remove(0);

    let verified = fleet
        .post("/api/v1/auth/email/verify", json!({"token": verification}))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(verified["email"], "ada@example.com");
    assert_eq!(verified["email_verified"], true);
    let me: Value = fleet
        .get_with("/api/v1/auth/me", &access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true, "{me}");
    let again = fleet
        .post("/api/v1/auth/email/verify", json!({"token": verification}))
        .await;
    assert_problem(again, StatusCode::BAD_REQUEST, "verification_token_invalid").await;
    // Verified: resending is accepted and sends nothing.
    let resend = fleet
        .post_with("/api/v1/auth/email/verification", &access, json!({}))
        .await;
    assert_eq!(resend.status(), StatusCode::ACCEPTED);

    // Another user asking for a second link at once is told to wait.
    let grace = fleet.register("grace@example.com").await;
    let resend = fleet
        .post_with(
            "/api/v1/auth/email/verification",
            grace["access_token"].as_str().unwrap(),
            json!({}),
        )
        .await;
    assert!(resend.headers().contains_key("retry-after"));
    assert_problem(resend, StatusCode::TOO_MANY_REQUESTS, "mail_recently_sent").await;
    let anonymous = fleet
        .post("/api/v1/auth/email/verification", json!({}))
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Forgot: the same answer for an account and for nobody.
    let session = fleet.login("ada@example.com", PASSWORD).await;
    for email in ["ada@example.com", "nobody@example.com"] {
        let forgot = fleet
            .post("/api/v1/auth/password/forgot", json!({"email": email}))
            .await;
        assert_eq!(forgot.status(), StatusCode::ACCEPTED, "{email}");
        assert_eq!(forgot.text().await.unwrap(), "", "{email}");
    }
    let malformed = fleet
        .post(
            "/api/v1/auth/password/forgot",
            json!({"email": "not an address"}),
        )
        .await;
    assert_problem(malformed, StatusCode::BAD_REQUEST, "invalid_email").await;
    let reset = inbox
        .tokens("ada@example.com", "/reset-password", 1)
        .await
        .remove(0);

    // The registration policy; a refused password leaves the link usable.
    let weak = fleet
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": reset, "password": "short"}),
        )
        .await;
    assert_problem(weak, StatusCode::BAD_REQUEST, "weak_password").await;
    let done = fleet
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": reset, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);

    // The old password is refused, the new one works, every old session is over, and
    // the link works once.
    let old = fleet
        .post(
            "/api/v1/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_problem(old, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    fleet
        .login("ada@example.com", "a brand new passphrase")
        .await;
    for refresh in [&registered["refresh_token"], &session["refresh_token"]] {
        let refreshed = fleet
            .post("/api/v1/auth/refresh", json!({"refresh_token": refresh}))
            .await;
        assert_problem(refreshed, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;
    }
    let reused = fleet
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": reset, "password": "yet another passphrase"}),
        )
        .await;
    assert_problem(reused, StatusCode::BAD_REQUEST, "reset_token_invalid").await;
    assert!(inbox.messages("nobody@example.com").is_empty());

    // An expired link is refused.
    let forgot = fleet
        .post(
            "/api/v1/auth/password/forgot",
            json!({"email": "grace@example.com"}),
        )
        .await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    let expired = inbox
        .tokens("grace@example.com", "/reset-password", 1)
        .await
        .remove(0);
    tokio::time::sleep(Duration::from_secs(RESET_TTL_SECS as u64 + 1)).await;
    let refused = fleet
        .post(
            "/api/v1/auth/password/reset",
            json!({"token": expired, "password": "a brand new passphrase"}),
        )
        .await;
    assert_problem(refused, StatusCode::BAD_REQUEST, "reset_token_invalid").await;
    fleet.login("grace@example.com", PASSWORD).await;

    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_and_reset_on_sqlite_with_the_mailbox() {
    accounts(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_and_reset_on_postgres_over_smtp() {
    accounts(true).await;
}
