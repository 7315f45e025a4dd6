//! Uploads hold quota in billing: a fake `BillingService` (the generated tonic trait,
//! served on a loopback port) keeps counters like billing does, and the real gRPC
//! client talks to it. Reserve/commit on success, release on every failure, nothing
//! for a duplicate, give-back on delete, billing's 402 passed through, 503 when billing
//! cannot be reached.

use crate::{parts, start, user};
use bytes::Bytes;
use futures::TryStreamExt;
use marquee_content::clients::billing::BillingQuota;
use marquee_content::domain::assets::ListQuery;
use marquee_content::domain::upload::{UploadMetadata, UploadPart};
use marquee_content::error::ContentError;
use marquee_content::{Content, ContentSettings};
use marquee_platform::service_identity::{IdentityVerifier, ServiceIdentity};
use marquee_platform::shutdown::CancellationToken;
use marquee_platform::{Error, ErrorKind, Principal};
use marquee_proto::billing::v1 as pb;
use marquee_testkit::{Backend, TestDb};
use object_store::ObjectStore;
use pb::billing_service_server::{BillingService, BillingServiceServer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tonic::{Request, Response, Status};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counter {
    used: u64,
    reserved: u64,
}

#[derive(Default)]
struct State {
    limits: HashMap<String, u64>,
    counters: HashMap<String, Counter>,
    /// id → (limit, amount, state)
    reservations: HashMap<String, (String, u64, &'static str)>,
    /// Calls in order, e.g. "reserve assets 1", "commit", "release", "free storage_bytes 9".
    calls: Vec<String>,
    /// Every call's tenant, from the forwarded principal.
    tenants: Vec<String>,
    fail_commits: bool,
}

#[derive(Clone, Default)]
struct FakeBilling(Arc<Mutex<State>>);

impl FakeBilling {
    fn with_limits(storage: u64, assets: u64) -> Self {
        let fake = Self::default();
        {
            let mut state = fake.0.lock().unwrap();
            state.limits.insert("storage_bytes".into(), storage);
            state.limits.insert("assets".into(), assets);
        }
        fake
    }

    fn counter(&self, limit: &str) -> Counter {
        self.0
            .lock()
            .unwrap()
            .counters
            .get(limit)
            .copied()
            .unwrap_or_default()
    }

    fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().calls.clone()
    }

    fn caller<T>(&self, request: &Request<T>, call: String) -> Result<(), Status> {
        let principal = Principal::from_request(request)?;
        let mut state = self.0.lock().unwrap();
        state.tenants.push(principal.tenant_id);
        state.calls.push(call);
        Ok(())
    }

    fn settle(&self, id: &str, to: &'static str) -> Result<pb::Reservation, Status> {
        let mut state = self.0.lock().unwrap();
        let Some((limit, amount, current)) = state.reservations.get(id).cloned() else {
            return Err(Error::not_found("reservation not found").to_status());
        };
        if current == to {
            // As billing: settling a reservation the same way again changes nothing.
            return Ok(pb::Reservation {
                id: id.to_string(),
                limit,
                amount,
                state: to.into(),
                expires_at: None,
            });
        }
        if current != "held" {
            return Err(Error::new(
                ErrorKind::Conflict,
                "reservation_settled",
                format!("the reservation is already {current}"),
            )
            .to_status());
        }
        let counter = state.counters.entry(limit.clone()).or_default();
        counter.reserved -= amount;
        if to == "committed" {
            counter.used += amount;
        }
        state
            .reservations
            .insert(id.to_string(), (limit.clone(), amount, to));
        Ok(pb::Reservation {
            id: id.to_string(),
            limit,
            amount,
            state: to.into(),
            expires_at: None,
        })
    }
}

fn unimplemented<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("not part of the fake"))
}

#[tonic::async_trait]
impl BillingService for FakeBilling {
    async fn list_plans(
        &self,
        _: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        unimplemented()
    }
    async fn get_subscription(
        &self,
        _: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        unimplemented()
    }
    async fn get_usage(
        &self,
        _: Request<pb::GetUsageRequest>,
    ) -> Result<Response<pb::Usage>, Status> {
        unimplemented()
    }
    async fn create_checkout(
        &self,
        _: Request<pb::CreateCheckoutRequest>,
    ) -> Result<Response<pb::CheckoutSession>, Status> {
        unimplemented()
    }
    async fn create_portal(
        &self,
        _: Request<pb::CreatePortalRequest>,
    ) -> Result<Response<pb::PortalSession>, Status> {
        unimplemented()
    }
    async fn list_invoices(
        &self,
        _: Request<pb::ListInvoicesRequest>,
    ) -> Result<Response<pb::ListInvoicesResponse>, Status> {
        unimplemented()
    }
    async fn report_usage(
        &self,
        _: Request<pb::ReportUsageRequest>,
    ) -> Result<Response<pb::ReportUsageResponse>, Status> {
        unimplemented()
    }
    async fn handle_stripe_webhook(
        &self,
        _: Request<pb::StripeWebhookRequest>,
    ) -> Result<Response<pb::StripeWebhookResponse>, Status> {
        unimplemented()
    }

    async fn check_entitlement(
        &self,
        request: Request<pb::CheckEntitlementRequest>,
    ) -> Result<Response<pb::CheckEntitlementResponse>, Status> {
        let r = request.get_ref().clone();
        self.caller(&request, format!("check {}", r.limit))?;
        let state = self.0.lock().unwrap();
        let limit = state.limits.get(&r.limit).copied().unwrap_or(0);
        let c = state.counters.get(&r.limit).copied().unwrap_or_default();
        let used = c.used + c.reserved;
        Ok(Response::new(pb::CheckEntitlementResponse {
            allowed: used + r.amount <= limit,
            used,
            limit,
            plan: "free".into(),
        }))
    }

    async fn reserve(
        &self,
        request: Request<pb::ReserveRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let r = request.get_ref().clone();
        self.caller(&request, format!("reserve {} {}", r.limit, r.amount))?;
        assert!(!r.idempotency_key.is_empty(), "reservations carry a key");
        assert!(r.ttl_seconds > 0);
        let mut state = self.0.lock().unwrap();
        let limit = state.limits.get(&r.limit).copied().unwrap_or(0);
        let counter = state.counters.entry(r.limit.clone()).or_default();
        if counter.used + counter.reserved + r.amount > limit {
            return Err(Error::new(
                ErrorKind::QuotaExceeded,
                "quota_exceeded",
                format!(
                    "quota exceeded for {}: {} of {limit} used on the free plan, {} more requested",
                    r.limit,
                    counter.used + counter.reserved,
                    r.amount
                ),
            )
            .to_status());
        }
        counter.reserved += r.amount;
        let id = uuid::Uuid::now_v7().to_string();
        state
            .reservations
            .insert(id.clone(), (r.limit.clone(), r.amount, "held"));
        Ok(Response::new(pb::Reservation {
            id,
            limit: r.limit,
            amount: r.amount,
            state: "held".into(),
            expires_at: None,
        }))
    }

    async fn commit(
        &self,
        request: Request<pb::SettleRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        self.caller(&request, "commit".into())?;
        if self.0.lock().unwrap().fail_commits {
            return Err(Status::unavailable("database is down"));
        }
        Ok(Response::new(
            self.settle(&request.get_ref().reservation_id, "committed")?,
        ))
    }

    async fn release(
        &self,
        request: Request<pb::SettleRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        self.caller(&request, "release".into())?;
        Ok(Response::new(
            self.settle(&request.get_ref().reservation_id, "released")?,
        ))
    }

    async fn free_usage(
        &self,
        request: Request<pb::FreeUsageRequest>,
    ) -> Result<Response<pb::FreeUsageResponse>, Status> {
        let r = request.get_ref().clone();
        self.caller(&request, format!("free {} {}", r.limit, r.amount))?;
        let mut state = self.0.lock().unwrap();
        let counter = state.counters.entry(r.limit).or_default();
        counter.used = counter.used.saturating_sub(r.amount);
        Ok(Response::new(pb::FreeUsageResponse {}))
    }
}

struct Served {
    url: String,
    /// Content's identity, which the fake billing accepts calls from.
    content: ServiceIdentity,
    shutdown: CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve(fake: FakeBilling) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let content = ServiceIdentity::generate("content");
    let verifier = IdentityVerifier::trusting("billing", &[&content]);
    let router =
        marquee_platform::grpc::server(marquee_platform::grpc::SERVER_DEADLINE, &[], verifier)
            .add_service(BillingServiceServer::new(fake));
    tokio::spawn(marquee_platform::grpc::serve(
        router,
        listener,
        shutdown.clone(),
    ));
    Served {
        url,
        content,
        shutdown,
    }
}

async fn metered(fake: &FakeBilling) -> (Content, TestDb, Served) {
    let served = serve(fake.clone()).await;
    let (content, guard) = start(Backend::Sqlite, |_: &mut ContentSettings| {}).await;
    let content = content.with_quota(Arc::new(
        BillingQuota::connect_lazy(&served.url, served.content.clone()).unwrap(),
    ));
    (content, guard, served)
}

fn problem(error: ContentError) -> Error {
    Error::from(error)
}

async fn object_count(content: &Content) -> usize {
    content
        .objects()
        .list(None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len()
}

async fn asset_count(content: &Content, caller: &Principal) -> usize {
    content
        .list_assets(caller, ListQuery::default())
        .await
        .unwrap()
        .0
        .len()
}

fn text(seed: &str, len: usize) -> Vec<u8> {
    seed.bytes().cycle().take(len).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_reserve_commit_and_deletes_give_back() {
    let fake = FakeBilling::with_limits(1000, 5);
    let (content, _guard, _served) = metered(&fake).await;
    let ada = user("t1", "ada", &["creator"]);

    let first = content
        .upload(&ada, parts("Notes", &text("hello ", 300), 64))
        .await
        .unwrap();
    assert!(!first.deduplicated);
    let storage = fake.counter("storage_bytes");
    assert_eq!(
        storage,
        Counter {
            used: 300,
            reserved: 0
        }
    );
    assert_eq!(
        fake.counter("assets"),
        Counter {
            used: 1,
            reserved: 0
        }
    );
    assert_eq!(
        fake.calls(),
        [
            "reserve assets 1",
            "check storage_bytes",
            "reserve storage_bytes 300",
            "commit",
            "commit"
        ]
    );
    assert!(
        fake.0.lock().unwrap().tenants.iter().all(|t| t == "t1"),
        "the caller's principal is forwarded"
    );

    // The same bytes again: the existing asset, nothing more counted, the hold released.
    let again = content
        .upload(&ada, parts("Again", &text("hello ", 300), 100))
        .await
        .unwrap();
    assert!(again.deduplicated);
    assert_eq!(
        fake.counter("storage_bytes"),
        Counter {
            used: 300,
            reserved: 0
        }
    );
    assert_eq!(
        fake.counter("assets"),
        Counter {
            used: 1,
            reserved: 0
        }
    );
    assert_eq!(fake.calls().last().unwrap(), "release");
    assert_eq!(
        object_count(&content).await,
        1,
        "the duplicate copy is gone"
    );

    // Deleting gives the bytes and the count back.
    content.delete_asset(&ada, &first.asset.id).await.unwrap();
    assert_eq!(fake.counter("storage_bytes"), Counter::default());
    assert_eq!(fake.counter("assets"), Counter::default());
    let calls = fake.calls();
    assert_eq!(
        &calls[calls.len() - 2..],
        ["free storage_bytes 300", "free assets 1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_quota_and_failed_uploads_cost_nothing() {
    let fake = FakeBilling::with_limits(20_000, 2);
    let (content, _guard, _served) = metered(&fake).await;
    let ada = user("t1", "ada", &["creator"]);

    // A stream that breaks after the type check releases its hold and stores nothing.
    let broken = futures::stream::iter(vec![
        Ok(UploadPart::Metadata(UploadMetadata {
            title: "Broken".into(),
            ..Default::default()
        })),
        Ok(UploadPart::Data(Bytes::from(text("broken ", 9000)))),
        Ok(UploadPart::Data(Bytes::from(text("more ", 1000)))),
        Err(ContentError::invalid(
            "upload_interrupted",
            "the stream broke",
        )),
    ]);
    let error = content.upload(&ada, Box::pin(broken)).await.unwrap_err();
    assert!(matches!(
        error,
        ContentError::Invalid {
            code: "upload_interrupted",
            ..
        }
    ));
    assert_eq!(
        fake.calls(),
        ["reserve assets 1", "check storage_bytes", "release"]
    );
    assert_eq!(fake.counter("assets"), Counter::default());
    assert_eq!(fake.counter("storage_bytes"), Counter::default());
    assert_eq!(object_count(&content).await, 0);

    content
        .upload(&ada, parts("Small", &text("abc ", 12_000), 1024))
        .await
        .unwrap();

    // 12,000 of 20,000 used: a 9,000-byte upload stops at the cap with billing's 402.
    let error = problem(
        content
            .upload(&ada, parts("Big", &text("xyz ", 9_000), 1024))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::QuotaExceeded);
    assert_eq!(error.code, "quota_exceeded");
    assert_eq!(error.status().as_u16(), 402);
    assert!(error.message.contains("storage_bytes"), "{}", error.message);
    assert_eq!(
        fake.counter("storage_bytes"),
        Counter {
            used: 12_000,
            reserved: 0
        }
    );
    assert_eq!(
        fake.counter("assets"),
        Counter {
            used: 1,
            reserved: 0
        }
    );
    assert_eq!(fake.calls().last().unwrap(), "release");
    assert_eq!(object_count(&content).await, 1);

    // The same 12,000 bytes again pass the 8,000 left: a duplicate costs nothing.
    let again = content
        .upload(&ada, parts("Again", &text("abc ", 12_000), 1024))
        .await
        .unwrap();
    assert!(again.deduplicated);
    assert_eq!(
        fake.counter("assets"),
        Counter {
            used: 1,
            reserved: 0
        }
    );
    assert_eq!(object_count(&content).await, 1);

    // Billing failing the commit: the asset is stored all the same (its row and the
    // `asset.holds` event commit together), its holds stay held — they count against the
    // plan — and the quota worker's commit bills them once billing answers.
    fake.0.lock().unwrap().fail_commits = true;
    let fits = content
        .upload(&ada, parts("Fits", &text("fits ", 200), 64))
        .await
        .unwrap();
    assert!(!fits.deduplicated);
    assert_eq!(
        fake.counter("assets"),
        Counter {
            used: 1,
            reserved: 1
        }
    );
    assert_eq!(asset_count(&content, &ada).await, 2);
    fake.0.lock().unwrap().fail_commits = false;
    let holds = outbox_holds(&content, &fits.asset.id).await;
    assert_eq!(holds.reservation_ids.len(), 2, "the asset and its bytes");
    for _ in 0..2 {
        // Delivered twice (at least once): the second commit is a no-op.
        content
            .commit_upload_holds("t1", "ada", &fits.asset.id, &holds.reservation_ids)
            .await
            .unwrap();
    }
    assert_eq!(
        fake.counter("assets"),
        Counter {
            used: 2,
            reserved: 0
        }
    );
    assert_eq!(
        fake.counter("storage_bytes"),
        Counter {
            used: 12_200,
            reserved: 0
        }
    );
    content.delete_asset(&ada, &fits.asset.id).await.unwrap();

    // The asset count is a limit too: the second asset fits, the third does not.
    content
        .upload(&ada, parts("Second", &text("two ", 100), 64))
        .await
        .unwrap();
    let error = problem(
        content
            .upload(&ada, parts("Third", &text("three ", 10), 64))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.code, "quota_exceeded");
    assert!(error.message.contains("assets"), "{}", error.message);
    assert_eq!(
        fake.counter("assets"),
        Counter {
            used: 2,
            reserved: 0
        }
    );
    assert_eq!(
        fake.counter("storage_bytes"),
        Counter {
            used: 12_100,
            reserved: 0
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_unreachable_refuses_uploads_but_not_deletes() {
    // A port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let (unmetered, _guard) = start(Backend::Sqlite, |_| {}).await;
    let ada = user("t1", "ada", &["creator"]);
    let kept = unmetered
        .upload(&ada, parts("Before", &text("kept ", 50), 64))
        .await
        .unwrap();
    let content = unmetered.with_quota(Arc::new(
        BillingQuota::connect_lazy(&closed, ServiceIdentity::generate("content")).unwrap(),
    ));

    let error = problem(
        content
            .upload(&ada, parts("Notes", &text("hello ", 300), 64))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Unavailable);
    assert_eq!(error.code, "unavailable");
    assert_eq!(error.status().as_u16(), 503);
    assert_eq!(object_count(&content).await, 1, "nothing stored");

    // A delete never waits on billing inside its transaction: it commits, and the
    // quota comes back later (the `asset.deleted` consumer retries with the same keys).
    content.delete_asset(&ada, &kept.asset.id).await.unwrap();
    assert_eq!(asset_count(&content, &ada).await, 0, "the asset is gone");
    // Deleting it again is a clean 404, not a second give-back.
    let error = problem(
        content
            .delete_asset(&ada, &kept.asset.id)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.status().as_u16(), 404);
}

/// The `asset.holds` event the upload of `asset_id` put in the outbox.
async fn outbox_holds(content: &Content, asset_id: &str) -> marquee_proto::events::v1::AssetHolds {
    use sea_orm::EntityTrait;
    let rows = marquee_bus::outbox::entity::Entity::find()
        .all(content.db())
        .await
        .unwrap();
    rows.iter()
        .filter(|row| row.event_type == marquee_proto::events::types::ASSET_HOLDS)
        .map(|row| {
            let envelope: marquee_bus::Envelope =
                prost::Message::decode(row.envelope.as_slice()).unwrap();
            marquee_bus::envelope::unpack::<marquee_proto::events::v1::AssetHolds>(
                &envelope,
                "marquee.events.v1.AssetHolds",
            )
            .unwrap()
        })
        .find(|holds| holds.asset_id == asset_id)
        .expect("an asset.holds event for the upload")
}
