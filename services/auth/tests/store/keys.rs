//! Signing keys at rest: sealed in the table (nothing of the private key readable there),
//! plaintext keys from before m0006 sealed at start-up without losing them, rotation of
//! the signing key and of the key-encryption key.

use super::{TEST_KEK, ctx, registration, settings, start};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use marquee_auth::store::entities::signing_key;
use marquee_auth::{Auth, AuthSettings, open_database};
use marquee_envelope::{Aad, Sealer};
use marquee_platform::{ExposeSecret, SecretString};
use marquee_testkit::{Backend, TestDb};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, Statement};
use sha2::{Digest, Sha256};

marquee_testkit::on_both_backends!(
    private_keys_are_sealed_in_the_table_and_rotation_works,
    plaintext_keys_from_before_m0006_are_sealed_at_start_up,
    the_key_encryption_key_rotates,
);

/// Every row of `signing_keys`, every column as text.
async fn rows(auth: &Auth) -> Vec<Row> {
    let db = auth.db();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT kid, private_key, private_key_sealed, public_key FROM signing_keys ORDER BY created_at",
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|row| Row {
        kid: row.try_get("", "kid").unwrap(),
        private_key: row.try_get("", "private_key").unwrap(),
        sealed: row.try_get("", "private_key_sealed").unwrap(),
        public_key: row.try_get("", "public_key").unwrap(),
    })
    .collect()
}

#[derive(Debug)]
struct Row {
    kid: String,
    private_key: String,
    sealed: Option<String>,
    public_key: String,
}

fn sealer(key: &str) -> Sealer {
    Sealer::local(&STANDARD.decode(key).unwrap()).unwrap()
}

fn aad(kid: &str) -> Aad {
    Aad::new("marquee.auth.signing_key").with("kid", kid)
}

/// The forms a private key could be spotted in: the PKCS#8 DER and the 32-byte seed
/// in it, in base64, base64url and hex.
fn spellings(der: &[u8]) -> Vec<String> {
    // The seed sits in the privateKey OCTET STRING (04 22 04 20 <32 bytes>); the DER
    // may also carry the public key (PKCS#8 v2), which the table publishes anyway.
    let at = der
        .windows(4)
        .position(|w| w == [0x04, 0x22, 0x04, 0x20])
        .expect("an Ed25519 PKCS#8 document")
        + 4;
    let seed = &der[at..at + 32];
    let mut out = Vec::new();
    // The DER up to the end of the seed (without the public key that may follow it).
    for bytes in [&der[..at + 32], seed] {
        out.push(STANDARD.encode(bytes));
        out.push(URL_SAFE_NO_PAD.encode(bytes));
        out.push(hex::encode(bytes));
        // A prefix is enough to give a key away.
        out.push(STANDARD.encode(bytes)[..16].to_string());
    }
    out
}

/// Checks the table holds no private key in any readable form; returns the DERs (opened
/// with the test's KEK) by kid.
async fn assert_sealed(auth: &Auth, kek: &str) -> Vec<(String, Vec<u8>)> {
    let rows = rows(auth).await;
    assert!(!rows.is_empty());
    let everything = format!("{rows:?}");
    let mut ders = Vec::new();
    for row in &rows {
        assert_eq!(row.private_key, "", "plaintext column emptied: {row:?}");
        let sealed = row.sealed.as_deref().expect("sealed");
        assert!(sealed.starts_with("menv1.local."), "{sealed}");
        let der = sealer(kek)
            .open(sealed, &aad(&row.kid))
            .await
            .unwrap()
            .expose_secret()
            .to_vec();
        for spelling in spellings(&der) {
            assert!(
                !everything.contains(&spelling),
                "private key bytes ({spelling}) readable in the table"
            );
        }
        ders.push((row.kid.clone(), der));
    }
    ders
}

fn kid_of(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Verifies `token` against the published key it names; returns its kid.
fn verify(auth: &Auth, token: &str) -> String {
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let public = auth
        .jwks()
        .into_iter()
        .find(|key| key.kid == kid)
        .expect("published");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_ed_components(&public.x).unwrap(),
        &validation,
    )
    .unwrap();
    kid
}

async fn private_keys_are_sealed_in_the_table_and_rotation_works(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let ders = assert_sealed(&auth, TEST_KEK).await;
    assert_eq!(ders.len(), 1);
    let first = auth
        .register(registration("ada@example.com"), &ctx())
        .await
        .unwrap();
    assert_eq!(verify(&auth, &first.access_token), ders[0].0);

    let (new_kid, published) = auth.rotate_signing_key("admin", "", &ctx()).await.unwrap();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0], new_kid);
    let ders = assert_sealed(&auth, TEST_KEK).await;
    assert_eq!(ders.len(), 2);
    let second = auth
        .register(registration("grace@example.com"), &ctx())
        .await
        .unwrap();
    assert_eq!(verify(&auth, &second.access_token), new_kid);
    // The earlier token still verifies against the published previous key.
    verify(&auth, &first.access_token);
    // Each stored key is the key its row publishes.
    for row in rows(&auth).await {
        let der = &ders.iter().find(|(kid, _)| *kid == row.kid).unwrap().1;
        let key =
            <ed25519_dalek::SigningKey as ed25519_dalek::pkcs8::DecodePrivateKey>::from_pkcs8_der(
                der,
            )
            .unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
            row.public_key
        );
    }
}

async fn plaintext_keys_from_before_m0006_are_sealed_at_start_up(backend: Backend) {
    let guard = TestDb::create(backend, "auth").await;
    let mut settings = settings();
    settings.data_dir = guard.data_dir().to_path_buf();
    settings.database_url = guard.postgres_url().map(SecretString::from);
    let db = open_database(&settings).await.unwrap();
    // A key as an older version stored it: PKCS#8 DER in base64, in the clear.
    let legacy = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let der = legacy.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let x = URL_SAFE_NO_PAD.encode(legacy.verifying_key().to_bytes());
    let kid = kid_of(&x);
    signing_key::ActiveModel {
        kid: Set(kid.clone()),
        private_key: Set(STANDARD.encode(&der)),
        private_key_sealed: Set(None),
        public_key: Set(x.clone()),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&db)
    .await
    .unwrap();

    let auth = Auth::start(db.clone(), settings.clone()).await.unwrap();
    let ders = assert_sealed(&auth, TEST_KEK).await;
    assert_eq!(
        ders,
        [(kid.clone(), der)],
        "the same key, sealed: no key lost"
    );
    let session = auth
        .register(registration("ada@example.com"), &ctx())
        .await
        .unwrap();
    assert_eq!(verify(&auth, &session.access_token), kid);
    let sealed_once = rows(&auth).await[0].sealed.clone();

    // Idempotent: a second start (another replica, a restart) changes nothing.
    let again = Auth::start(db, settings).await.unwrap();
    assert_eq!(rows(&again).await[0].sealed, sealed_once);
    assert_eq!(again.jwks()[0].kid, kid);
}

fn with_kek(settings: &AuthSettings, key: &str, previous: Option<&str>) -> AuthSettings {
    let mut settings = settings.clone();
    settings.kek.key = Some(SecretString::from(key));
    settings.kek.previous_keys = previous.map(SecretString::from);
    settings
}

async fn the_key_encryption_key_rotates(backend: Backend) {
    const NEW_KEK: &str = "bmV3LWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE=";
    let guard = TestDb::create(backend, "auth").await;
    let mut base = settings();
    base.data_dir = guard.data_dir().to_path_buf();
    base.database_url = guard.postgres_url().map(SecretString::from);
    let db = open_database(&base).await.unwrap();
    let auth = Auth::start(db.clone(), base.clone()).await.unwrap();
    auth.rotate_signing_key("admin", "", &ctx()).await.unwrap();
    let before = assert_sealed(&auth, TEST_KEK).await;

    // Without the old KEK, the keys do not open: start-up says which key it needs.
    let error = Auth::start(db.clone(), with_kek(&base, NEW_KEK, None))
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("not configured"), "{error}");

    // New KEK with the old one as previous: every key is re-wrapped at start-up.
    let rotated = Auth::start(db.clone(), with_kek(&base, NEW_KEK, Some(TEST_KEK)))
        .await
        .unwrap();
    let new_id = sealer(NEW_KEK).kek().1.to_string();
    for row in rows(&rotated).await {
        let sealed = row.sealed.unwrap();
        assert!(
            sealed.contains(&URL_SAFE_NO_PAD.encode(&new_id)),
            "re-wrapped: {sealed}"
        );
    }
    // The old KEK can be retired now.
    let only_new = Auth::start(db.clone(), with_kek(&base, NEW_KEK, None))
        .await
        .unwrap();
    assert_eq!(assert_sealed(&only_new, NEW_KEK).await, before);
    let session = only_new
        .register(registration("ada@example.com"), &ctx())
        .await
        .unwrap();
    verify(&only_new, &session.access_token);
    assert!(
        Auth::start(db, base).await.is_err(),
        "the old KEK alone no longer opens them"
    );
}
