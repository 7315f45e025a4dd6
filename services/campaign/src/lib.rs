//! The campaign studio service: a business brief becomes an analysed, themed, written,
//! illustrated, scheduled and published social-media campaign — over gRPC, with jobs for
//! the long work, a scheduler for publishing, and events through the outbox.

pub mod api;
pub mod clients;
pub mod domain;
pub mod error;
pub mod events;
pub mod providers;
pub mod publish;
pub mod render;
pub mod settings;
pub mod store;

pub use domain::Studio;
pub use settings::CampaignSettings;

use clients::gemini::{GeminiClient, GeminiConfig};
use domain::connectors::Sealer;
use domain::media::{VisualMaker, Visuals};
use domain::writer::Writer;
use marquee_bus::OutboxRelay;
use marquee_platform::service::Service;
use marquee_platform::shutdown::CancellationToken;
use settings::ProviderChoice;
use std::sync::Arc;
use std::time::Duration;

/// The gRPC service name, as reported by the health protocol.
pub const SERVICE_NAME: &str = "marquee.campaign.v1.CampaignService";

/// Opens the database (creating the SQLite file's directory if needed) and applies
/// migrations.
pub async fn open_database(
    settings: &CampaignSettings,
) -> anyhow::Result<sea_orm::DatabaseConnection> {
    marquee_db::open_with::<store::migration::Migrator>(
        &settings.database_url(),
        &settings.data_dir,
        &settings.db_pool,
    )
    .await
}

/// `marquee-campaign migrate`.
pub async fn migrate(settings: &CampaignSettings) -> anyhow::Result<()> {
    open_database(settings).await.map(drop)
}

/// The writer the settings ask for: Gemini with a key, else the local model, else (only
/// when chosen, or as `auto`'s last resort) the rules composer. `Err` says why the choice
/// cannot be honoured; the second value says why AI is degraded, if it is.
pub async fn choose_writer(
    settings: &CampaignSettings,
    gemini: Option<Arc<GeminiClient>>,
) -> anyhow::Result<(Arc<dyn Writer>, Option<String>)> {
    let local = || async {
        let options = marquee_llm::LoadOptions {
            threads: settings.local_model_threads,
            ..marquee_llm::LoadOptions::default()
        };
        marquee_llm::LocalModel::load_async(settings.local_model_path(), &options).await
    };
    match settings.provider {
        ProviderChoice::Rules => Ok((
            Arc::new(providers::rules::RulesWriter),
            Some("provider = rules: campaigns are composed from templates, no AI".into()),
        )),
        ProviderChoice::Gemini => match gemini {
            Some(client) => Ok((Arc::new(providers::gemini::GeminiWriter::new(client)), None)),
            None => anyhow::bail!("provider = gemini, but MARQUEE_GEMINI_API_KEY is not set"),
        },
        ProviderChoice::Local => {
            let model = local().await?;
            Ok((Arc::new(providers::local::LocalWriter::new(model)), None))
        }
        ProviderChoice::Auto => {
            if let Some(client) = gemini {
                return Ok((Arc::new(providers::gemini::GeminiWriter::new(client)), None));
            }
            match local().await {
                Ok(model) => Ok((Arc::new(providers::local::LocalWriter::new(model)), None)),
                Err(error) => {
                    let why = format!(
                        "no local model ({error}); run `make models`. Campaigns are composed from templates (provider: rules)"
                    );
                    Ok((Arc::new(providers::rules::RulesWriter), Some(why)))
                }
            }
        }
    }
}

fn gemini_client(settings: &CampaignSettings) -> anyhow::Result<Option<Arc<GeminiClient>>> {
    let Some(key) = settings.gemini_api_key.clone() else {
        return Ok(None);
    };
    let mut config = GeminiConfig::new(key);
    config.base_url = settings.gemini_base_url.clone();
    config.text_model = settings.gemini_text_model.clone();
    config.image_model = settings.gemini_image_model.clone();
    config.video_model = settings.gemini_video_model.clone();
    config.timeout = Duration::from_secs(settings.gemini_timeout_secs.max(1));
    Ok(Some(Arc::new(GeminiClient::new(config)?)))
}

/// The sealer of connector credentials: envelope encryption under the configured KEK
/// (`kek`; `connector_key` stands in for `kek.key`, and on the embedded default the key
/// file earlier versions made is the local KEK). The connector key of earlier versions,
/// when there is one, opens what they sealed directly.
fn sealer(settings: &CampaignSettings) -> anyhow::Result<Sealer> {
    use secrecy::ExposeSecret;
    let mut kek = settings.kek.clone();
    let connector_key = settings
        .connector_key
        .clone()
        .filter(|key| !key.expose_secret().trim().is_empty());
    if kek
        .key
        .as_ref()
        .is_none_or(|key| key.expose_secret().trim().is_empty())
    {
        kek.key = connector_key.clone();
    }
    let source = settings.kek_source();
    let envelope = kek.sealer(&source)?;
    let legacy = match connector_key {
        Some(key) => Some(marquee_envelope::local::LocalKek::from_base64(&key)?),
        None if kek.provider == marquee_envelope::KekProvider::Local => {
            Some(kek.local_kek(&source)?)
        }
        // Moved to KMS: the old key file still opens what it sealed, if it is there.
        None if source.default_key_file.exists() => Some(
            marquee_envelope::local::LocalKek::from_file(&source.default_key_file, false)?,
        ),
        None => None,
    };
    Ok(Sealer::with_legacy(
        envelope,
        legacy.as_ref().map(|kek| &kek.expose_key()[..]),
    )?)
}

/// Runs the service on `listener` until `shutdown` is cancelled: gRPC, the job runner,
/// the scheduler and the outbox relay.
pub async fn serve(
    settings: CampaignSettings,
    listener: impl Into<marquee_platform::listener::GrpcListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut service = Service::start(SERVICE_NAME, &settings.common, shutdown)?;
    let db = open_database(&settings).await?;
    service.watch("database", marquee_db::probe(db.clone()));
    let gemini = gemini_client(&settings)?;
    let (writer, degraded) = choose_writer(&settings, gemini.clone()).await?;
    metrics::gauge!("marquee_campaign_ai_enabled").set(if degraded.is_none() { 1.0 } else { 0.0 });
    match &degraded {
        None => tracing::info!(provider = writer.provider(), "campaign AI on"),
        Some(why) => {
            tracing::warn!(%why, "campaign AI is OFF");
            service
                .health()
                .set_degraded("ai_campaigns", Some(why.clone()));
        }
    }
    let visuals = match &gemini {
        Some(client) => Visuals {
            image: Arc::new(providers::gemini::GeminiImages::new(client.clone()))
                as Arc<dyn VisualMaker>,
            video: Arc::new(providers::gemini::VeoVideo::new(client.clone())),
        },
        None => Visuals {
            image: Arc::new(providers::visuals::TemplateImage),
            video: Arc::new(providers::visuals::TemplateVideo),
        },
    };
    let parts = domain::Parts {
        writer,
        visuals,
        assets: Arc::new(clients::content::ContentAssets::connect_lazy(
            &settings.content_url,
            &settings.tagging_url,
            service.identity(),
        )?),
        taxonomy: Arc::new(clients::tagging::TaggingTaxonomy::connect_lazy(
            &settings.tagging_url,
            service.identity(),
        )?),
        quota: Arc::new(clients::billing::BillingQuota::connect_lazy(
            &settings.billing_url,
            service.identity(),
        )?),
        web: Arc::new(clients::web::SafeWeb::new(&settings)?),
        publishers: Arc::new(publish::Connectors::new(settings.webhook_allow_private)?),
        sealer: sealer(&settings)?,
    };
    let bus = marquee_bus::connect(&settings.bus)?;
    service.watch("broker", marquee_bus::probe(bus.clone()));
    let relay = OutboxRelay::new(events::SERVICE, db.clone(), bus, &settings.bus);
    let workers = settings.job_workers;
    let scheduler_interval = Duration::from_millis(settings.scheduler_interval_ms.max(50));
    let studio = Studio::new(db, parts).with_waker(relay.waker());
    studio.reseal_connector_secrets().await?;
    service.spawn("outbox relay", relay.run_until_stopped(service.shutdown()));
    service.spawn("job runner", {
        let studio = studio.clone();
        let stop = service.shutdown();
        async move {
            studio.run_jobs_until_stopped(workers, stop).await;
            Ok::<(), std::convert::Infallible>(())
        }
    });
    service.spawn("scheduler", {
        let studio = studio.clone();
        let stop = service.shutdown();
        async move {
            studio
                .run_scheduler_until_stopped(scheduler_interval, stop)
                .await;
            Ok::<(), std::convert::Infallible>(())
        }
    });
    service
        .serve(listener, |router| {
            router.add_service(api::CampaignGrpc::new(studio).into_server())
        })
        .await
}
