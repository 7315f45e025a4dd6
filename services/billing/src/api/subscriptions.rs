//! gRPC handlers of subscriptions: the current subscription, checkout, the customer
//! portal and invoices. Called from the `BillingService` impl in `mod.rs`.

use super::convert;
use crate::domain::Billing;
use crate::domain::subscriptions::CheckoutInput;
use marquee_platform::{Error, Principal, PrincipalKind, Role};
use marquee_proto::billing::v1 as pb;
use marquee_proto::convert::non_empty_str;
use tonic::{Request, Response, Status};

pub(super) async fn get(
    billing: &Billing,
    request: Request<pb::GetSubscriptionRequest>,
) -> Result<Response<pb::Subscription>, Status> {
    let caller = Principal::from_request(&request)?;
    let view = billing.subscription(&caller.tenant_id).await?;
    Ok(Response::new(convert::subscription(view)))
}

/// Whoever changes what the tenant pays: a user holding a role that grants
/// `billing_admin` (the tenant's billing admins and owners, and admins). A subscription
/// is the whole tenant's, so a plain member may not. The gateway's route policy says
/// the same; this is the second line.
fn billing_manager<T>(request: &Request<T>) -> Result<Principal, Status> {
    let caller = Principal::from_request(request)?;
    may_manage_billing(&caller)?;
    Ok(caller)
}

fn may_manage_billing(caller: &Principal) -> Result<(), Status> {
    if caller.kind != PrincipalKind::User || !caller.acts_as(Role::BillingAdmin) {
        return Err(Error::forbidden(
            "forbidden",
            "changing the tenant's plan or billing needs the billing_admin, owner or admin role",
        )
        .to_status());
    }
    Ok(())
}

pub(super) async fn checkout(
    billing: &Billing,
    request: Request<pb::CreateCheckoutRequest>,
) -> Result<Response<pb::CheckoutSession>, Status> {
    let caller = billing_manager(&request)?;
    let r = request.into_inner();
    let checkout = billing
        .checkout(
            &caller.tenant_id,
            &caller.subject,
            &CheckoutInput {
                plan: &r.plan,
                email: &r.email,
                success_url: non_empty_str(&r.success_url),
                cancel_url: non_empty_str(&r.cancel_url),
                idempotency_key: non_empty_str(&r.idempotency_key),
            },
        )
        .await?;
    Ok(Response::new(pb::CheckoutSession {
        provider: billing.provider().as_str().into(),
        url: checkout.url.unwrap_or_default(),
        session_id: checkout.session_id.unwrap_or_default(),
        subscription: Some(convert::subscription(checkout.subscription)),
    }))
}

pub(super) async fn portal(
    billing: &Billing,
    request: Request<pb::CreatePortalRequest>,
) -> Result<Response<pb::PortalSession>, Status> {
    let caller = billing_manager(&request)?;
    let r = request.into_inner();
    let url = billing
        .portal(
            &caller.tenant_id,
            non_empty_str(&r.return_url),
            non_empty_str(&r.idempotency_key),
        )
        .await?;
    Ok(Response::new(pb::PortalSession { url }))
}

pub(super) async fn invoices(
    billing: &Billing,
    request: Request<pb::ListInvoicesRequest>,
) -> Result<Response<pb::ListInvoicesResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let limit = request.get_ref().limit;
    let invoices = billing.invoices(&caller.tenant_id, limit).await?;
    Ok(Response::new(pb::ListInvoicesResponse {
        invoices: invoices.into_iter().map(convert::invoice).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_platform::Scope;

    fn caller(kind: PrincipalKind, roles: &[Role]) -> Principal {
        Principal {
            kind,
            subject: "u1".into(),
            tenant_id: "t1".into(),
            roles: roles.to_vec(),
            scopes: Scope::ALL.to_vec(),
        }
    }

    #[test]
    fn only_owners_billing_admins_and_admins_manage_billing() {
        for roles in [
            &[Role::Creator, Role::Owner][..],
            &[Role::Creator, Role::BillingAdmin],
            &[Role::Admin],
        ] {
            assert!(
                may_manage_billing(&caller(PrincipalKind::User, roles)).is_ok(),
                "{roles:?}"
            );
        }
        for roles in [&[Role::Creator][..], &[Role::Creator, Role::Moderator], &[]] {
            let status = may_manage_billing(&caller(PrincipalKind::User, roles)).unwrap_err();
            assert_eq!(status.code(), tonic::Code::PermissionDenied, "{roles:?}");
        }
        let client = may_manage_billing(&caller(PrincipalKind::Client, &[Role::Owner]));
        assert!(client.is_err(), "partner clients never change the plan");
        assert!(billing_manager(&Request::new(())).is_err(), "nobody's call");
    }
}
