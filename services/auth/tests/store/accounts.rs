//! E-mail verification and password reset, with mail over SMTP to a server started in
//! the test.

use super::{ctx, registration, settings, start};
use marquee_auth::domain::users::Credentials;
use marquee_auth::error::AuthError;
use marquee_platform::SecretString;
use marquee_testkit::Backend;
use marquee_testkit::smtp::{FakeSmtpServer, ReceivedMail};
use std::time::{Duration, Instant};

marquee_testkit::on_both_backends!(
    verification_and_reset_links_arrive_over_smtp_and_work_once,
    a_failing_or_stalled_mail_server_fails_nothing_and_tells_nothing,
    concurrent_resets_with_one_link_succeed_once,
);

const WAIT: Duration = Duration::from_secs(10);

fn over_smtp(server: &FakeSmtpServer) -> marquee_auth::AuthSettings {
    let mut settings = settings();
    settings.mail.smtp_url = Some(SecretString::from(
        server.url_with_credentials("mailer", "smtp-secret"),
    ));
    settings.mail.from = "Marquee <no-reply@marquee.test>".into();
    settings.mail.timeout_secs = 2;
    settings.public_url = "https://studio.marquee.test".into();
    settings
}

fn token(mail: &ReceivedMail, page: &str) -> String {
    let link = mail
        .link_containing(page)
        .unwrap_or_else(|| panic!("no {page} link in {}", mail.data));
    assert!(
        link.starts_with(&format!("https://studio.marquee.test{page}?token=")),
        "{link}"
    );
    link.split_once("token=").unwrap().1.to_string()
}

fn credentials(password: &str) -> Credentials {
    Credentials {
        email: "ada@example.com".into(),
        password: password.into(),
        tenant_id: None,
    }
}

async fn verification_and_reset_links_arrive_over_smtp_and_work_once(backend: Backend) {
    let server = FakeSmtpServer::start().await;
    let (auth, _db) = start(backend, over_smtp(&server)).await;
    let registered = auth
        .register(registration("Ada@Example.com"), &ctx())
        .await
        .unwrap();
    assert_eq!(registered.user.email_verified_at, None);

    let mail = server.wait_for("ada@example.com", 1, WAIT).await.remove(0);
    assert_eq!(mail.from, "no-reply@marquee.test");
    assert_eq!(mail.auth.as_deref(), Some("mailer:smtp-secret"));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Verify your e-mail address for Marquee")
    );
    assert_eq!(mail.header("To").as_deref(), Some("ada@example.com"));
    let verification = token(&mail, "/verify-email");
    let user = auth.verify_email(&verification, &ctx()).await.unwrap();
    assert!(user.email_verified_at.is_some());
    assert!(
        auth.user(&user.tenant_id, &user.id)
            .await
            .unwrap()
            .email_verified_at
            .is_some()
    );
    assert!(matches!(
        auth.verify_email(&verification, &ctx()).await,
        Err(AuthError::Invalid {
            code: "verification_token_invalid",
            ..
        })
    ));

    let session = auth
        .login(credentials("correct horse battery"), &ctx())
        .await
        .unwrap();
    auth.forgot_password("ada@example.com", None, &ctx())
        .await
        .unwrap();
    let mails = server.wait_for("ada@example.com", 2, WAIT).await;
    assert_eq!(
        mails[1].header("Subject").as_deref(),
        Some("Reset your Marquee password")
    );
    let reset = token(&mails[1], "/reset-password");
    // A verification token is not a reset token, and the other way round.
    assert!(matches!(
        auth.reset_password(&verification, "a brand new passphrase", &ctx())
            .await,
        Err(AuthError::Invalid {
            code: "reset_token_invalid",
            ..
        })
    ));
    assert!(auth.verify_email(&reset, &ctx()).await.is_err());

    auth.reset_password(&reset, "a brand new passphrase", &ctx())
        .await
        .unwrap();
    assert!(matches!(
        auth.reset_password(&reset, "another new passphrase", &ctx())
            .await,
        Err(AuthError::Invalid {
            code: "reset_token_invalid",
            ..
        })
    ));
    for refresh in [&registered.refresh_token, &session.refresh_token] {
        assert!(matches!(
            auth.refresh(refresh, &ctx()).await,
            Err(AuthError::RefreshTokenInvalid)
        ));
    }
    assert!(matches!(
        auth.login(credentials("correct horse battery"), &ctx())
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    auth.login(credentials("a brand new passphrase"), &ctx())
        .await
        .unwrap();
}

async fn a_failing_or_stalled_mail_server_fails_nothing_and_tells_nothing(backend: Backend) {
    let server = FakeSmtpServer::start().await;
    let (auth, _db) = start(backend, over_smtp(&server)).await;

    // A server that never answers: nothing waits for it.
    server.stall(true);
    let started = Instant::now();
    let registered = auth.register(registration("ada@example.com"), &ctx()).await;
    assert!(registered.is_ok(), "registration does not wait for mail");
    for email in ["ada@example.com", "nobody@example.com"] {
        auth.forgot_password(email, None, &ctx()).await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered after {:?}",
        started.elapsed()
    );
    // The stalled sends give up after the timeout (2 s); nothing arrives.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.stall(false);
    assert!(server.messages().is_empty());

    // A server that refuses: the same.
    server.refuse_mail(true);
    let grace = auth
        .register(registration("grace@example.com"), &ctx())
        .await;
    assert!(grace.is_ok());
    auth.forgot_password("grace@example.com", None, &ctx())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.messages().is_empty());

    // A resend within the window is refused with the wait.
    let user = registered.unwrap().user;
    let resent = auth
        .resend_verification(&user.tenant_id, &user.id, &ctx())
        .await;
    assert!(
        matches!(resent, Err(AuthError::MailRecentlySent { retry_after_secs }) if retry_after_secs <= 60),
        "{resent:?}"
    );
}

async fn concurrent_resets_with_one_link_succeed_once(backend: Backend) {
    let server = FakeSmtpServer::start().await;
    let (auth, _db) = start(backend, over_smtp(&server)).await;
    auth.register(registration("ada@example.com"), &ctx())
        .await
        .unwrap();
    auth.forgot_password("ada@example.com", None, &ctx())
        .await
        .unwrap();
    let mails = server.wait_for("ada@example.com", 2, WAIT).await;
    let mail = mails
        .iter()
        .find(|mail| mail.link_containing("/reset-password").is_some())
        .unwrap();
    let reset = token(mail, "/reset-password");
    let context = ctx();
    let (first, second) = tokio::join!(
        auth.reset_password(&reset, "first new passphrase", &context),
        auth.reset_password(&reset, "second new passphrase", &context),
    );
    assert!(
        first.is_ok() != second.is_ok(),
        "exactly one wins: {first:?} {second:?}"
    );
    let winner = if first.is_ok() {
        "first new passphrase"
    } else {
        "second new passphrase"
    };
    auth.login(credentials(winner), &ctx()).await.unwrap();
}
