//! gRPC adapter: extract the request and caller, call the domain, convert the answer.
//! Handlers never pick status codes; `CampaignError` maps to them in `error.rs`.

mod campaigns;
mod connectors;
mod convert;
mod jobs;
mod posts;
mod schedule;
mod templates;

use crate::domain::Studio;
use marquee_proto::campaign::v1 as pb;
use pb::campaign_service_server::CampaignService;
use tonic::{Request, Response, Status};

pub use pb::campaign_service_server::CampaignServiceServer;

pub struct CampaignGrpc {
    studio: Studio,
}

impl CampaignGrpc {
    pub fn new(studio: Studio) -> Self {
        Self { studio }
    }

    pub fn into_server(self) -> CampaignServiceServer<Self> {
        CampaignServiceServer::new(self)
            .max_decoding_message_size(1024 * 1024)
            // Exports of a full campaign can be large.
            .max_encoding_message_size(16 * 1024 * 1024)
    }
}

/// An optional string field: empty means absent.
pub(crate) use marquee_proto::convert::non_empty as optional;

/// An id from a request, checked for shape before anything looks it up.
pub(crate) fn id(field: &str, value: &str) -> Result<(), Status> {
    marquee_platform::input::id(field, value)
        .map_err(|violation| marquee_platform::Error::from(violation).to_status())
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl CampaignService for CampaignGrpc {
    async fn create_campaign(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> Answer<pb::Campaign> {
        campaigns::create(&self.studio, request).await
    }

    async fn list_campaigns(
        &self,
        request: Request<pb::ListCampaignsRequest>,
    ) -> Answer<pb::ListCampaignsResponse> {
        campaigns::list(&self.studio, request).await
    }

    async fn get_campaign(&self, request: Request<pb::GetCampaignRequest>) -> Answer<pb::Campaign> {
        campaigns::get(&self.studio, request).await
    }

    async fn update_campaign(
        &self,
        request: Request<pb::UpdateCampaignRequest>,
    ) -> Answer<pb::Campaign> {
        campaigns::update(&self.studio, request).await
    }

    async fn delete_campaign(
        &self,
        request: Request<pb::DeleteCampaignRequest>,
    ) -> Answer<pb::DeleteCampaignResponse> {
        campaigns::delete(&self.studio, request).await
    }

    async fn duplicate_campaign(
        &self,
        request: Request<pb::DuplicateCampaignRequest>,
    ) -> Answer<pb::Campaign> {
        campaigns::duplicate(&self.studio, request).await
    }

    async fn start_analysis(&self, request: Request<pb::StartAnalysisRequest>) -> Answer<pb::Job> {
        jobs::start_analysis(&self.studio, request).await
    }

    async fn generate_posts(&self, request: Request<pb::GeneratePostsRequest>) -> Answer<pb::Job> {
        posts::generate(&self.studio, request).await
    }

    async fn regenerate_post(
        &self,
        request: Request<pb::RegeneratePostRequest>,
    ) -> Answer<pb::Job> {
        posts::regenerate(&self.studio, request).await
    }

    async fn update_post(&self, request: Request<pb::UpdatePostRequest>) -> Answer<pb::Post> {
        posts::update(&self.studio, request).await
    }

    async fn generate_media(&self, request: Request<pb::GenerateMediaRequest>) -> Answer<pb::Job> {
        posts::media(&self.studio, request).await
    }

    async fn chat_guidance(&self, request: Request<pb::ChatGuidanceRequest>) -> Answer<pb::Job> {
        campaigns::chat(&self.studio, request).await
    }

    async fn schedule_posts(
        &self,
        request: Request<pb::SchedulePostsRequest>,
    ) -> Answer<pb::Campaign> {
        schedule::schedule(&self.studio, request).await
    }

    async fn unschedule_posts(
        &self,
        request: Request<pb::UnschedulePostsRequest>,
    ) -> Answer<pb::Campaign> {
        schedule::unschedule(&self.studio, request).await
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Answer<pb::ListDeliveriesResponse> {
        schedule::deliveries(&self.studio, request).await
    }

    async fn export_campaign(
        &self,
        request: Request<pb::ExportCampaignRequest>,
    ) -> Answer<pb::ExportCampaignResponse> {
        campaigns::export(&self.studio, request).await
    }

    async fn get_job(&self, request: Request<pb::GetJobRequest>) -> Answer<pb::Job> {
        jobs::get(&self.studio, request).await
    }

    type WatchJobStream = jobs::JobStream;

    async fn watch_job(&self, request: Request<pb::GetJobRequest>) -> Answer<Self::WatchJobStream> {
        jobs::watch(&self.studio, request).await
    }

    async fn cancel_job(&self, request: Request<pb::GetJobRequest>) -> Answer<pb::Job> {
        jobs::cancel(&self.studio, request).await
    }

    async fn save_template(
        &self,
        request: Request<pb::SaveTemplateRequest>,
    ) -> Answer<pb::Template> {
        templates::save(&self.studio, request).await
    }

    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Answer<pb::ListTemplatesResponse> {
        templates::list(&self.studio, request).await
    }

    async fn delete_template(
        &self,
        request: Request<pb::DeleteTemplateRequest>,
    ) -> Answer<pb::DeleteTemplateResponse> {
        templates::delete(&self.studio, request).await
    }

    async fn create_from_template(
        &self,
        request: Request<pb::CreateFromTemplateRequest>,
    ) -> Answer<pb::Campaign> {
        templates::create_from(&self.studio, request).await
    }

    async fn create_connector(
        &self,
        request: Request<pb::CreateConnectorRequest>,
    ) -> Answer<pb::Connector> {
        connectors::create(&self.studio, request).await
    }

    async fn list_connectors(
        &self,
        request: Request<pb::ListConnectorsRequest>,
    ) -> Answer<pb::ListConnectorsResponse> {
        connectors::list(&self.studio, request).await
    }

    async fn delete_connector(
        &self,
        request: Request<pb::DeleteConnectorRequest>,
    ) -> Answer<pb::DeleteConnectorResponse> {
        connectors::delete(&self.studio, request).await
    }
}
