//! The studio with fake neighbours (content, billing, tagging, the web) and the real
//! job runner, scheduler and webhook connector, on both databases.

use async_trait::async_trait;
use bytes::Bytes;
use marquee_campaign::domain::brief::Brief;
use marquee_campaign::domain::connectors::{NewConnector, Sealer};
use marquee_campaign::domain::media::{Made, OnProgress, VisualMaker, VisualRequest, Visuals};
use marquee_campaign::domain::schedule::Plan;
use marquee_campaign::domain::{
    AssetFacts, Assets, Hold, NewAsset, Page, Parts, Quota, Studio, Taxonomy, Web,
};
use marquee_campaign::error::{CampaignError, Result};
use marquee_campaign::providers::{rules::RulesWriter, visuals};
use marquee_platform::{Principal, PrincipalKind, Role, Scope, SecretString};
use marquee_social::Platform;
use marquee_testkit::social::WebhookReceiver;
use marquee_testkit::{Backend, TestDb, on_both_backends};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Ledger {
    reserved: Vec<(String, u64)>,
    committed: usize,
    released: usize,
}

struct FakeQuota(Arc<Mutex<Ledger>>);

#[async_trait]
impl Quota for FakeQuota {
    async fn reserve(&self, _: &Principal, limit: &str, amount: u64, key: &str) -> Result<Hold> {
        self.0
            .lock()
            .unwrap()
            .reserved
            .push((limit.to_string(), amount));
        Ok(Hold {
            id: key.to_string(),
        })
    }
    async fn commit(&self, _: &Principal, _: &Hold) -> Result<()> {
        self.0.lock().unwrap().committed += 1;
        Ok(())
    }
    async fn release(&self, _: &Principal, _: &Hold) -> Result<()> {
        self.0.lock().unwrap().released += 1;
        Ok(())
    }
}

struct NoAssets;

#[async_trait]
impl Assets for NoAssets {
    async fn facts(&self, _: &Principal, id: &str) -> Result<AssetFacts> {
        Err(CampaignError::invalid(
            "asset_not_found",
            format!("asset {id}"),
        ))
    }
    async fn picture(&self, _: &Principal, id: &str, _: u64) -> Result<Bytes> {
        Err(CampaignError::invalid(
            "asset_not_found",
            format!("asset {id}"),
        ))
    }
    async fn upload(&self, _: &Principal, _: NewAsset) -> Result<String> {
        Ok("asset-made".into())
    }
}

struct Labels;

#[async_trait]
impl Taxonomy for Labels {
    async fn labels(&self, _: &Principal) -> Result<Vec<String>> {
        Ok(vec!["coffee".into(), "food photography".into()])
    }
}

/// An AI video maker (as Veo would be) that works until it is cancelled.
struct Stalls;

#[async_trait]
impl VisualMaker for Stalls {
    fn provider(&self) -> &'static str {
        "veo"
    }
    fn is_ai(&self) -> bool {
        true
    }
    async fn make(
        &self,
        _: &VisualRequest,
        cancel: &CancellationToken,
        progress: OnProgress<'_>,
    ) -> Result<Made> {
        let mut percent = 0;
        loop {
            progress(percent);
            percent = (percent + 1) % 100;
            tokio::select! {
                _ = cancel.cancelled() => return Err(CampaignError::Cancelled),
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }
}

struct NoWeb;

#[async_trait]
impl Web for NoWeb {
    async fn fetch(&self, url: &str) -> Result<Page> {
        Err(CampaignError::invalid("url_refused", url.to_string()))
    }
}

fn creator() -> Principal {
    Principal {
        kind: PrincipalKind::User,
        subject: "user-1".into(),
        tenant_id: "tenant-1".into(),
        roles: vec![Role::Creator],
        scopes: vec![Scope::CampaignsRead, Scope::CampaignsWrite],
    }
}

async fn studio(db: &TestDb, ledger: Arc<Mutex<Ledger>>) -> Studio {
    marquee_platform::install_crypto_provider();
    let settings = marquee_campaign::CampaignSettings {
        database_url: Some(SecretString::from(db.url().to_string())),
        data_dir: db.data_dir().to_path_buf(),
        ..Default::default()
    };
    let connection = marquee_campaign::open_database(&settings).await.unwrap();
    Studio::new(
        connection,
        Parts {
            writer: Arc::new(RulesWriter),
            visuals: Visuals {
                image: Arc::new(visuals::TemplateImage),
                video: Arc::new(Stalls),
            },
            assets: Arc::new(NoAssets),
            taxonomy: Arc::new(Labels),
            quota: Arc::new(FakeQuota(ledger)),
            web: Arc::new(NoWeb),
            // The receiver listens on loopback.
            publishers: Arc::new(marquee_campaign::publish::Connectors::new(true).unwrap()),
            sealer: Sealer::new(&[9u8; 32]).unwrap(),
        },
    )
}

fn brief() -> Brief {
    Brief {
        name: "Spring roast".into(),
        objective: "More subscribers".into(),
        campaign_type: "product".into(),
        business_description: "Acme Roasters roasts organic coffee beans in Lyon. Fresh beans reach subscribers within 48 hours.".into(),
        urls: vec![],
        asset_ids: vec![],
        target_audience: "Coffee lovers".into(),
        platforms: vec![Platform::X, Platform::Instagram, Platform::Bluesky],
        creativity: 5,
        post_count: 6,
        time_zone: "Europe/Paris".into(),
    }
}

async fn wait_job(
    studio: &Studio,
    owner: &Principal,
    id: &str,
) -> marquee_campaign::domain::jobs::Job {
    for _ in 0..600 {
        let job = studio.job(owner, id).await.unwrap();
        if matches!(job.state.as_str(), "succeeded" | "failed" | "cancelled") {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} never ended");
}

async fn posts_are_written_within_rules_and_quota_settles(backend: Backend) {
    let db = TestDb::create(backend, "campaign_flow").await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let studio = studio(&db, ledger.clone()).await;
    let stop = CancellationToken::new();
    let owner = creator();
    let campaign = studio
        .create_campaign(&owner, brief(), Some("key-1".into()))
        .await
        .unwrap();
    let again = studio
        .create_campaign(&owner, brief(), Some("key-1".into()))
        .await
        .unwrap();
    assert_eq!(
        campaign.id, again.id,
        "the idempotency key answers the first campaign"
    );

    let job = studio
        .start_generation(&owner, &campaign.id, false, None)
        .await
        .unwrap();
    let busy = studio.start_analysis(&owner, &campaign.id, None).await;
    assert!(
        matches!(
            busy,
            Err(CampaignError::Conflict {
                code: "campaign_busy",
                ..
            })
        ),
        "{busy:?}"
    );
    // Workers start only now: with them running, the rules composer could finish the
    // generation before the second request, and the campaign would no longer be busy.
    tokio::spawn(studio.clone().run_jobs_until_stopped(2, stop.clone()));
    let job = wait_job(&studio, &owner, &job.id).await;
    assert_eq!(job.state, "succeeded", "{job:?}");
    assert_eq!(job.progress, 100);

    let campaign = studio.campaign(&owner, &campaign.id).await.unwrap();
    assert_eq!(campaign.status, "ready");
    let analysis = campaign.analysis.as_ref().unwrap();
    assert_eq!(analysis.provider, "rules");
    assert!(
        campaign.hashtags.iter().any(|h| h.source == "taxonomy"),
        "{:?}",
        campaign.hashtags
    );
    assert_eq!(campaign.posts.len(), 6);
    for post in &campaign.posts {
        assert!(
            marquee_social::check(post.platform, &post.content).is_ok(),
            "{}",
            post.content
        );
        assert_eq!(post.provider, "rules");
        assert!(!post.ai_generated);
    }
    {
        let ledger = ledger.lock().unwrap();
        assert_eq!(
            ledger.reserved,
            vec![
                ("ai_text_generations".to_string(), 2),
                ("ai_text_generations".to_string(), 6)
            ]
        );
        assert_eq!((ledger.committed, ledger.released), (2, 0));
    }

    // A creator's own text must fit as written.
    let post = &campaign.posts[0];
    let too_long = "word ".repeat(700);
    let refused = studio
        .update_post(
            &owner,
            &campaign.id,
            &post.id,
            marquee_campaign::domain::posts::PostEdit {
                content: Some(too_long),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(CampaignError::Invalid {
                code: "post_breaks_platform_rules",
                ..
            })
        ),
        "{refused:?}"
    );

    // Someone else's campaign does not exist for them.
    let stranger = Principal {
        subject: "user-2".into(),
        ..creator()
    };
    assert!(matches!(
        studio.campaign(&stranger, &campaign.id).await,
        Err(CampaignError::NotFound(_))
    ));
    stop.cancel();
}

async fn two_replicas_publish_each_post_once(backend: Backend) {
    let db = TestDb::create(backend, "campaign_publish").await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let first = studio(&db, ledger.clone()).await;
    let second = studio(&db, ledger).await;
    let receiver = WebhookReceiver::start().await;
    let owner = creator();
    let campaign = first.create_campaign(&owner, brief(), None).await.unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(first.clone().run_jobs_until_stopped(1, stop.clone()));
    let job = first
        .start_generation(&owner, &campaign.id, false, None)
        .await
        .unwrap();
    assert_eq!(wait_job(&first, &owner, &job.id).await.state, "succeeded");
    first
        .create_connector(
            &owner,
            NewConnector {
                kind: "webhook".into(),
                name: "hook".into(),
                platforms: vec![],
                endpoint: format!("{}in", receiver.base),
                account: String::new(),
                secret: SecretString::from("signing-secret".to_string()),
            },
        )
        .await
        .unwrap();
    let connectors = second.connectors(&owner).await.unwrap();
    assert_eq!(connectors.len(), 1);
    first
        .schedule(
            &owner,
            &campaign.id,
            Plan::Every {
                start: chrono::Utc::now(),
                interval_minutes: 1,
            },
        )
        .await
        .unwrap();
    // Make every post due now, then let both replicas race for them.
    let campaign = first.campaign(&owner, &campaign.id).await.unwrap();
    let now = chrono::Utc::now();
    first
        .schedule(
            &owner,
            &campaign.id,
            Plan::At(campaign.posts.iter().map(|p| (p.id.clone(), now)).collect()),
        )
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        async {
            let mut total = 0;
            for _ in 0..5 {
                total += first.publish_due().await.unwrap();
            }
            total
        },
        async {
            let mut total = 0;
            for _ in 0..5 {
                total += second.publish_due().await.unwrap();
            }
            total
        },
    );
    assert_eq!(a + b, 6, "each post published by one replica ({a} + {b})");
    assert_eq!(receiver.requests().len(), 6, "each post delivered once");
    let campaign = first.campaign(&owner, &campaign.id).await.unwrap();
    assert!(campaign.posts.iter().all(|p| p.status == "published"));
    assert_eq!(
        first.deliveries(&owner, &campaign.id).await.unwrap().len(),
        6
    );
    stop.cancel();
    receiver.stop().await;
}

async fn cancelling_stops_a_running_video(backend: Backend) {
    let db = TestDb::create(backend, "campaign_cancel").await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let studio = studio(&db, ledger.clone()).await;
    let stop = CancellationToken::new();
    tokio::spawn(studio.clone().run_jobs_until_stopped(1, stop.clone()));
    let owner = creator();
    let campaign = studio.create_campaign(&owner, brief(), None).await.unwrap();
    let job = studio
        .start_generation(&owner, &campaign.id, false, None)
        .await
        .unwrap();
    wait_job(&studio, &owner, &job.id).await;
    let campaign = studio.campaign(&owner, &campaign.id).await.unwrap();
    let post = campaign
        .posts
        .iter()
        .find(|p| p.kind == "text_video")
        .unwrap();
    let video = studio
        .start_media(&owner, &campaign.id, &post.id, "video", "", None)
        .await
        .unwrap();
    // Wait until it runs, then cancel.
    for _ in 0..200 {
        if studio.job(&owner, &video.id).await.unwrap().state == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    studio.cancel_job(&owner, &video.id).await.unwrap();
    let video = wait_job(&studio, &owner, &video.id).await;
    assert_eq!(video.state, "cancelled", "{video:?}");
    assert!(video.asset_id.is_none());
    let ledger = ledger.lock().unwrap();
    assert!(
        ledger.reserved.contains(&("video_seconds".to_string(), 8)),
        "{:?}",
        ledger.reserved
    );
    assert_eq!(ledger.released, 1, "the video's hold was released");
    stop.cancel();
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    posts_are_written_within_rules_and_quota_settles,
    two_replicas_publish_each_post_once,
    cancelling_stops_a_running_video,
    connector_secrets_from_earlier_versions_are_resealed,
);

/// Connector secrets at rest: sealed by envelope encryption, bound to their row; secrets
/// an earlier version sealed directly under the connector key re-sealed without loss.
async fn connector_secrets_from_earlier_versions_are_resealed(backend: Backend) {
    use aes_gcm::aead::{Aead, KeyInit};
    use base64::Engine;
    use marquee_campaign::domain::connectors::secret_aad;
    use marquee_campaign::store::connectors;
    use marquee_platform::ExposeSecret;
    let db = TestDb::create(backend, "campaign_connectors").await;
    let studio = studio(&db, Arc::new(Mutex::new(Ledger::default()))).await;
    let connection = marquee_campaign::open_database(&marquee_campaign::CampaignSettings {
        database_url: Some(SecretString::from(db.url().to_string())),
        data_dir: db.data_dir().to_path_buf(),
        ..Default::default()
    })
    .await
    .unwrap();
    let owner = creator();
    let created = studio
        .create_connector(
            &owner,
            NewConnector {
                kind: "webhook".into(),
                name: "hook".into(),
                platforms: vec![],
                endpoint: "https://hooks.example/in".into(),
                account: String::new(),
                secret: SecretString::from("signing-secret".to_string()),
            },
        )
        .await
        .unwrap();
    let row = connectors::find(&connection, &created.id)
        .await
        .unwrap()
        .unwrap();
    assert!(row.secret_sealed.starts_with("menv1.local."));
    assert!(!row.secret_sealed.contains("signing-secret"));

    // A row as an earlier version wrote it: base64(nonce ‖ AES-256-GCM) under the key.
    let nonce = [3u8; 12];
    let mut legacy = nonce.to_vec();
    legacy.extend(
        aes_gcm::Aes256Gcm::new_from_slice(&[9u8; 32])
            .unwrap()
            .encrypt(&aes_gcm::Nonce::from(nonce), b"old-app-password".as_slice())
            .unwrap(),
    );
    let mut old = row.clone();
    old.id = "connector-from-before".into();
    old.secret_sealed = base64::engine::general_purpose::STANDARD.encode(legacy);
    connectors::insert(&connection, old.clone()).await.unwrap();

    assert_eq!(studio.reseal_connector_secrets().await.unwrap(), 1);
    assert_eq!(
        studio.reseal_connector_secrets().await.unwrap(),
        0,
        "idempotent"
    );
    let resealed = connectors::find(&connection, &old.id)
        .await
        .unwrap()
        .unwrap();
    assert!(resealed.secret_sealed.starts_with("menv1.local."));
    let sealer = Sealer::new(&[9u8; 32]).unwrap();
    assert_eq!(
        sealer
            .open(&resealed.secret_sealed, &secret_aad(&resealed))
            .await
            .unwrap()
            .expose_secret(),
        "old-app-password"
    );
    // The first connector's sealed secret pasted into the other row does not open there.
    assert!(
        sealer
            .open(&row.secret_sealed, &secret_aad(&resealed))
            .await
            .is_err()
    );
    assert_eq!(studio.connectors(&owner).await.unwrap().len(), 2);
}
