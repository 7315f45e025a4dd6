//! Tenant membership: registration outside the default tenant needs an invitation
//! (single use, expiring, bound to an e-mail, carrying a role), made and revoked by the
//! tenant's owners and admins.

use super::{ctx, registration, settings, start};
use marquee_auth::domain::invitations::{InvitationStatus, NewInvitation};
use marquee_auth::domain::tenants::NewTenant;
use marquee_auth::domain::users::Registration;
use marquee_auth::error::AuthError;
use marquee_platform::{Principal, PrincipalKind, Role};
use marquee_testkit::Backend;

marquee_testkit::on_both_backends!(
    invitations_admit_once_for_their_email,
    expired_and_revoked_invitations_admit_nobody
);

fn user(subject: &str, tenant_id: &str, roles: &[Role]) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        subject: subject.into(),
        tenant_id: tenant_id.into(),
        roles: roles.to_vec(),
        scopes: vec![],
    }
}

fn invite(email: &str, role: &str, tenant_id: Option<&str>) -> NewInvitation {
    NewInvitation {
        email: email.into(),
        role: role.into(),
        tenant_id: tenant_id.map(str::to_string),
    }
}

fn join(email: &str, tenant_id: Option<&str>, invitation: Option<&str>) -> Registration {
    Registration {
        tenant_id: tenant_id.map(str::to_string),
        invitation: invitation.map(str::to_string),
        ..registration(email)
    }
}

fn refused_with<T>(result: Result<T, AuthError>, expected: &str) {
    match result {
        Err(AuthError::Refused { code, .. }) => assert_eq!(code, expected),
        Err(other) => panic!("expected {expected}, got {other:?}"),
        Ok(_) => panic!("expected {expected}, got a success"),
    }
}

async fn invitations_admit_once_for_their_email(backend: Backend) {
    let (auth, _db) = start(backend, settings()).await;
    let acme = auth
        .create_tenant(
            "admin",
            NewTenant {
                name: "Acme".into(),
                slug: "acme".into(),
                sandbox: false,
            },
            &ctx(),
        )
        .await
        .unwrap();
    let default_id = auth
        .register(registration("someone@example.com"), &ctx())
        .await
        .unwrap()
        .user
        .tenant_id;

    // Without an invitation: the default tenant only, whether named or not; any other
    // id, existing or not, is the same refusal.
    let named_default = auth
        .register(join("named@example.com", Some(&default_id), None), &ctx())
        .await
        .unwrap();
    assert_eq!(named_default.user.roles, [Role::Creator]);
    refused_with(
        auth.register(join("eve@example.com", Some(&acme.id), None), &ctx())
            .await,
        "invitation_required",
    );
    refused_with(
        auth.register(
            join("eve@example.com", Some("no-such-tenant"), None),
            &ctx(),
        )
        .await,
        "invitation_required",
    );

    // An admin (of another tenant) invites Acme's first owner.
    let admin = user("admin", &default_id, &[Role::Admin]);
    let (invitation, token) = auth
        .create_invitation(
            &admin,
            invite(" Olivia@Example.COM ", "owner", Some(&acme.id)),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(invitation.email, "olivia@example.com");
    assert_eq!(invitation.role, Role::Owner);
    assert_eq!(invitation.tenant_id, acme.id);
    assert!(token.starts_with("mqi_") && token.len() > 40, "{token}");
    assert_ne!(invitation.token_hash, token, "only the hash is stored");
    assert_eq!(
        invitation.status(chrono::Utc::now()),
        InvitationStatus::Pending
    );

    // The wrong address, or the right token for another tenant: invalid.
    refused_with(
        auth.register(join("mallory@example.com", None, Some(&token)), &ctx())
            .await,
        "invitation_invalid",
    );
    refused_with(
        auth.register(
            join("olivia@example.com", Some(&default_id), Some(&token)),
            &ctx(),
        )
        .await,
        "invitation_invalid",
    );
    refused_with(
        auth.register(join("olivia@example.com", None, Some("mqi_forged")), &ctx())
            .await,
        "invitation_invalid",
    );
    // The invited address, in another case: in, as an owner, once.
    let owner = auth
        .register(join("OLIVIA@example.com", None, Some(&token)), &ctx())
        .await
        .unwrap();
    assert_eq!(owner.user.tenant_id, acme.id);
    assert_eq!(owner.user.roles, [Role::Creator, Role::Owner]);
    refused_with(
        auth.register(
            join("olivia@example.com", Some(&acme.id), Some(&token)),
            &ctx(),
        )
        .await,
        "invitation_invalid",
    );
    let listed = auth.list_invitations(&admin, Some(&acme.id)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].accepted_by.as_deref(),
        Some(owner.user.id.as_str())
    );
    assert_eq!(
        listed[0].status(chrono::Utc::now()),
        InvitationStatus::Accepted
    );

    // The owner invites a billing admin into Acme (its own tenant only).
    let olivia = user(&owner.user.id, &acme.id, &owner.user.roles);
    let (_, billing_token) = auth
        .create_invitation(
            &olivia,
            invite("bill@example.com", "billing_admin", None),
            &ctx(),
        )
        .await
        .unwrap();
    let elsewhere = auth
        .create_invitation(
            &olivia,
            invite("x@example.com", "creator", Some(&default_id)),
            &ctx(),
        )
        .await;
    assert!(
        matches!(elsewhere, Err(AuthError::NotFound("tenant"))),
        "{elsewhere:?}"
    );
    let admin_role = auth
        .create_invitation(&olivia, invite("x@example.com", "admin", None), &ctx())
        .await;
    assert!(
        matches!(
            admin_role,
            Err(AuthError::Invalid {
                code: "invalid_role",
                ..
            })
        ),
        "no invitation makes an admin"
    );
    // A member is neither an owner nor an admin.
    let bill = auth
        .register(
            join("bill@example.com", Some(&acme.id), Some(&billing_token)),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(bill.user.roles, [Role::Creator, Role::BillingAdmin]);
    let member = user(&bill.user.id, &acme.id, &bill.user.roles);
    assert!(matches!(
        auth.create_invitation(&member, invite("y@example.com", "", None), &ctx())
            .await,
        Err(AuthError::Forbidden(_))
    ));
    assert!(matches!(
        auth.list_invitations(&member, None).await,
        Err(AuthError::Forbidden(_))
    ));
    let owned = auth.list_invitations(&olivia, None).await.unwrap();
    assert_eq!(owned.len(), 2, "the owner sees its tenant's invitations");
    assert!(
        auth.list_invitations(&olivia, Some(&default_id))
            .await
            .is_err(),
        "and no other tenant's"
    );

    // A registration that fails (the address is taken in the tenant) gives the
    // invitation back.
    let (_, again) = auth
        .create_invitation(&olivia, invite("bill@example.com", "creator", None), &ctx())
        .await
        .unwrap();
    let taken = auth
        .register(join("bill@example.com", None, Some(&again)), &ctx())
        .await;
    assert!(
        matches!(taken, Err(AuthError::EmailTaken)),
        "{:?}",
        taken.err()
    );
    let pending = auth.list_invitations(&olivia, None).await.unwrap();
    assert_eq!(
        pending[0].status(chrono::Utc::now()),
        InvitationStatus::Pending
    );
}

async fn expired_and_revoked_invitations_admit_nobody(backend: Backend) {
    let mut short = settings();
    short.invitation_ttl_secs = 1;
    let (auth, _db) = start(backend, short).await;
    let acme = auth
        .create_tenant(
            "admin",
            NewTenant {
                name: "Acme".into(),
                slug: "acme".into(),
                sandbox: false,
            },
            &ctx(),
        )
        .await
        .unwrap();
    let admin = user("admin", "elsewhere", &[Role::Admin]);
    let (expiring, expiring_token) = auth
        .create_invitation(
            &admin,
            invite("late@example.com", "", Some(&acme.id)),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(expiring.role, Role::Creator);
    let (revoked, revoked_token) = auth
        .create_invitation(
            &admin,
            invite("gone@example.com", "moderator", Some(&acme.id)),
            &ctx(),
        )
        .await
        .unwrap();

    let owner = user("olivia", &acme.id, &[Role::Creator, Role::Owner]);
    let stranger = user("oscar", "other-tenant", &[Role::Creator, Role::Owner]);
    assert!(matches!(
        auth.revoke_invitation(&stranger, &revoked.id, &ctx()).await,
        Err(AuthError::NotFound("invitation"))
    ));
    let done = auth
        .revoke_invitation(&owner, &revoked.id, &ctx())
        .await
        .unwrap();
    assert_eq!(done.status(chrono::Utc::now()), InvitationStatus::Revoked);
    // Revoking again changes nothing.
    let again = auth
        .revoke_invitation(&owner, &revoked.id, &ctx())
        .await
        .unwrap();
    assert_eq!(again.status(chrono::Utc::now()), InvitationStatus::Revoked);
    assert!(again.revoked_at.is_some());
    refused_with(
        auth.register(join("gone@example.com", None, Some(&revoked_token)), &ctx())
            .await,
        "invitation_invalid",
    );

    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    refused_with(
        auth.register(
            join("late@example.com", None, Some(&expiring_token)),
            &ctx(),
        )
        .await,
        "invitation_invalid",
    );
    let listed = auth.list_invitations(&owner, None).await.unwrap();
    let statuses: Vec<&str> = listed
        .iter()
        .map(|i| i.status(chrono::Utc::now()).as_str())
        .collect();
    assert_eq!(statuses, ["revoked", "expired"], "newest first");
}
