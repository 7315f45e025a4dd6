//! Internal ports trust nobody unsigned: each service, called directly — as any process
//! that reaches its port could — refuses a missing, plain-metadata, forged or
//! wrong-audience identity with `Unauthenticated`, while the same call signed with the
//! gateway's key for that service goes through.

use super::{Options, spawn_fleet};
use marquee_platform::service_identity::{
    IDENTITY_HEADER, IdentitySettings, ServiceIdentity, generate_key_pair,
};
use marquee_platform::{Principal, PrincipalKind, Role, Scope};
use marquee_proto::auth::v1::{ListTenantsRequest, auth_service_client::AuthServiceClient};
use marquee_proto::billing::v1::{ListPlansRequest, billing_service_client::BillingServiceClient};
use marquee_proto::campaign::v1::{
    ListCampaignsRequest, campaign_service_client::CampaignServiceClient,
};
use marquee_proto::content::v1::{ListAssetsRequest, content_service_client::ContentServiceClient};
use marquee_proto::tagging::v1::{
    GetTaxonomyRequest, tagging_service_client::TaggingServiceClient,
};
use std::net::SocketAddr;
use tonic::metadata::MetadataMap;

fn request<T>(metadata: &MetadataMap, message: T) -> tonic::Request<T> {
    tonic::Request::from_parts(metadata.clone(), Default::default(), message)
}

/// One representative call to service `name` at `addr`, with exactly `metadata`.
async fn call(name: &str, addr: SocketAddr, metadata: MetadataMap) -> tonic::Code {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let result = match name {
        "auth" => AuthServiceClient::new(channel)
            .list_tenants(request(&metadata, ListTenantsRequest {}))
            .await
            .map(drop),
        "content" => ContentServiceClient::new(channel)
            .list_assets(request(&metadata, ListAssetsRequest::default()))
            .await
            .map(drop),
        "billing" => BillingServiceClient::new(channel)
            .list_plans(request(&metadata, ListPlansRequest {}))
            .await
            .map(drop),
        "tagging" => TaggingServiceClient::new(channel)
            .get_taxonomy(request(&metadata, GetTaxonomyRequest {}))
            .await
            .map(drop),
        "campaign" => CampaignServiceClient::new(channel)
            .list_campaigns(request(&metadata, ListCampaignsRequest::default()))
            .await
            .map(drop),
        other => panic!("no call for {other}"),
    };
    result.err().map_or(tonic::Code::Ok, |status| status.code())
}

fn signed(
    identity: &ServiceIdentity,
    audience: &'static str,
    principal: &Principal,
) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    identity.sign(audience, Some(principal), &mut metadata);
    metadata
}

#[tokio::test]
async fn every_internal_port_refuses_forged_identities() {
    let (gateway_key, _) = generate_key_pair();
    let fleet = spawn_fleet(Options {
        gateway: Box::new({
            let key = gateway_key.clone();
            move |gateway| gateway.common.identity.signing_key = Some(key)
        }),
        ..Options::default()
    })
    .await;
    let admin = fleet.admin_token().await;
    let me: serde_json::Value = fleet
        .get_with("/api/v1/auth/me", &admin)
        .await
        .json()
        .await
        .unwrap();
    let principal = Principal {
        kind: PrincipalKind::User,
        subject: me["id"].as_str().unwrap().into(),
        tenant_id: me["tenant_id"].as_str().unwrap().into(),
        roles: vec![Role::Admin, Role::Creator],
        scopes: Scope::ALL.to_vec(),
    };
    let gateway = ServiceIdentity::from_settings(
        "gateway",
        &IdentitySettings {
            signing_key: Some(gateway_key),
            ..Default::default()
        },
    )
    .unwrap();
    // An intruder's own key, claiming to be the gateway.
    let impostor = ServiceIdentity::generate("gateway");

    for &(name, addr) in &fleet.fleet().internal {
        let audience: &'static str = name;
        // What the services used to believe.
        let mut plain = MetadataMap::new();
        for (key, value) in [
            ("x-marquee-subject", principal.subject.as_str()),
            ("x-marquee-tenant", principal.tenant_id.as_str()),
            ("x-marquee-roles", "admin creator"),
            ("x-marquee-principal-kind", "user"),
        ] {
            plain.insert(key, value.parse().unwrap());
        }
        let mut garbage = MetadataMap::new();
        garbage.insert(IDENTITY_HEADER, "not.a.token".parse().unwrap());
        let other_audience = if name == "auth" { "content" } else { "auth" };
        let refused = [
            ("no identity", MetadataMap::new()),
            ("plain x-marquee-* metadata", plain),
            ("a malformed identity", garbage),
            (
                "an identity signed by another key",
                signed(&impostor, audience, &principal),
            ),
            (
                "the gateway's identity for another service",
                signed(&gateway, other_audience, &principal),
            ),
        ];
        for (what, metadata) in refused {
            assert_eq!(
                call(name, addr, metadata).await,
                tonic::Code::Unauthenticated,
                "{name} with {what}"
            );
        }
        // Control: the gateway's real identity for this service is accepted, so the
        // refusals above are about the identity.
        let accepted = call(name, addr, signed(&gateway, audience, &principal)).await;
        assert_ne!(
            accepted,
            tonic::Code::Unauthenticated,
            "{name} with the gateway's identity"
        );
    }
    fleet.stop().await;
}
