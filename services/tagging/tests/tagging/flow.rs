//! The tagging flow on SQLite and PostgreSQL, with the real models and content's events
//! as the bus delivers them: tagged once however often an event comes, re-tagging keeps
//! what people decided, a failing image fetch is recorded and retried, moderation
//! changes who sees what, deletion forgets, and a second replica's index catches up.

use super::models_dir;
use async_trait::async_trait;
use marquee_bus::envelope::EventBuilder;
use marquee_platform::{Principal, PrincipalKind, Role, Scope};
use marquee_proto::events::types;
use marquee_proto::events::v1::{AssetModerated, AssetProcessed};
use marquee_tagging::domain::search::SearchQuery;
use marquee_tagging::domain::tagger::ImageSource;
use marquee_tagging::domain::tags::{RequestedTag, TagSource};
use marquee_tagging::domain::{Tagging, TaggingState};
use marquee_tagging::error::{Result, TaggingError};
use marquee_tagging::store::assets::Processed;
use marquee_tagging::{TaggingSettings, load_tagger, open_database};
use marquee_testkit::{Backend, TestDb, on_both_backends};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CONSUMER: &str = "tagging";

/// Serves the committed photos; fails the first `failures` fetches.
struct Photos {
    failures: AtomicUsize,
}

#[async_trait]
impl ImageSource for Photos {
    async fn image_bytes(
        &self,
        _tenant: &str,
        asset_id: &str,
        _max: u64,
    ) -> Result<Option<Vec<u8>>> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(TaggingError::Internal("content is unavailable".into()));
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/images")
            .join(format!("{asset_id}.jpg"));
        Ok(std::fs::read(path).ok())
    }
}

pub async fn tagging(db: &TestDb, failures: usize) -> Tagging {
    let settings = TaggingSettings {
        database_url: Some(db.url().to_string().into()),
        data_dir: db.data_dir().to_path_buf(),
        models_dir: models_dir(),
        ..Default::default()
    };
    let connection = open_database(&settings).await.unwrap();
    let tagger = load_tagger(&settings);
    assert!(tagger.is_ok(), "models: {:?}", tagger.err());
    let photos = Photos {
        failures: AtomicUsize::new(failures),
    };
    Tagging::new(connection, settings, tagger, Arc::new(photos))
}

pub fn user(id: &str, role: Role) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        subject: id.into(),
        tenant_id: "tenant-1".into(),
        roles: vec![role],
        scopes: vec![Scope::AssetsRead, Scope::AssetsWrite],
    }
}

pub fn processed(
    asset_id: &str,
    kind: &str,
    title: &str,
    description: &str,
    ready: bool,
) -> (marquee_bus::Envelope, Processed) {
    let event = AssetProcessed {
        asset_id: asset_id.into(),
        owner_id: "creator".into(),
        ok: true,
        status: if ready { "ready" } else { "pending_review" }.into(),
        title: title.into(),
        description: description.into(),
        kind: kind.into(),
        width: 600,
        height: 400,
        has_thumbnail: kind == "image",
        ..Default::default()
    };
    let envelope = EventBuilder::new(types::ASSET_PROCESSED, "content")
        .tenant("tenant-1")
        .payload("marquee.events.v1.AssetProcessed", &event)
        .build()
        .unwrap();
    let asset = Processed {
        asset_id: asset_id.into(),
        tenant_id: "tenant-1".into(),
        owner_id: "creator".into(),
        title: title.into(),
        description: description.into(),
        creator_tags: Vec::new(),
        kind: kind.into(),
        content_type: if kind == "image" {
            "image/jpeg"
        } else {
            "text/plain"
        }
        .into(),
        text_excerpt: String::new(),
        ready,
        has_thumbnail: kind == "image",
        width: 600,
        height: 400,
        created_at: chrono::Utc::now(),
    };
    (envelope, asset)
}

pub fn search(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        ..SearchQuery::default()
    }
}

fn ids(page: &marquee_tagging::domain::search::Page) -> Vec<String> {
    page.hits.iter().map(|h| h.asset.asset_id.clone()).collect()
}

async fn tagged_once_retagged_without_removed_tags(backend: Backend) {
    let db = TestDb::create(backend, "tagging_flow").await;
    let tagging = tagging(&db, 0).await;
    let creator = user("creator", Role::Creator);
    let (envelope, asset) = processed(
        "bread",
        "document",
        "Rustic sourdough loaf on linen",
        "Crusty sourdough boule on a linen cloth, flour dusting.",
        true,
    );
    tagging
        .tag_processed(CONSUMER, &envelope, asset.clone())
        .await
        .unwrap();
    let first = tagging.tags(&creator, "bread").await.unwrap();
    assert_eq!(first.asset.state, TaggingState::Tagged);
    assert!(!first.tags.is_empty());
    assert!(
        first
            .tags
            .iter()
            .all(|t| t.source == TagSource::Ai && (0.0..=1.0).contains(&t.confidence))
    );
    // The same event again: the inbox makes it a no-op.
    tagging
        .tag_processed(CONSUMER, &envelope, asset.clone())
        .await
        .unwrap();
    assert_eq!(
        tagging.tags(&creator, "bread").await.unwrap().tags,
        first.tags
    );

    // The creator removes the strongest AI tag and adds one of their own.
    let removed = first.tags[0].name.clone();
    let mut wanted: Vec<RequestedTag> = first.tags[1..]
        .iter()
        .map(|t| RequestedTag {
            name: t.name.clone(),
            source: "ai".into(),
        })
        .collect();
    wanted.push(RequestedTag {
        name: "homemade".into(),
        source: "creator".into(),
    });
    tagging.set_tags(&creator, "bread", wanted).await.unwrap();
    let stranger = user("stranger", Role::Creator);
    assert!(matches!(
        tagging.set_tags(&stranger, "bread", Vec::new()).await,
        Err(TaggingError::Forbidden(_))
    ));

    // Re-tagging (a new asset.processed, e.g. after reprocessing) brings fresh AI tags
    // but never the removed one, and keeps the creator's.
    let (again, asset) = processed(
        "bread",
        "document",
        "Rustic sourdough loaf on linen",
        "Crusty sourdough boule on a linen cloth, flour dusting.",
        true,
    );
    tagging
        .tag_processed(CONSUMER, &again, asset)
        .await
        .unwrap();
    let after = tagging.tags(&creator, "bread").await.unwrap();
    let names: Vec<&str> = after.tags.iter().map(|t| t.name.as_str()).collect();
    assert!(!names.contains(&removed.as_str()), "{names:?}");
    assert!(names.contains(&"homemade"), "{names:?}");
}

async fn photos_get_visual_tags_and_failures_are_recorded_then_retried(backend: Backend) {
    let db = TestDb::create(backend, "tagging_photo").await;
    let tagging = tagging(&db, 1).await;
    let creator = user("creator", Role::Creator);
    let (envelope, asset) = processed("coffee", "image", "Morning cup", "", false);
    let failed = tagging
        .tag_processed(CONSUMER, &envelope, asset.clone())
        .await;
    assert!(failed.is_err(), "the bus must retry");
    let seen = tagging.tags(&creator, "coffee").await.unwrap();
    assert_eq!(seen.asset.state, TaggingState::Failed);
    assert!(
        seen.asset
            .failure_reason
            .unwrap()
            .contains("content is unavailable")
    );
    // The redelivery succeeds.
    tagging
        .tag_processed(CONSUMER, &envelope, asset)
        .await
        .unwrap();
    let seen = tagging.tags(&creator, "coffee").await.unwrap();
    assert_eq!(seen.asset.state, TaggingState::Tagged);
    let visual: Vec<&str> = seen
        .tags
        .iter()
        .filter(|t| t.provider == "efficientnet-lite0")
        .map(|t| t.name.as_str())
        .collect();
    assert!(!visual.is_empty(), "{:?}", seen.tags);
    assert_eq!(seen.asset.orientation.as_deref(), Some("landscape"));
    assert!(seen.asset.palette.len() > 2);

    // Pending review: only its owner finds it, until approved.
    let buyer = user("buyer", Role::Creator);
    assert!(ids(&tagging.search(&buyer, search("espresso")).await.unwrap()).is_empty());
    assert_eq!(
        ids(&tagging.search(&creator, search("espresso")).await.unwrap()),
        ["coffee"]
    );
    let approved = EventBuilder::new(types::ASSET_APPROVED, "content")
        .tenant("tenant-1")
        .payload(
            "marquee.events.v1.AssetModerated",
            &AssetModerated {
                asset_id: "coffee".into(),
                owner_id: "creator".into(),
                approved: true,
                ..Default::default()
            },
        )
        .build()
        .unwrap();
    tagging
        .moderated(CONSUMER, &approved, "creator", "coffee", true)
        .await
        .unwrap();
    assert_eq!(
        ids(&tagging.search(&buyer, search("espresso")).await.unwrap()),
        ["coffee"]
    );

    // A second replica on the same database catches up from it.
    let replica = self::tagging(&db, 0).await;
    assert!(replica.index().is_empty());
    replica.sync_index(None).await.unwrap();
    assert_eq!(
        ids(&replica
            .search(&buyer, search("a cup of coffee"))
            .await
            .unwrap()),
        ["coffee"]
    );

    let deleted = EventBuilder::new(types::ASSET_DELETED, "content")
        .tenant("tenant-1")
        .payload(
            "marquee.events.v1.AssetDeleted",
            &marquee_proto::events::v1::AssetDeleted {
                asset_id: "coffee".into(),
                owner_id: "creator".into(),
                size_bytes: 1,
            },
        )
        .build()
        .unwrap();
    tagging
        .deleted(CONSUMER, &deleted, "creator", "coffee")
        .await
        .unwrap();
    assert!(ids(&tagging.search(&buyer, search("espresso")).await.unwrap()).is_empty());
    assert!(matches!(
        tagging.tags(&creator, "coffee").await,
        Err(TaggingError::NotFound(_))
    ));
    // A late asset.processed doesn't bring it back.
    let (late, asset) = processed("coffee", "image", "Morning cup", "", true);
    tagging.tag_processed(CONSUMER, &late, asset).await.unwrap();
    assert!(matches!(
        tagging.tags(&creator, "coffee").await,
        Err(TaggingError::NotFound(_))
    ));
    replica.sync_index(None).await.unwrap();
    assert!(ids(&replica.search(&buyer, search("espresso")).await.unwrap()).is_empty());
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    tagged_once_retagged_without_removed_tags,
    photos_get_visual_tags_and_failures_are_recorded_then_retried,
);
