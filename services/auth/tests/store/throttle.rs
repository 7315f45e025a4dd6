use super::{ctx, registration, settings, start};
use marquee_auth::domain::users::Credentials;
use marquee_auth::error::AuthError;
use marquee_testkit::Backend;

marquee_testkit::on_both_backends!(
    account_locks_after_repeated_failures,
    ip_locks_across_accounts
);

fn credentials(email: &str, password: &str) -> Credentials {
    Credentials {
        email: email.into(),
        password: password.into(),
        tenant_id: None,
    }
}

async fn account_locks_after_repeated_failures(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    auth.register(registration("mary@example.com"), &ctx())
        .await
        .unwrap();
    for _ in 0..3 {
        let result = auth
            .login(credentials("mary@example.com", "bad password!"), &ctx())
            .await;
        assert!(matches!(result, Err(AuthError::InvalidCredentials)));
    }
    // Locked now, even with the right password.
    let locked = auth
        .login(
            credentials("mary@example.com", "correct horse battery"),
            &ctx(),
        )
        .await;
    match locked {
        Err(AuthError::TooManyAttempts { retry_after_secs }) => assert!(retry_after_secs > 0),
        other => panic!("expected throttling, got {:?}", other.err()),
    }
    // An unknown account is throttled just the same (nothing reveals existence).
    for _ in 0..3 {
        let _ = auth
            .login(credentials("ghost@example.com", "bad password!"), &ctx())
            .await;
    }
    assert!(matches!(
        auth.login(credentials("ghost@example.com", "bad password!"), &ctx())
            .await,
        Err(AuthError::TooManyAttempts { .. })
    ));
}

async fn ip_locks_across_accounts(backend: Backend) {
    let mut settings = settings();
    settings.throttle.ip_max_failures = 4;
    settings.throttle.account_max_failures = 100;
    let (auth, _db) = start(backend, settings).await;
    for n in 0..4 {
        let _ = auth
            .login(
                credentials(&format!("user{n}@example.com"), "bad password!"),
                &ctx(),
            )
            .await;
    }
    assert!(matches!(
        auth.login(credentials("other@example.com", "bad password!"), &ctx())
            .await,
        Err(AuthError::TooManyAttempts { .. })
    ));
}
