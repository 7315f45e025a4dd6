//! gRPC handlers of the community: profiles, follows, comments and their moderation.
//! Called from the `ContentService` impl in `mod.rs`.

use super::{ContentGrpc, convert};
use crate::domain::community::ProfileUpdate;
use crate::domain::is_moderator;
use marquee_platform::Principal;
use marquee_proto::content::v1 as pb;
use marquee_proto::convert::non_empty;
use tonic::{Request, Response, Status};

impl ContentGrpc {
    pub(super) async fn get_creator_impl(
        &self,
        request: Request<pb::GetCreatorRequest>,
    ) -> Result<Response<pb::Creator>, Status> {
        let caller = Principal::from_request(&request)?;
        let creator = self
            .content
            .creator(&caller, &request.into_inner().id)
            .await?;
        Ok(Response::new(convert::creator(creator)))
    }

    pub(super) async fn update_my_profile_impl(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::Creator>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let creator = self
            .content
            .update_profile(
                &caller,
                ProfileUpdate {
                    display_name: r.display_name,
                    bio: r.bio,
                    avatar_asset_id: r.avatar_asset_id,
                },
            )
            .await?;
        Ok(Response::new(convert::creator(creator)))
    }

    pub(super) async fn follow_impl(
        &self,
        request: Request<pb::FollowRequest>,
        follow: bool,
    ) -> Result<Response<pb::FollowResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let creator_id = request.into_inner().creator_id;
        let (following, followers) = if follow {
            self.content.follow(&caller, &creator_id).await?
        } else {
            self.content.unfollow(&caller, &creator_id).await?
        };
        Ok(Response::new(pb::FollowResponse {
            following,
            followers,
        }))
    }

    pub(super) async fn list_follows_impl(
        &self,
        request: Request<pb::ListFollowsRequest>,
        followers: bool,
    ) -> Result<Response<pb::ListFollowsResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let (entries, next) = self
            .content
            .follows(
                &caller,
                &r.creator_id,
                followers,
                r.limit,
                non_empty(r.cursor),
            )
            .await?;
        Ok(Response::new(pb::ListFollowsResponse {
            entries: entries.into_iter().map(convert::follow_entry).collect(),
            next_cursor: next.unwrap_or_default(),
        }))
    }

    pub(super) async fn create_comment_impl(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let comment = self
            .content
            .create_comment(&caller, &r.asset_id, &r.body)
            .await?;
        Ok(Response::new(convert::comment(
            comment,
            is_moderator(&caller),
        )))
    }

    pub(super) async fn list_comments_impl(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let (comments, next) = self
            .content
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

    pub(super) async fn delete_comment_impl(
        &self,
        request: Request<pb::DeleteCommentRequest>,
    ) -> Result<Response<pb::DeleteCommentResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        self.content
            .delete_comment(&caller, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::DeleteCommentResponse {}))
    }

    pub(super) async fn report_comment_impl(
        &self,
        request: Request<pb::ReportCommentRequest>,
    ) -> Result<Response<pb::ReportCommentResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let hidden = self
            .content
            .report_comment(&caller, &r.id, &r.reason)
            .await?;
        Ok(Response::new(pb::ReportCommentResponse { hidden }))
    }

    pub(super) async fn list_reported_comments_impl(
        &self,
        request: Request<pb::ListReportedCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let (comments, next) = self
            .content
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

    pub(super) async fn moderate_comment_impl(
        &self,
        request: Request<pb::ModerateCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let caller = Principal::from_request(&request)?;
        let r = request.into_inner();
        let comment = self
            .content
            .moderate_comment(&caller, &r.id, r.restore)
            .await?;
        Ok(Response::new(convert::comment(comment, true)))
    }
}
