//! gRPC handlers of comments: create, list, get, delete, report, and the moderators' review
//! of reported comments. Called from the `ContentService` impl in `mod.rs`.

use super::convert;
use crate::domain::{Content, is_moderator};
use marquee_platform::Principal;
use marquee_proto::content::v1 as pb;
use marquee_proto::convert::non_empty;
use tonic::{Request, Response, Status};

pub(super) async fn create(
    content: &Content,
    request: Request<pb::CreateCommentRequest>,
) -> Result<Response<pb::Comment>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let comment = content
        .create_comment(&caller, &r.asset_id, &r.body)
        .await?;
    Ok(Response::new(convert::comment(
        comment,
        is_moderator(&caller),
    )))
}

pub(super) async fn list(
    content: &Content,
    request: Request<pb::ListCommentsRequest>,
) -> Result<Response<pb::ListCommentsResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let (comments, next) = content
        .list_comments(&caller, &r.asset_id, r.limit, non_empty(r.cursor))
        .await?;
    let moderator = is_moderator(&caller);
    Ok(Response::new(pb::ListCommentsResponse {
        comments: comments
            .into_iter()
            .map(|c| convert::comment(c, moderator))
            .collect(),
        next_cursor: next.unwrap_or_default(),
    }))
}

pub(super) async fn get(
    content: &Content,
    request: Request<pb::GetCommentRequest>,
) -> Result<Response<pb::Comment>, Status> {
    let caller = Principal::from_request(&request)?;
    let comment = content
        .get_comment(&caller, &request.into_inner().id)
        .await?;
    Ok(Response::new(convert::comment(
        comment,
        is_moderator(&caller),
    )))
}

pub(super) async fn delete(
    content: &Content,
    request: Request<pb::DeleteCommentRequest>,
) -> Result<Response<pb::DeleteCommentResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    content
        .delete_comment(&caller, &request.into_inner().id)
        .await?;
    Ok(Response::new(pb::DeleteCommentResponse {}))
}

pub(super) async fn report(
    content: &Content,
    request: Request<pb::ReportCommentRequest>,
) -> Result<Response<pb::ReportCommentResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let hidden = content.report_comment(&caller, &r.id, &r.reason).await?;
    Ok(Response::new(pb::ReportCommentResponse { hidden }))
}

pub(super) async fn reported(
    content: &Content,
    request: Request<pb::ListReportedCommentsRequest>,
) -> Result<Response<pb::ListCommentsResponse>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let (comments, next) = content
        .reported_comments(&caller, r.limit, non_empty(r.cursor))
        .await?;
    Ok(Response::new(pb::ListCommentsResponse {
        comments: comments
            .into_iter()
            .map(|c| convert::comment(c, true))
            .collect(),
        next_cursor: next.unwrap_or_default(),
    }))
}

pub(super) async fn moderate(
    content: &Content,
    request: Request<pb::ModerateCommentRequest>,
) -> Result<Response<pb::Comment>, Status> {
    let caller = Principal::from_request(&request)?;
    let r = request.into_inner();
    let comment = content.moderate_comment(&caller, &r.id, r.restore).await?;
    Ok(Response::new(convert::comment(comment, true)))
}
