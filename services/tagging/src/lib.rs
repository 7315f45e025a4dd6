//! The tagging service: AI tags on every asset (text embeddings, zero-shot topics,
//! keywords, image labels, colours), semantic search, similar assets, recommendations
//! and per-tenant taxonomies — over gRPC, fed by content's events.

pub mod api;
pub mod clients;
pub mod domain;
pub mod error;
pub mod events;
pub mod inference;
pub mod settings;
pub mod store;

pub use domain::Tagging;
pub use settings::TaggingSettings;

use domain::tagger::{RemoteTagger, Tagger, TaggerOptions};
use inference::{InferenceOptions, Models};
use marquee_bus::OutboxRelay;
use marquee_platform::service::Service;
use marquee_platform::shutdown::CancellationToken;
use settings::VectorSearch;
use std::sync::Arc;
use std::time::Duration;

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.tagging.v1.TaggingService";

/// How often the in-memory index catches up with other replicas' writes.
const INDEX_SYNC_INTERVAL: Duration = Duration::from_secs(2);

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations.
pub async fn open_database(
    settings: &TaggingSettings,
) -> anyhow::Result<sea_orm::DatabaseConnection> {
    marquee_db::open_with::<store::migration::Migrator>(
        &settings.database_url(),
        &settings.data_dir,
        &settings.db_pool,
    )
    .await
}

/// `marquee-tagging migrate`.
pub async fn migrate(settings: &TaggingSettings) -> anyhow::Result<()> {
    open_database(settings).await.map(drop)
}

/// Loads the local models and, with a key, Gemini; `Err` says why AI tagging is off.
pub fn load_tagger(settings: &TaggingSettings) -> Result<Tagger, String> {
    let options = InferenceOptions {
        intra_threads: settings.inference_threads.max(1),
        max_batch: settings.max_batch.max(1),
        ..InferenceOptions::default()
    };
    let models = Models::load(&settings.models_dir, &options).map_err(|error| {
        format!(
            "no local models in {} ({error}); run `make models`",
            settings.models_dir.display()
        )
    })?;
    let remote: Option<Arc<dyn RemoteTagger>> = match &settings.gemini_api_key {
        Some(key) => Some(Arc::new(
            clients::gemini::Gemini::new(
                &settings.gemini_base_url,
                &settings.gemini_model,
                key.clone(),
                Duration::from_secs(settings.gemini_timeout_secs.max(1)),
            )
            .map_err(|e| format!("Gemini client: {e}"))?,
        )),
        None => None,
    };
    Ok(Tagger {
        text: models.text,
        image: models.image,
        remote,
        options: TaggerOptions {
            topic_tags: settings.topic_tags,
            topic_min_confidence: settings.topic_min_confidence,
            keyword_tags: settings.keyword_tags,
            image_tags: settings.image_tags,
            image_min_probability: settings.image_min_probability,
            max_image_pixels: settings.max_image_pixels,
        },
    })
}

/// Runs the service on `listener` until `shutdown` is cancelled: gRPC, the outbox relay,
/// the asset and signal consumers and the index follower. In-flight calls and handlers
/// finish.
pub async fn serve(
    settings: TaggingSettings,
    listener: impl Into<marquee_platform::listener::GrpcListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut service = Service::start(SERVICE_NAME, &settings.common, shutdown)?;
    let db = open_database(&settings).await?;
    service.watch("database", marquee_db::probe(db.clone()));
    let tagger = tokio::task::spawn_blocking({
        let settings = settings.clone();
        move || load_tagger(&settings)
    })
    .await?;
    // 1 with the models loaded: an image built without them shows up on dashboards.
    metrics::gauge!("marquee_tagging_ai_enabled").set(if tagger.is_ok() { 1.0 } else { 0.0 });
    match &tagger {
        Ok(tagger) => tracing::info!(
            image_model = tagger.image.is_some(),
            gemini = tagger.remote.is_some(),
            "AI tagging on"
        ),
        Err(why) => {
            tracing::warn!(%why, "AI tagging is OFF: assets get no AI tags, search matches words only");
            service
                .health()
                .set_degraded("ai_tagging", Some(why.clone()));
        }
    }
    let images =
        clients::content::ContentImages::connect_lazy(&settings.content_url, service.identity())?;
    let bus = marquee_bus::connect(&settings.bus)?;
    service.watch("broker", marquee_bus::probe(bus.clone()));
    let relay = OutboxRelay::new(events::SERVICE, db.clone(), bus.clone(), &settings.bus);
    let vector_search = settings.vector_search;
    let tagging =
        Tagging::new(db.clone(), settings, tagger, Arc::new(images)).with_waker(relay.waker());
    let loaded_up_to = tagging.sync_index(None).await?;
    let tagging = choose_vector_search(tagging, &db, vector_search).await?;
    tracing::info!(
        assets = tagging.index().len(),
        search = tagging.vector_search(),
        "index loaded"
    );

    // Declare the consumers' queues before anything is published, so no event is dropped.
    let assets = events::asset_worker::consumer(tagging.clone());
    let signals = events::signal_worker::consumer(tagging.clone());
    bus.declare(&assets).await?;
    bus.declare(&signals).await?;
    service.spawn("outbox relay", relay.run_until_stopped(service.shutdown()));
    service.spawn(
        "asset worker",
        assets.run_until_stopped(bus.clone(), service.shutdown()),
    );
    service.spawn(
        "signal worker",
        signals.run_until_stopped(bus, service.shutdown()),
    );
    let follower = tagging.clone();
    let stop = service.shutdown();
    service.spawn("index follower", async move {
        follower
            .follow_changes(loaded_up_to, INDEX_SYNC_INTERVAL, stop)
            .await
    });
    service
        .serve(listener, |router| {
            router.add_service(api::TaggingGrpc::new(tagging).into_server())
        })
        .await
}

/// pgvector where the database has it (`auto`) or must (`pgvector`); the exact index
/// otherwise.
async fn choose_vector_search(
    tagging: Tagging,
    db: &sea_orm::DatabaseConnection,
    wanted: VectorSearch,
) -> anyhow::Result<Tagging> {
    let available = wanted != VectorSearch::Exact && store::pgvector::available(db).await?;
    match (wanted, available) {
        (VectorSearch::Pgvector, false) => {
            anyhow::bail!("vector_search = pgvector, but the database has no pgvector extension")
        }
        (VectorSearch::Exact, _) | (VectorSearch::Auto, false) => Ok(tagging),
        (_, true) => {
            let pgvector = store::pgvector::PgVectorSearch::enable(
                db.clone(),
                tagging.index().clone(),
                inference::EMBEDDING_DIM,
            )
            .await?;
            Ok(tagging.with_vector_search(Arc::new(pgvector)))
        }
    }
}
