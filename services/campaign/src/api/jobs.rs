//! gRPC handlers of jobs: start an analysis, read, watch (a stream of changes until the
//! job ends), cancel.

use super::{convert, id, optional};
use crate::domain::Studio;
use crate::domain::jobs::state;
use futures::Stream;
use marquee_platform::Principal;
use marquee_proto::campaign::v1 as pb;
use std::pin::Pin;
use std::time::Duration;
use tonic::{Request, Response, Status};

pub type JobStream = Pin<Box<dyn Stream<Item = Result<pb::Job, Status>> + Send>>;

/// How often a watched job is read, and the longest a watch lasts.
const WATCH_POLL: Duration = Duration::from_millis(250);
const WATCH_LIMIT: Duration = Duration::from_secs(30 * 60);

pub(super) async fn start_analysis(
    studio: &Studio,
    request: Request<pb::StartAnalysisRequest>,
) -> Result<Response<pb::Job>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("campaign_id", &m.campaign_id)?;
    let job = studio
        .start_analysis(&caller, &m.campaign_id, optional(m.idempotency_key))
        .await?;
    Ok(Response::new(convert::job(&job)))
}

pub(super) async fn get(
    studio: &Studio,
    request: Request<pb::GetJobRequest>,
) -> Result<Response<pb::Job>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("id", &m.id)?;
    let job = studio.job(&caller, &m.id).await?;
    Ok(Response::new(convert::job(&job)))
}

pub(super) async fn cancel(
    studio: &Studio,
    request: Request<pb::GetJobRequest>,
) -> Result<Response<pb::Job>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("id", &m.id)?;
    let job = studio.cancel_job(&caller, &m.id).await?;
    Ok(Response::new(convert::job(&job)))
}

/// The job as it is, then each change, until it ends. Polls the database, so a job run
/// by any replica is followed.
pub(super) async fn watch(
    studio: &Studio,
    request: Request<pb::GetJobRequest>,
) -> Result<Response<JobStream>, Status> {
    let caller = Principal::from_request(&request)?;
    let m = request.into_inner();
    id("id", &m.id)?;
    let first = studio.job(&caller, &m.id).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let studio = studio.clone();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + WATCH_LIMIT;
        let mut last = convert::job(&first);
        if sender.send(Ok(last.clone())).await.is_err() || state::is_final(&last.state) {
            return;
        }
        while tokio::time::Instant::now() < deadline {
            tokio::select! {
                _ = sender.closed() => return,
                _ = tokio::time::sleep(WATCH_POLL) => {}
            }
            let job = match studio.job(&caller, &first.id).await {
                Ok(job) => convert::job(&job),
                Err(error) => {
                    let _ = sender.send(Err(error.into())).await;
                    return;
                }
            };
            if job != last {
                last = job.clone();
                if sender.send(Ok(job)).await.is_err() || state::is_final(&last.state) {
                    return;
                }
            }
        }
    });
    Ok(Response::new(Box::pin(
        tokio_stream::wrappers::ReceiverStream::new(receiver),
    )))
}
