//! What only the gateway does with tagging: telling it, without waiting, that a user
//! read an asset (a signal for recommendations and popularity).

use crate::clients::{TaggingClient, for_caller};
use marquee_platform::{Principal, PrincipalKind};
use marquee_proto::tagging::v1::RecordViewRequest;

/// Records that `principal` read `asset_id`, on its own task: the answer the caller is
/// waiting for is neither delayed nor failed by it. Users only (a partner client's
/// reads are not a person's taste). The call has the unary deadline; a failure is
/// logged at debug and otherwise forgotten (a missed view only weakens a signal).
pub fn record_view(tagging: &TaggingClient, principal: &Principal, asset_id: &str) {
    if principal.kind != PrincipalKind::User {
        return;
    }
    let request = for_caller(
        principal,
        RecordViewRequest {
            asset_id: asset_id.to_string(),
        },
    );
    let mut client = tagging.grpc();
    let span = tracing::Span::current();
    tokio::spawn(tracing::Instrument::instrument(
        async move {
            if let Err(status) = client.record_view(request).await {
                tracing::debug!(code = ?status.code(), message = status.message(), "could not record a view");
            }
        },
        span,
    ));
}
