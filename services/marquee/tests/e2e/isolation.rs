//! Isolation, generated from the gateway's route table (`POLICIES`): every route with an
//! id in its path is called with the ids of one creator's resources (an asset, a comment on
//! it, a campaign with its posts, job, template and connector…) by a user of another tenant
//! holding the role the route needs, and by another plain user of the same tenant. Each
//! answers as [`expected`] says: 404 where the resource is not the caller's to see, 403
//! where it is visible but not the caller's to change, the public answer where it is public.
//! A route with an id missing from [`expected`] fails the test, so a new route cannot be
//! forgotten. The valid requests come from the hostile-input test's cases (one valid body
//! per write route). On the embedded SQLite default and on PostgreSQL.

use super::hostile_input::{self, Body, Ids, Request};
use super::{Options, TestFleet, spawn_fleet};
use marquee_gateway::policy::{Access, POLICIES, RoutePolicy};
use marquee_platform::Role;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_with_an_id_keeps_tenants_and_owners_apart_on_sqlite() {
    run(Options::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_with_an_id_keeps_tenants_and_owners_apart_on_postgres() {
    run(Options {
        postgres: true,
        ..Default::default()
    })
    .await;
}

/// What a caller who does not own the resource gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 404: the resource does not exist for this caller.
    NotFound,
    /// 403: visible, but not this caller's to change.
    Forbidden,
    /// 2xx: public to this caller (an approved asset, a profile, a comment).
    Public,
    /// Not an isolation question, and why.
    NotChecked(&'static str),
}

use Answer::{Forbidden, NotChecked, NotFound, Public};

const PLATFORM_ADMIN: Answer = NotChecked(
    "platform admins act on every tenant by design; anyone else gets 403 from the policy (policy::tests)",
);
const MODERATION: Answer = NotChecked(
    "moderators act on their own tenant's content; anyone else gets 403 from the policy",
);
const SIGNED: Answer =
    NotChecked("no token: the URL's signature is the authorization (content.rs: signed_urls_*)");

/// (a user of another tenant, another user of the same tenant) for each route with an id.
fn expected(method: &str, pattern: &str) -> Option<(Answer, Answer)> {
    let route = pattern.strip_prefix("/api/v1")?;
    Some(match (method, route) {
        (_, r) if r.starts_with("/admin/") => (PLATFORM_ADMIN, PLATFORM_ADMIN),
        ("DELETE", "/tenant/invitations/{id}") => (
            NotFound,
            NotChecked("a tenant's owners manage its invitations together; members get 403"),
        ),
        // Assets: an approved asset is public in its tenant; only its owner changes it.
        ("GET", "/assets/{id}" | "/assets/{id}/content" | "/assets/{id}/tags")
        | ("GET", "/assets/{id}/similar" | "/assets/{id}/comments")
        | ("POST", "/assets/{id}/signed-url") => (NotFound, Public),
        ("PATCH" | "DELETE", "/assets/{id}")
        | ("POST", "/assets/{id}/retry")
        | ("PUT", "/assets/{id}/tags") => (NotFound, Forbidden),
        ("GET", "/assets/{id}/content/signed") => (SIGNED, SIGNED),
        ("POST", "/assets/{id}/comments") => (
            NotFound,
            NotChecked("commenting on an approved asset is open to its tenant"),
        ),
        (_, r) if r.starts_with("/moderation/") => (NotFound, MODERATION),
        // Community: profiles and comments are public in their tenant.
        ("GET", "/creators/{id}" | "/creators/{id}/followers" | "/creators/{id}/following")
        | ("GET", "/comments/{id}") => (NotFound, Public),
        (_, "/creators/{id}/follow") => (
            NotFound,
            NotChecked("following another creator is what the route is for"),
        ),
        ("POST", "/comments/{id}/report") => (
            NotFound,
            NotChecked("reporting another's comment is what the route is for"),
        ),
        ("DELETE", "/comments/{id}") => (NotFound, Forbidden),
        // The campaign studio: a campaign, its posts, jobs, private templates and
        // connectors are their owner's (and a tenant admin's) only.
        (_, r)
            if r.starts_with("/campaigns/")
                || r.starts_with("/campaign-templates/")
                || r.starts_with("/jobs/")
                || r.starts_with("/connectors/") =>
        {
            (NotFound, NotFound)
        }
        _ => return None,
    })
}

/// The users who try: a user of another tenant with each role a route may need, and a
/// plain creator of the owner's tenant.
struct Intruders {
    outsider_owner: String,
    outsider_moderator: String,
    peer: String,
}

async fn intruders(fleet: &TestFleet) -> Intruders {
    let (tenant_id, owner) = fleet
        .tenant_with_owner("isolation-other", "owner@other.test")
        .await;
    let admin = fleet.admin_token().await;
    let invitation = fleet
        .invite(&admin, &tenant_id, "moderator@other.test", "moderator")
        .await;
    let moderator = fleet
        .post(
            "/api/v1/auth/register",
            serde_json::json!({
                "email": "moderator@other.test", "password": super::PASSWORD,
                "tenant_id": tenant_id, "invitation": invitation["token"],
            }),
        )
        .await;
    assert_eq!(moderator.status(), StatusCode::CREATED);
    let moderator: Value = moderator.json().await.unwrap();
    let peer = fleet.register("peer@isolation.test").await;
    let token = |session: &Value| session["access_token"].as_str().unwrap().to_string();
    Intruders {
        outsider_owner: token(&owner),
        outsider_moderator: token(&moderator),
        peer: token(&peer),
    }
}

/// The resource of `ids` a read route names.
fn read_request(pattern: &str, ids: &Ids) -> Request {
    let id = [
        ("/oauth-clients/", &ids.client),
        ("/users/", &ids.other_id),
        ("/tenants/", &ids.tenant),
        ("/invitations/", &ids.invitation),
        ("/assets/", &ids.asset),
        ("/creators/", &ids.other_id),
        ("/comments/", &ids.comment),
        ("/campaign-templates/", &ids.template),
        ("/campaigns/", &ids.campaign),
        ("/jobs/", &ids.job),
        ("/connectors/", &ids.connector),
    ]
    .into_iter()
    .find(|(segment, _)| pattern.contains(segment))
    .map(|(_, id)| id.clone())
    .unwrap_or_else(|| panic!("{pattern}: which resource does its id name?"));
    Request {
        token: None,
        id: Some(id),
        post_id: pattern.contains("{post_id}").then(|| ids.post.clone()),
        body: Body::None,
    }
}

fn role_of(policy: &RoutePolicy) -> Option<Role> {
    match policy.access {
        Access::Token { role, .. } => role,
        Access::Public => None,
    }
}

fn answers(status: StatusCode, expected: Answer) -> bool {
    match expected {
        NotFound => status == StatusCode::NOT_FOUND,
        Forbidden => status == StatusCode::FORBIDDEN,
        Public => status.is_success(),
        NotChecked(_) => true,
    }
}

async fn run(options: Options) {
    let fleet = spawn_fleet(hostile_input::unthrottled(options)).await;
    let ids = hostile_input::setup(&fleet).await;
    let intruders = intruders(&fleet).await;
    let cases = hostile_input::cases(&ids, "isolation");

    let with_ids: Vec<&RoutePolicy> = POLICIES
        .iter()
        .filter(|p| p.pattern.contains('{'))
        .collect();
    let missing: Vec<String> = with_ids
        .iter()
        .filter(|p| expected(p.method, p.pattern).is_none())
        .map(|p| format!("{} {}", p.method, p.pattern))
        .collect();
    assert!(
        missing.is_empty(),
        "routes with an id and no isolation expectation: {missing:?}"
    );

    // Reads first, then writes, deletions last: a write that wrongly succeeded must not
    // hide what the routes after it would answer.
    let mut ordered = with_ids.clone();
    ordered.sort_by_key(|p| match p.method {
        "GET" => 0,
        "DELETE" => 2,
        _ => 1,
    });
    let mut checked = 0;
    let mut failures = Vec::new();
    for policy in ordered {
        let (cross, same) = expected(policy.method, policy.pattern).unwrap();
        let base = if policy.method == "GET" {
            read_request(policy.pattern, &ids)
        } else {
            let (_, _, _, make) = cases
                .iter()
                .find(|(m, p, _, _)| *m == policy.method && *p == policy.pattern)
                .unwrap_or_else(|| {
                    panic!("no valid request for {} {}", policy.method, policy.pattern)
                });
            make(0)
        };
        // The control: the ids are real — their owner reads what others may not.
        if policy.method == "GET" && !matches!(cross, NotChecked(_)) {
            let own = Request {
                token: Some(ids.creator.clone()),
                ..base.clone()
            };
            let status = hostile_input::send(&fleet, "GET", policy.pattern, &own).await;
            if !status.is_success() {
                failures.push(format!("GET {} by its owner: {status}", policy.pattern));
            }
        }
        let outsider = match role_of(policy) {
            Some(Role::Moderator) => &intruders.outsider_moderator,
            _ => &intruders.outsider_owner,
        };
        for (who, token, answer) in [
            ("another tenant's user", outsider, cross),
            ("another user of the tenant", &intruders.peer, same),
        ] {
            if let NotChecked(_) = answer {
                continue;
            }
            let request = Request {
                token: Some(token.clone()),
                ..base.clone()
            };
            let status = hostile_input::send(&fleet, policy.method, policy.pattern, &request).await;
            checked += 1;
            if std::env::var_os("ISOLATION_TRACE").is_some() {
                eprintln!("{} {} by {who}: {status}", policy.method, policy.pattern);
            }
            if !answers(status, answer) {
                failures.push(format!(
                    "{} {} by {who}: {status}, expected {answer:?}",
                    policy.method, policy.pattern
                ));
            }
        }
    }
    assert!(checked > 50, "only {checked} calls were checked");
    assert!(
        failures.is_empty(),
        "isolation broken:\n{}",
        failures.join("\n")
    );
    fleet.stop().await;
}
