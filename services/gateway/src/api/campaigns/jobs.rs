//! Jobs: read one, cancel one, or follow one as Server-Sent Events.
//!
//! `GET /api/v1/jobs/{id}/events` relays the campaign service's `WatchJob` stream (the
//! job now, then every change): each job is one `event: job` whose `data` is the job's
//! JSON, as `GET /api/v1/jobs/{id}` answers it; a comment (`: keep-alive`) goes out every
//! [`KEEP_ALIVE`] so proxies keep the connection open and a client that left is noticed;
//! the stream ends after the job's final state. A failure once the stream has started
//! (the service went away) is one `event: error` carrying the problem, then the end.
//! When the client disconnects, actix drops the body and with it the gRPC stream, which
//! tells the service to stop watching.

use super::{JobBody, is_final};
use crate::AppState;
use crate::clients::{for_caller, stream_for_caller};
use crate::policy::Authenticated;
use crate::request_id::RequestContext;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use futures::{Stream, StreamExt};
use marquee_platform::{Error, Problem};
use marquee_proto::campaign::v1 as pb;
use std::convert::Infallible;
use std::time::Duration;
use utoipa::ToSchema;

/// One server-sent event of a job's stream, as a client's event-stream parser sees it
/// (keep-alive comments carry no event).
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct JobEventBody {
    /// `job` (a change of the job) or `error` (the stream broke on our side).
    #[schema(example = "job")]
    pub event: JobEventKind,
    /// For `job`: the job as JSON, as `GET /api/v1/jobs/{id}` answers it; for `error`:
    /// a problem as JSON.
    #[schema(
        example = "{\"id\":\"0193a1c4-2e3f-7a40-9b5c-6d7e8f9a0b1c\",\"state\":\"running\",\"progress\":40}"
    )]
    pub data: String,
}

#[derive(Debug, Clone, Copy, serde::Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobEventKind {
    Job,
    Error,
}

impl JobEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Job => "job",
            Self::Error => "error",
        }
    }
}

/// How often a quiet event stream sends a comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The content type of an event stream.
pub const EVENT_STREAM: &str = "text/event-stream";
/// The comment that keeps a quiet stream open.
pub const KEEP_ALIVE_FRAME: &[u8] = b": keep-alive\n\n";

/// One event of the stream: `event: <name>`, the JSON on one `data:` line, a blank line.
pub fn frame(event: JobEventKind, data: &impl serde::Serialize) -> web::Bytes {
    let event = event.as_str();
    // Compact JSON has no line breaks (they would end the `data:` field): strings escape
    // theirs.
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".to_string());
    web::Bytes::from(format!("event: {event}\ndata: {json}\n\n"))
}

/// The event stream of a job: each job from `jobs` as an `event: job`, a keep-alive
/// comment whenever `keep_alive` passes, an `event: error` (the problem, with
/// `request_id`) if `jobs` fails; it ends after the job's final state or when `jobs`
/// ends. Dropping it drops `jobs`.
pub fn event_stream<S>(
    jobs: S,
    keep_alive: Duration,
    request_id: Option<String>,
) -> impl Stream<Item = Result<web::Bytes, Infallible>> + 'static
where
    S: Stream<Item = Result<pb::Job, tonic::Status>> + Unpin + 'static,
{
    struct Watch<S> {
        jobs: S,
        ticks: tokio::time::Interval,
        request_id: Option<String>,
        done: bool,
    }
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let watch = Watch {
        jobs,
        ticks,
        request_id,
        done: false,
    };
    futures::stream::unfold(watch, |mut watch| async move {
        if watch.done {
            return None;
        }
        let frame = tokio::select! {
            next = watch.jobs.next() => match next {
                Some(Ok(job)) => {
                    let job = JobBody::from(job);
                    watch.done = is_final(&job.state);
                    frame(JobEventKind::Job, &job)
                }
                Some(Err(status)) => {
                    watch.done = true;
                    frame(JobEventKind::Error, &Error::from_status(&status).problem(watch.request_id.clone()))
                }
                None => return None,
            },
            _ = watch.ticks.tick() => web::Bytes::from_static(KEEP_ALIVE_FRAME),
        };
        Some((Ok(frame), watch))
    })
}

/// A job
///
/// An analysis, a writing of posts, a rewrite, a picture or a video: its state and
/// progress. Yours (or, for a tenant admin, any in the tenant); 404 otherwise.
#[utoipa::path(
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = JobBody)),
)]
#[get("/api/v1/jobs/{id}")]
pub async fn get_job(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let job = state
        .campaign
        .grpc()
        .get_job(for_caller(
            caller.principal(),
            pb::GetJobRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(JobBody::from(job)))
}

/// Cancel a job
///
/// A queued job is cancelled at once; a running one stops at its next step (what it
/// had reserved of your plan is given back). Answers the job as it is now; a job that
/// has already ended is answered unchanged.
#[utoipa::path(
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = JobBody)),
)]
#[post("/api/v1/jobs/{id}/cancel")]
pub async fn cancel_job(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let job = state
        .campaign
        .grpc()
        .cancel_job(for_caller(
            caller.principal(),
            pb::GetJobRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(JobBody::from(job)))
}

/// Follow a job
///
/// Server-Sent Events (`text/event-stream`): the job now, then every change, each as
///
/// ```text
/// event: job
/// data: {"id": "…", "state": "running", "progress": 40, …}
/// ```
///
/// (`data` is the job as `GET /api/v1/jobs/{id}` answers it). The stream ends after the
/// job's final state (`succeeded`, `failed` or `cancelled`). A comment line
/// (`: keep-alive`) comes every 15 seconds while nothing changes. Should the stream
/// break on our side once started, it ends with `event: error` whose `data` is the
/// problem. Errors before it starts (no such job: 404) are ordinary problems.
#[utoipa::path(
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job's events, until it ends", content_type = "text/event-stream", body = JobEventBody),
        (status = 404, description = "No such job (`not_found`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/api/v1/jobs/{id}/events")]
pub async fn job_events(
    state: web::Data<AppState>,
    caller: Authenticated,
    context: RequestContext,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    // A server stream: no overall deadline, it lasts as long as the job runs (the
    // service bounds a watch's length).
    let jobs = state
        .campaign
        .grpc()
        .watch_job(stream_for_caller(
            caller.principal(),
            pb::GetJobRequest {
                id: id.into_inner(),
            },
        ))
        .await?
        .into_inner();
    let request_id = Some(context.request_id.to_string());
    Ok(HttpResponse::Ok()
        .content_type(EVENT_STREAM)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Proxies that buffer (nginx) pass events on as they come.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(event_stream(jobs, KEEP_ALIVE, request_id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_platform::ErrorKind;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn job(state: &str, progress: u32) -> pb::Job {
        pb::Job {
            id: "j-1".into(),
            campaign_id: "c-1".into(),
            kind: "posts".into(),
            state: state.into(),
            progress,
            ..Default::default()
        }
    }

    async fn collect_frames(
        stream: impl Stream<Item = Result<web::Bytes, Infallible>>,
    ) -> Vec<String> {
        stream
            .map(|frame| String::from_utf8(frame.unwrap().to_vec()).unwrap())
            .collect()
            .await
    }

    /// The `data` of an `event: <name>` frame, parsed.
    fn data(frame: &str, name: &str) -> serde_json::Value {
        let rest = frame
            .strip_prefix(&format!("event: {name}\ndata: "))
            .unwrap_or_else(|| panic!("not an {name} event: {frame:?}"));
        let json = rest.strip_suffix("\n\n").expect("ends with a blank line");
        assert!(!json.contains('\n'), "one data line");
        serde_json::from_str(json).unwrap()
    }

    #[tokio::test]
    async fn each_change_is_one_event_and_the_stream_ends_with_the_job() {
        let mut message = job("running", 40);
        message.message = "line one\nline two".into();
        let jobs = futures::stream::iter(vec![
            Ok(job("queued", 0)),
            Ok(message),
            Ok(job("succeeded", 100)),
            Ok(job("succeeded", 100)),
        ])
        .chain(futures::stream::pending());
        let frames = collect_frames(event_stream(Box::pin(jobs), KEEP_ALIVE, None)).await;
        assert_eq!(frames.len(), 3, "nothing after the final state: {frames:?}");
        let first = data(&frames[0], "job");
        assert_eq!(first["state"], "queued");
        assert_eq!(first["id"], "j-1");
        assert!(first["error"].is_null());
        assert!(first["finished_at"].is_null());
        let second = data(&frames[1], "job");
        assert_eq!(second["progress"], 40);
        assert_eq!(second["message"], "line one\nline two");
        assert_eq!(data(&frames[2], "job")["state"], "succeeded");
    }

    #[tokio::test]
    async fn the_stream_ends_when_the_service_ends_it() {
        let jobs = futures::stream::iter(vec![Ok(job("running", 10))]);
        let frames = collect_frames(event_stream(jobs, KEEP_ALIVE, None)).await;
        assert_eq!(frames.len(), 1);
        for state in ["failed", "cancelled"] {
            let jobs =
                futures::stream::iter(vec![Ok(job(state, 10))]).chain(futures::stream::pending());
            let frames = collect_frames(event_stream(Box::pin(jobs), KEEP_ALIVE, None)).await;
            assert_eq!(frames.len(), 1, "{state} is final");
        }
    }

    #[tokio::test]
    async fn a_broken_stream_ends_with_an_error_event() {
        let status = Error::new(ErrorKind::NotFound, "not_found", "job not found").to_status();
        let jobs = futures::stream::iter(vec![Ok(job("running", 10)), Err(status)])
            .chain(futures::stream::pending());
        let frames = collect_frames(event_stream(
            Box::pin(jobs),
            KEEP_ALIVE,
            Some("req-1".into()),
        ))
        .await;
        assert_eq!(frames.len(), 2);
        let problem = data(&frames[1], "error");
        assert_eq!(problem["status"], 404);
        assert_eq!(problem["code"], "not_found");
        assert_eq!(problem["request_id"], "req-1");

        let transport = tonic::Status::unavailable("connection reset");
        let jobs = futures::stream::iter(vec![Err(transport)]);
        let frames = collect_frames(event_stream(jobs, KEEP_ALIVE, None)).await;
        let problem = data(&frames[0], "error");
        assert_eq!(problem["code"], "unavailable");
        assert!(
            !problem["detail"].as_str().unwrap().contains("reset"),
            "internals are not shown"
        );
    }

    #[tokio::test]
    async fn quiet_streams_send_keep_alive_comments() {
        let jobs =
            futures::stream::iter(vec![Ok(job("running", 10))]).chain(futures::stream::pending());
        let mut events = Box::pin(event_stream(
            Box::pin(jobs),
            Duration::from_millis(20),
            None,
        ));
        let first = events.next().await.unwrap().unwrap();
        assert!(first.starts_with(b"event: job\n"));
        for _ in 0..2 {
            let frame = tokio::time::timeout(Duration::from_secs(5), events.next())
                .await
                .expect("a keep-alive comes")
                .unwrap()
                .unwrap();
            assert_eq!(&frame[..], KEEP_ALIVE_FRAME);
        }
    }

    /// A stream that says when it is dropped (as tonic's `Streaming` then resets the
    /// HTTP/2 stream, telling the service to stop).
    struct Watched {
        dropped: Arc<AtomicBool>,
    }

    impl Stream for Watched {
        type Item = Result<pb::Job, tonic::Status>;

        fn poll_next(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Pending
        }
    }

    impl Drop for Watched {
        fn drop(&mut self) {
            self.dropped.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_client_that_leaves_drops_the_watch() {
        let dropped = Arc::new(AtomicBool::new(false));
        let jobs = Watched {
            dropped: dropped.clone(),
        };
        let mut events = Box::pin(event_stream(jobs, Duration::from_millis(10), None));
        let frame = events.next().await.unwrap().unwrap();
        assert_eq!(&frame[..], KEEP_ALIVE_FRAME);
        assert!(!dropped.load(Ordering::SeqCst));
        drop(events);
        assert!(
            dropped.load(Ordering::SeqCst),
            "the gRPC stream goes with the body"
        );
    }

    #[actix_web::test]
    async fn the_response_is_an_event_stream() {
        let jobs = futures::stream::iter(vec![Ok(job("succeeded", 100))]);
        let response = HttpResponse::Ok()
            .content_type(EVENT_STREAM)
            .streaming(event_stream(jobs, KEEP_ALIVE, None));
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/event-stream"
        );
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.starts_with("event: job\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
    }

    /// A fake campaign service whose `WatchJob` streams what the test sends.
    mod fake {
        use marquee_platform::Error;
        use marquee_proto::campaign::v1 as pb;
        use marquee_proto::campaign::v1::campaign_service_server::CampaignService;
        use std::pin::Pin;
        use std::sync::{Arc, Mutex};
        use tokio::sync::mpsc;
        use tonic::{Request, Response, Status};

        pub type Watcher = mpsc::Sender<Result<pb::Job, Status>>;

        #[derive(Default, Clone)]
        pub struct Fake {
            /// The open watch's sender.
            pub watching: Arc<Mutex<Option<Watcher>>>,
        }

        macro_rules! fake {
            ($($name:ident($request:ident) -> $response:ident;)*) => {
                #[tonic::async_trait]
                impl CampaignService for Fake {
                    $(
                        async fn $name(
                            &self,
                            _: Request<pb::$request>,
                        ) -> Result<Response<pb::$response>, Status> {
                            Err(Status::unimplemented("fake"))
                        }
                    )*

                    type WatchJobStream = Pin<
                        Box<dyn futures::Stream<Item = Result<pb::Job, Status>> + Send>,
                    >;

                    async fn watch_job(
                        &self,
                        request: Request<pb::GetJobRequest>,
                    ) -> Result<Response<Self::WatchJobStream>, Status> {
                        let id = request.into_inner().id;
                        if id == "missing" {
                            return Err(Error::not_found("job not found").to_status());
                        }
                        let (sender, mut receiver) = mpsc::channel(4);
                        let job = pb::Job {
                            id,
                            state: "running".into(),
                            progress: 10,
                            ..Default::default()
                        };
                        sender.send(Ok(job)).await.ok();
                        *self.watching.lock().unwrap() = Some(sender);
                        let stream = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
                        Ok(Response::new(Box::pin(stream)))
                    }
                }
            };
        }

        fake! {
            create_campaign(CreateCampaignRequest) -> Campaign;
            list_campaigns(ListCampaignsRequest) -> ListCampaignsResponse;
            get_campaign(GetCampaignRequest) -> Campaign;
            update_campaign(UpdateCampaignRequest) -> Campaign;
            delete_campaign(DeleteCampaignRequest) -> DeleteCampaignResponse;
            duplicate_campaign(DuplicateCampaignRequest) -> Campaign;
            start_analysis(StartAnalysisRequest) -> Job;
            generate_posts(GeneratePostsRequest) -> Job;
            regenerate_post(RegeneratePostRequest) -> Job;
            update_post(UpdatePostRequest) -> Post;
            generate_media(GenerateMediaRequest) -> Job;
            chat_guidance(ChatGuidanceRequest) -> Job;
            schedule_posts(SchedulePostsRequest) -> Campaign;
            unschedule_posts(UnschedulePostsRequest) -> Campaign;
            list_deliveries(ListDeliveriesRequest) -> ListDeliveriesResponse;
            export_campaign(ExportCampaignRequest) -> ExportCampaignResponse;
            get_job(GetJobRequest) -> Job;
            cancel_job(GetJobRequest) -> Job;
            save_template(SaveTemplateRequest) -> Template;
            list_templates(ListTemplatesRequest) -> ListTemplatesResponse;
            delete_template(DeleteTemplateRequest) -> DeleteTemplateResponse;
            create_from_template(CreateFromTemplateRequest) -> Campaign;
            create_connector(CreateConnectorRequest) -> Connector;
            list_connectors(ListConnectorsRequest) -> ListConnectorsResponse;
            delete_connector(DeleteConnectorRequest) -> DeleteConnectorResponse;
        }
    }

    /// The next piece of a streamed body, as text (`None` at its end).
    async fn chunk(
        body: &mut std::pin::Pin<Box<impl actix_web::body::MessageBody>>,
    ) -> Option<String> {
        let next = tokio::time::timeout(
            Duration::from_secs(10),
            std::future::poll_fn(|cx| body.as_mut().poll_next(cx)),
        )
        .await
        .expect("the stream answers");
        next.map(|chunk| String::from_utf8(chunk.map_err(|_| ()).unwrap().to_vec()).unwrap())
    }

    /// Through actix and real gRPC: a missing job is a 404 problem; a job's events come
    /// as the service sends them and end with the job; a client that leaves makes the
    /// gateway drop the watch, which the service sees.
    #[actix_web::test]
    async fn events_relay_the_watch_and_a_client_leaving_ends_it() {
        use crate::token::{Caller, RateTier};
        use actix_web::dev::Service;
        use actix_web::{App, HttpMessage, test};
        use marquee_platform::{Principal, PrincipalKind, Role};
        use marquee_proto::campaign::v1::campaign_service_server::CampaignServiceServer;

        let fake = fake::Fake::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shutdown = marquee_platform::shutdown::CancellationToken::new();
        let router = tonic::transport::Server::builder()
            .add_service(CampaignServiceServer::new(fake.clone()));
        tokio::spawn(marquee_platform::grpc::serve(
            router,
            listener,
            shutdown.clone(),
        ));

        let settings = crate::GatewaySettings {
            auth_url: "http://127.0.0.1:1".into(),
            campaign_url: format!("http://{address}"),
            ..Default::default()
        };
        let state = web::Data::new(crate::AppState::new(settings).unwrap());
        let caller = Arc::new(Caller {
            principal: Principal {
                kind: PrincipalKind::User,
                subject: "u-1".into(),
                tenant_id: "t-1".into(),
                roles: vec![Role::Creator],
                scopes: vec![],
            },
            rate_tier: RateTier::default(),
            expires_at: u64::MAX,
            session_id: None,
            issued_at_ms: 0,
        });
        let app = test::init_service(
            App::new()
                .app_data(state)
                .wrap_fn(move |req, service| {
                    req.extensions_mut().insert(caller.clone());
                    req.extensions_mut().insert(RequestContext {
                        request_id: "req-1".into(),
                        client_ip: "127.0.0.1".into(),
                        user_agent: "".into(),
                        route: None,
                    });
                    service.call(req)
                })
                .service(job_events),
        )
        .await;
        let get = |path: &str| test::TestRequest::get().uri(path).to_request();

        let missing = test::call_service(&app, get("/api/v1/jobs/missing/events")).await;
        assert_eq!(missing.status().as_u16(), 404);

        let response = test::call_service(&app, get("/api/v1/jobs/j-1/events")).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            EVENT_STREAM
        );
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-cache"
        );
        let mut body = Box::pin(response.into_body());
        let first = chunk(&mut body).await.unwrap();
        assert!(first.starts_with("event: job\ndata: {"), "{first}");
        assert!(first.contains("\"state\":\"running\""), "{first}");
        let watcher = fake.watching.lock().unwrap().take().unwrap();
        let mut done = pb::Job {
            id: "j-1".into(),
            state: "succeeded".into(),
            progress: 100,
            ..Default::default()
        };
        done.finished_at = Some(marquee_proto::Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        });
        watcher.send(Ok(done)).await.unwrap();
        let last = chunk(&mut body).await.unwrap();
        assert!(last.contains("\"state\":\"succeeded\""), "{last}");
        assert!(
            chunk(&mut body).await.is_none(),
            "the stream ends with the job"
        );

        // A client that leaves: the service's watch is closed.
        let response = test::call_service(&app, get("/api/v1/jobs/j-2/events")).await;
        let mut body = Box::pin(response.into_body());
        assert!(chunk(&mut body).await.unwrap().contains("j-2"));
        let watcher = fake.watching.lock().unwrap().take().unwrap();
        assert!(!watcher.is_closed());
        drop(body);
        tokio::time::timeout(Duration::from_secs(10), watcher.closed())
            .await
            .expect("the service sees the watch end");
        shutdown.cancel();
    }
}
