//! The fleet's gRPC clients, in one place: the gateway and every service that calls
//! another build them here.
//!
//! Each client is a cheap-to-clone handle on lazily connected, multiplexed HTTP/2
//! channels — one, or one per address of the callee's host, balanced — (start-up never
//! waits for the callee; readiness does) that signs the calling
//! service's identity for the callee and sends the current W3C trace context on every
//! call. Requests are built with [`marquee_platform::grpc::for_caller`] (on behalf of a
//! verified caller, with a deadline) or [`marquee_platform::grpc::anonymous`]; failures
//! come back as `tonic::Status` and become the platform error with `?`.
//!
//! ```ignore
//! let billing = BillingClient::connect_lazy("http://127.0.0.1:50053", service.identity())?;
//! let plans = billing.grpc().list_plans(grpc::for_caller(&caller, ListPlansRequest {})).await?;
//! ```

mod flags;

pub use flags::TenantFlagsCache;

use marquee_platform::balance::GrpcChannel;
use marquee_platform::grpc::{self, CallInterceptor};
use marquee_platform::service_identity::ServiceIdentity;
use marquee_proto::auth::v1::auth_service_client::AuthServiceClient;
use marquee_proto::billing::v1::billing_service_client::BillingServiceClient;
use marquee_proto::campaign::v1::campaign_service_client::CampaignServiceClient;
use marquee_proto::content::v1::content_service_client::ContentServiceClient;
use marquee_proto::tagging::v1::tagging_service_client::TaggingServiceClient;
use tonic::service::interceptor::InterceptedService;

/// A channel that signs the caller's identity and sends the trace context on every call.
/// Balanced over the callee's addresses when its URL names a host (a headless Service):
/// see `marquee_platform::balance`.
pub type Traced = InterceptedService<GrpcChannel, CallInterceptor>;

/// A handle on one service's generated client `C`.
#[derive(Clone, Debug)]
pub struct Client<C> {
    grpc: C,
}

impl<C: Clone> Client<C> {
    /// A client to make one call with (clones share the connection).
    pub fn grpc(&self) -> C {
        self.grpc.clone()
    }
}

pub type AuthGrpc = AuthServiceClient<Traced>;
pub type BillingGrpc = BillingServiceClient<Traced>;
pub type CampaignGrpc = CampaignServiceClient<Traced>;
pub type ContentGrpc = ContentServiceClient<Traced>;
pub type TaggingGrpc = TaggingServiceClient<Traced>;

/// Auth: identity, sessions, tenants and flags. Unary calls, [`grpc::UNARY_DEADLINE`].
pub type AuthClient = Client<AuthGrpc>;
/// Billing: plans, subscriptions, entitlements and quota holds. Unary calls.
pub type BillingClient = Client<BillingGrpc>;
/// Content: assets and their bytes. Its channel has no overall deadline — uploads and
/// downloads stream for as long as bytes keep coming — so its unary calls carry their
/// own (build them with `grpc::for_caller`).
pub type ContentClient = Client<ContentGrpc>;

/// Tagging: tags, search, similar assets, recommendations, taxonomies. Unary calls.
pub type TaggingClient = Client<TaggingGrpc>;

/// Campaign: the campaign studio (campaigns, posts, jobs, schedules, templates,
/// connectors). Its channel has no overall deadline — `WatchJob` streams a job's
/// changes for as long as the job runs — so its unary calls carry their own (build them
/// with `grpc::for_caller`, or `grpc::stream_for_caller` for the watch).
pub type CampaignClient = Client<CampaignGrpc>;

/// Largest message on content's byte streams (chunks are far smaller).
const CONTENT_MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// Largest answer from campaign: an export of a whole campaign (the service encodes up
/// to this much).
const CAMPAIGN_MAX_MESSAGE: usize = 16 * 1024 * 1024;

impl AuthClient {
    pub fn connect_lazy(
        url: &str,
        identity: ServiceIdentity,
    ) -> Result<Self, tonic::transport::Error> {
        let interceptor = CallInterceptor::new(identity, "auth");
        let channel = grpc::channel(url)?;
        Ok(Self {
            grpc: AuthServiceClient::with_interceptor(channel, interceptor),
        })
    }
}

impl BillingClient {
    pub fn connect_lazy(
        url: &str,
        identity: ServiceIdentity,
    ) -> Result<Self, tonic::transport::Error> {
        let interceptor = CallInterceptor::new(identity, "billing");
        let channel = grpc::channel(url)?;
        Ok(Self {
            grpc: BillingServiceClient::with_interceptor(channel, interceptor),
        })
    }
}

impl ContentClient {
    pub fn connect_lazy(
        url: &str,
        identity: ServiceIdentity,
    ) -> Result<Self, tonic::transport::Error> {
        let interceptor = CallInterceptor::new(identity, "content");
        let channel = grpc::streaming_channel(url)?;
        Ok(Self {
            grpc: ContentServiceClient::with_interceptor(channel, interceptor)
                .max_decoding_message_size(CONTENT_MAX_MESSAGE)
                .max_encoding_message_size(CONTENT_MAX_MESSAGE),
        })
    }
}

impl TaggingClient {
    pub fn connect_lazy(
        url: &str,
        identity: ServiceIdentity,
    ) -> Result<Self, tonic::transport::Error> {
        let interceptor = CallInterceptor::new(identity, "tagging");
        let channel = grpc::channel(url)?;
        Ok(Self {
            grpc: TaggingServiceClient::with_interceptor(channel, interceptor),
        })
    }
}

impl CampaignClient {
    pub fn connect_lazy(
        url: &str,
        identity: ServiceIdentity,
    ) -> Result<Self, tonic::transport::Error> {
        let interceptor = CallInterceptor::new(identity, "campaign");
        let channel = grpc::streaming_channel(url)?;
        Ok(Self {
            grpc: CampaignServiceClient::with_interceptor(channel, interceptor)
                .max_decoding_message_size(CAMPAIGN_MAX_MESSAGE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clients_connect_lazily_and_refuse_bad_urls() {
        let me = ServiceIdentity::from_settings("test", &Default::default()).unwrap();
        let url = "http://127.0.0.1:1";
        assert!(AuthClient::connect_lazy(url, me.clone()).is_ok());
        assert!(BillingClient::connect_lazy(url, me.clone()).is_ok());
        assert!(ContentClient::connect_lazy(url, me.clone()).is_ok());
        assert!(TaggingClient::connect_lazy(url, me.clone()).is_ok());
        assert!(CampaignClient::connect_lazy(url, me.clone()).is_ok());
        assert!(CampaignClient::connect_lazy("not a url\n", me.clone()).is_err());
        assert!(AuthClient::connect_lazy("not a url\n", me.clone()).is_err());
        // A host name (a headless Service) is balanced over its addresses, resolved in
        // the background: connecting waits for nothing either.
        let host = "http://marquee-auth.marquee.svc.cluster.local:50051";
        assert!(AuthClient::connect_lazy(host, me.clone()).is_ok());
        assert!(ContentClient::connect_lazy(host, me).is_ok());
    }
}
