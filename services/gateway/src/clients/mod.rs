//! The services the gateway calls, on the shared clients of `marquee_clients`: one
//! lazily connected, multiplexed HTTP/2 channel each, signing the gateway's identity for
//! the callee and sending the current W3C trace context on every call. Failures come back as `tonic::Status` and turn into the
//! platform error with `?`.
//!
//! Requests are built with the platform's builders:
//! - unary calls: [`for_caller`] (on behalf of the verified principal) or [`anonymous`]
//!   (register, login, token grant, JWKS, webhooks), both with the
//!   [`UNARY_DEADLINE`](marquee_platform::grpc::UNARY_DEADLINE);
//! - streaming calls (content's `UploadAsset` and `GetAssetContent`): [`stream_for_caller`],
//!   or [`stream_anonymous`] for signed downloads; no overall deadline, as uploads and
//!   downloads last as long as their bytes keep coming.
//!
//! What only the gateway does with auth (auditing denials, its JWKS source) is in
//! [`auth`]; with tagging (recording views without waiting), in [`tagging`].

pub mod auth;
pub mod tagging;

pub use marquee_clients::{
    AuthClient, AuthGrpc, BillingClient, BillingGrpc, ContentClient, ContentGrpc, TaggingClient,
    TaggingGrpc,
};
pub use marquee_platform::grpc::{anonymous, for_caller, stream_anonymous, stream_for_caller};

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_platform::{Principal, PrincipalKind};

    #[test]
    fn unary_requests_carry_a_deadline_and_streams_do_not() {
        let caller = Principal {
            kind: PrincipalKind::User,
            subject: "u1".into(),
            tenant_id: "t1".into(),
            roles: vec![marquee_platform::Role::Creator],
            scopes: vec![],
        };
        let timeout =
            |request: &tonic::Request<()>| request.metadata().get("grpc-timeout").is_some();
        assert!(timeout(&for_caller(&caller, ())));
        assert!(timeout(&anonymous(())));
        assert!(!timeout(&stream_for_caller(&caller, ())));
        assert!(!timeout(&stream_anonymous(())));
    }
}
