//! gRPC handlers of connectors. The secret goes in; nothing sends it back.

use super::{convert, id};
use crate::domain::Studio;
use crate::domain::connectors::NewConnector;
use marquee_platform::{Principal, SecretString};
use marquee_proto::campaign::v1 as pb;
use tonic::{Request, Response, Status};

pub(super) async fn create(
    studio: &Studio,
    request: Request<pb::CreateConnectorRequest>,
) -> Result<Response<pb::Connector>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    let connector = studio
        .create_connector(
            &caller,
            NewConnector {
                kind: m.kind,
                name: m.name,
                platforms: m.platforms,
                endpoint: m.endpoint,
                account: m.account,
                secret: SecretString::from(m.secret),
            },
        )
        .await?;
    Ok(Response::new(convert::connector(&connector)))
}

pub(super) async fn list(
    studio: &Studio,
    request: Request<pb::ListConnectorsRequest>,
) -> Result<Response<pb::ListConnectorsResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let connectors = studio.connectors(&caller).await?;
    Ok(Response::new(pb::ListConnectorsResponse {
        connectors: connectors.iter().map(convert::connector).collect(),
    }))
}

pub(super) async fn delete(
    studio: &Studio,
    request: Request<pb::DeleteConnectorRequest>,
) -> Result<Response<pb::DeleteConnectorResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("id", &m.id)?;
    studio.delete_connector(&caller, &m.id).await?;
    Ok(Response::new(pb::DeleteConnectorResponse {}))
}
