//! Sign-in throttling per (account, source): an attacker slows down only itself; the
//! owner signs in from elsewhere.

use super::{ctx, ctx_from, registration, settings, start};
use marquee_auth::domain::RequestContext;
use marquee_auth::domain::users::Credentials;
use marquee_auth::error::AuthError;
use marquee_auth::{Auth, AuthSettings};
use marquee_testkit::Backend;
use std::time::Duration;

marquee_testkit::on_both_backends!(
    owner_signs_in_while_an_attacker_hammers_from_elsewhere,
    failures_from_one_source_delay_it_progressively,
    parallel_attempts_do_not_share_one_gap,
    a_success_clears_the_sources_count,
    unknown_accounts_are_throttled_alike,
    ip_locks_across_accounts_but_not_where_it_signed_in,
    the_distributed_cap_spares_known_sources,
);

const OWNER: &str = "mary@example.com";
const PASSWORD: &str = "correct horse battery";
const ATTACKER: &str = "198.51.100.7";
const OWNER_IP: &str = "203.0.113.9";

fn credentials(email: &str, password: &str) -> Credentials {
    Credentials {
        email: email.into(),
        password: password.into(),
        tenant_id: None,
    }
}

async fn attempt(auth: &Auth, email: &str, password: &str, from: &RequestContext) -> Outcome {
    match auth.login(credentials(email, password), from).await {
        Ok(_) => Outcome::SignedIn,
        Err(AuthError::InvalidCredentials) => Outcome::Wrong,
        Err(AuthError::TooManyAttempts { retry_after_secs }) => Outcome::Wait(retry_after_secs),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    SignedIn,
    Wrong,
    Wait(u64),
}

async fn with_owner(backend: Backend, settings: AuthSettings) -> (Auth, marquee_testkit::TestDb) {
    let (auth, db) = start(backend, settings).await;
    auth.register(registration(OWNER), &ctx()).await.unwrap();
    (auth, db)
}

async fn owner_signs_in_while_an_attacker_hammers_from_elsewhere(backend: Backend) {
    let (auth, _db) = with_owner(backend, settings()).await;
    let attacker = ctx_from(ATTACKER);
    let mut outcomes = Vec::new();
    for _ in 0..50 {
        outcomes.push(attempt(&auth, OWNER, "bad password!", &attacker).await);
    }
    assert!(
        outcomes[..3].iter().all(|o| *o == Outcome::Wrong),
        "{outcomes:?}"
    );
    assert!(
        outcomes[3..].iter().all(|o| matches!(o, Outcome::Wait(_))),
        "{outcomes:?}"
    );
    assert_eq!(
        attempt(&auth, OWNER, PASSWORD, &ctx_from(OWNER_IP)).await,
        Outcome::SignedIn,
        "the owner is not locked out by someone else's failures"
    );

    // Fifty failures that really count (the old rule locked the account after five):
    // the owner still signs in at once from elsewhere, having never signed in before.
    let mut settings = settings();
    settings.throttle.source_free_failures = 1000;
    let (auth, _db) = with_owner(backend, settings).await;
    for _ in 0..50 {
        assert_eq!(
            attempt(&auth, OWNER, "bad password!", &attacker).await,
            Outcome::Wrong
        );
    }
    assert_eq!(
        attempt(&auth, OWNER, PASSWORD, &ctx_from(OWNER_IP)).await,
        Outcome::SignedIn
    );
}

/// Waits until a wait of `secs` (as Retry-After said) has run out.
async fn sit_out(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs) + Duration::from_millis(150)).await;
}

async fn failures_from_one_source_delay_it_progressively(backend: Backend) {
    let mut settings = settings();
    settings.throttle.source_first_delay_secs = 1;
    let (auth, _db) = with_owner(backend, settings).await;
    let attacker = ctx_from(ATTACKER);
    for _ in 0..3 {
        assert_eq!(
            attempt(&auth, OWNER, "bad password!", &attacker).await,
            Outcome::Wrong
        );
    }
    let mut waits = Vec::new();
    for _ in 0..2 {
        // Refused while waiting, the right password too; then one more try.
        let Outcome::Wait(wait) = attempt(&auth, OWNER, PASSWORD, &attacker).await else {
            panic!("expected a wait after {waits:?}");
        };
        waits.push(wait);
        sit_out(wait).await;
        assert_eq!(
            attempt(&auth, OWNER, "bad password!", &attacker).await,
            Outcome::Wrong
        );
    }
    assert_eq!(waits, [1, 2], "each failure doubles the wait");
    assert_eq!(
        attempt(&auth, OWNER, PASSWORD, &attacker).await,
        Outcome::Wait(4)
    );
}

async fn parallel_attempts_do_not_share_one_gap(backend: Backend) {
    let mut settings = settings();
    settings.throttle.source_first_delay_secs = 1;
    let (auth, _db) = with_owner(backend, settings).await;
    let attacker = ctx_from(ATTACKER);
    for _ in 0..3 {
        attempt(&auth, OWNER, "bad password!", &attacker).await;
    }
    sit_out(1).await;
    // Eight guesses at once when the wait runs out: one is checked, the rest wait.
    let guesses = (0..8).map(|n| {
        let auth = auth.clone();
        let attacker = attacker.clone();
        tokio::spawn(
            async move { attempt(&auth, OWNER, &format!("guess number {n}"), &attacker).await },
        )
    });
    let mut checked = 0;
    for guess in guesses.collect::<Vec<_>>() {
        match guess.await.unwrap() {
            Outcome::Wrong => checked += 1,
            Outcome::Wait(_) => {}
            Outcome::SignedIn => panic!("a guess signed in"),
        }
    }
    assert_eq!(checked, 1);
}

async fn a_success_clears_the_sources_count(backend: Backend) {
    let (auth, _db) = with_owner(backend, settings()).await;
    let from = ctx_from(ATTACKER);
    for _ in 0..2 {
        assert_eq!(
            attempt(&auth, OWNER, "typo password", &from).await,
            Outcome::Wrong
        );
    }
    assert_eq!(
        attempt(&auth, OWNER, PASSWORD, &from).await,
        Outcome::SignedIn
    );
    // Three free failures again, not one.
    for _ in 0..3 {
        assert_eq!(
            attempt(&auth, OWNER, "typo password", &from).await,
            Outcome::Wrong
        );
    }
    assert!(matches!(
        attempt(&auth, OWNER, PASSWORD, &from).await,
        Outcome::Wait(_)
    ));
    // A source's own failures hold it back even though it signed in before.
    use marquee_auth::store::entities::login_source;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let row = login_source::Entity::find()
        .filter(login_source::Column::Source.eq(ATTACKER))
        .one(auth.db())
        .await
        .unwrap()
        .expect("the source's row");
    assert!(row.account_key.ends_with(OWNER), "{}", row.account_key);
    assert_eq!(row.failures, 3);
    assert!(row.last_success_at.is_some());
}

async fn unknown_accounts_are_throttled_alike(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    // Nothing reveals whether an account exists.
    for _ in 0..3 {
        assert_eq!(
            attempt(&auth, "ghost@example.com", "bad password!", &ctx()).await,
            Outcome::Wrong
        );
    }
    assert!(matches!(
        attempt(&auth, "ghost@example.com", "bad password!", &ctx()).await,
        Outcome::Wait(_)
    ));
}

async fn ip_locks_across_accounts_but_not_where_it_signed_in(backend: Backend) {
    let mut settings = settings();
    settings.throttle.ip_max_failures = 4;
    let (auth, _db) = with_owner(backend, settings).await;
    let shared = ctx_from("192.0.2.50");
    // The owner signed in from this address before (an office behind one NAT address).
    assert_eq!(
        attempt(&auth, OWNER, PASSWORD, &shared).await,
        Outcome::SignedIn
    );
    for n in 0..4 {
        let email = format!("user{n}@example.com");
        assert_eq!(
            attempt(&auth, &email, "bad password!", &shared).await,
            Outcome::Wrong
        );
    }
    // Spraying accounts from one address trips its cap, for accounts new and old…
    assert!(matches!(
        attempt(&auth, "other@example.com", "bad password!", &shared).await,
        Outcome::Wait(_)
    ));
    assert!(matches!(
        attempt(&auth, "user0@example.com", "bad password!", &shared).await,
        Outcome::Wait(_)
    ));
    // …but not for the account this address has signed into.
    assert_eq!(
        attempt(&auth, OWNER, PASSWORD, &shared).await,
        Outcome::SignedIn
    );
    // Other addresses are unaffected.
    assert_eq!(
        attempt(
            &auth,
            "other@example.com",
            "bad password!",
            &ctx_from(OWNER_IP)
        )
        .await,
        Outcome::Wrong
    );
}

async fn the_distributed_cap_spares_known_sources(backend: Backend) {
    let mut settings = settings();
    settings.throttle.account_max_failures = 10;
    let (auth, _db) = with_owner(backend, settings).await;
    let owner = ctx_from(OWNER_IP);
    assert_eq!(
        attempt(&auth, OWNER, PASSWORD, &owner).await,
        Outcome::SignedIn
    );
    // A botnet: one failure each from ten addresses.
    for n in 0..10 {
        let bot = ctx_from(&format!("198.51.100.{}", 100 + n));
        assert_eq!(
            attempt(&auth, OWNER, "bad password!", &bot).await,
            Outcome::Wrong
        );
    }
    // New sources now wait, whatever the password…
    for from in ["198.51.100.200", "2001:db8:77::1"] {
        assert!(
            matches!(
                attempt(&auth, OWNER, PASSWORD, &ctx_from(from)).await,
                Outcome::Wait(secs) if secs > 60
            ),
            "{from}"
        );
    }
    // …while the owner's known source signs in at once, again and again.
    for _ in 0..3 {
        assert_eq!(
            attempt(&auth, OWNER, PASSWORD, &owner).await,
            Outcome::SignedIn
        );
    }
    // Other accounts are not affected.
    auth.register(registration("june@example.com"), &ctx())
        .await
        .unwrap();
    assert_eq!(
        attempt(
            &auth,
            "june@example.com",
            PASSWORD,
            &ctx_from("198.51.100.200")
        )
        .await,
        Outcome::SignedIn
    );
}
