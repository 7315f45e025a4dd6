//! Profiles, follows, comments and the spam rules against the real databases: counts,
//! idempotency, the rate limit shared by two service instances over one database,
//! duplicates, reports hiding a comment, moderation, events in the outbox, tenancy.

use crate::{parts, start, user};
use marquee_bus::outbox;
use marquee_content::Content;
use marquee_content::domain::Asset;
use marquee_content::domain::community::ProfileUpdate;
use marquee_content::error::ContentError;
use marquee_platform::Principal;
use marquee_proto::events::types;
use marquee_testkit::Backend;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

marquee_testkit::on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    follows_are_idempotent_counted_and_scoped,
    comments_follow_the_spam_rules,
    reports_hide_and_moderators_decide,
);

/// An approved (ready) text asset of `owner`, through upload → processing → approval.
async fn ready_asset(content: &Content, owner: &Principal, text: &str) -> Asset {
    let uploaded = content
        .upload(owner, parts("Notes", text.as_bytes(), 64))
        .await
        .unwrap()
        .asset;
    let rows = outbox::entity::Entity::find()
        .filter(outbox::entity::Column::EventType.eq(types::ASSET_UPLOADED))
        .all(content.db())
        .await
        .unwrap();
    for row in rows {
        let envelope: marquee_bus::Envelope =
            prost::Message::decode(row.envelope.as_slice()).unwrap();
        content
            .process_uploaded("content", &envelope, &uploaded.id)
            .await
            .unwrap();
    }
    let moderator = user(&owner.tenant_id, "mod", &["moderator"]);
    let asset = content
        .moderate(&moderator, &uploaded.id, true, "")
        .await
        .unwrap();
    assert_eq!(asset.status, "ready");
    asset
}

fn code(error: ContentError) -> String {
    marquee_platform::Error::from(error).code.to_string()
}

async fn events_of(content: &Content, event_type: &str) -> usize {
    outbox::entity::Entity::find()
        .filter(outbox::entity::Column::EventType.eq(event_type))
        .all(content.db())
        .await
        .unwrap()
        .len()
}

async fn follows_are_idempotent_counted_and_scoped(backend: Backend) {
    let (content, _guard) = start(backend, |s| {
        s.follows_per_window = 3;
        s.follow_window_secs = 3600;
    })
    .await;
    let ada = user("t1", "ada", &["creator"]);
    let bob = user("t1", "bob", &["creator"]);
    let eve = user("t2", "eve", &["creator"]);
    // Bob is not a creator until he has a profile or an asset.
    let missing = content.follow(&ada, "bob").await.unwrap_err();
    assert_eq!(code(missing), "not_found");
    content
        .update_profile(
            &bob,
            ProfileUpdate {
                display_name: Some("Bob".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(content.follow(&ada, "bob").await.unwrap(), (true, 1));
    assert_eq!(content.follow(&ada, "bob").await.unwrap(), (true, 1));
    assert_eq!(events_of(&content, types::CREATOR_FOLLOWED).await, 1);
    let self_follow = content.follow(&ada, "me").await.unwrap_err();
    assert_eq!(code(self_follow), "cannot_follow_self");
    let profile = content.creator(&ada, "bob").await.unwrap();
    assert_eq!((profile.followers, profile.following), (1, 0));
    assert!(profile.followed_by_me);
    assert_eq!(profile.display_name, "Bob");
    let (followers, next) = content.follows(&ada, "bob", true, 0, None).await.unwrap();
    assert_eq!(followers[0].user_id, "ada");
    assert!(next.is_none());
    let (following, _) = content.follows(&ada, "me", false, 0, None).await.unwrap();
    assert_eq!(following[0].user_id, "bob");
    // Another tenant sees no such creator.
    assert_eq!(
        code(content.creator(&eve, "bob").await.unwrap_err()),
        "not_found"
    );
    assert_eq!(
        code(content.follow(&eve, "bob").await.unwrap_err()),
        "not_found"
    );
    assert_eq!(content.unfollow(&ada, "bob").await.unwrap(), (false, 0));
    assert_eq!(content.unfollow(&ada, "bob").await.unwrap(), (false, 0));
    // Cursor pages over followers.
    for n in 0..3 {
        let fan = user("t1", &format!("fan{n}"), &[]);
        content.follow(&fan, "bob").await.unwrap();
    }
    let (page, next) = content.follows(&ada, "bob", true, 2, None).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].user_id, "fan2", "newest first");
    let (rest, next) = content.follows(&ada, "bob", true, 2, next).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(next.is_none());
}

async fn comments_follow_the_spam_rules(backend: Backend) {
    let (content, _guard) = start(backend, |s| {
        s.blocked_terms = vec!["scam".into()];
        s.comments_per_window = 2;
        s.comment_window_secs = 3600;
        s.comment_max_links = 1;
    })
    .await;
    let ada = user("t1", "ada", &["creator"]);
    let bob = user("t1", "bob", &[]);
    let eve = user("t2", "eve", &["moderator"]);
    let asset = ready_asset(&content, &ada, "some notes\n").await;
    // A second instance on the same database: a replica.
    let replica = Content::new(
        content.db().clone(),
        content.objects().clone(),
        content.settings().clone(),
        std::sync::Arc::new(marquee_content::domain::flags::StaticFlags::default()),
    );

    let first = content
        .create_comment(&bob, &asset.id, "Nice notes")
        .await
        .unwrap();
    assert_eq!(first.status, "visible");
    assert_eq!(events_of(&content, types::COMMENT_CREATED).await, 1);
    let cases = [
        ("nice   NOTES", "duplicate_comment"),
        (
            "see http://a.example and http://b.example",
            "too_many_links",
        ),
        ("total Scam", "blocked_term"),
        ("  ", "comment_empty"),
    ];
    for (body, expected) in cases {
        let error = content
            .create_comment(&bob, &asset.id, body)
            .await
            .unwrap_err();
        assert_eq!(code(error), expected, "{body}");
    }
    // The limit is counted in the database: the replica sees the first comment.
    replica
        .create_comment(&bob, &asset.id, "Second")
        .await
        .unwrap();
    let limited = content
        .create_comment(&bob, &asset.id, "Third")
        .await
        .unwrap_err();
    let limited = marquee_platform::Error::from(limited);
    assert_eq!(limited.code, "comment_rate_limited");
    assert_eq!(limited.status().as_u16(), 429);
    assert!(limited.retry_after.is_some_and(|s| (1..=3601).contains(&s)));
    // Other users have their own budget; other tenants see no asset.
    content
        .create_comment(&ada, &asset.id, "Thanks!")
        .await
        .unwrap();
    assert_eq!(
        code(
            content
                .create_comment(&eve, &asset.id, "hi")
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    assert_eq!(
        code(
            content
                .list_comments(&eve, &asset.id, 0, None)
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    let (page, _) = content
        .list_comments(&bob, &asset.id, 0, None)
        .await
        .unwrap();
    let bodies: Vec<_> = page.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies, ["Thanks!", "Second", "Nice notes"]);
    // Author or moderator deletes; nobody else.
    let forbidden = content.delete_comment(&ada, &first.id).await.unwrap_err();
    assert_eq!(code(forbidden), "forbidden");
    content.delete_comment(&bob, &first.id).await.unwrap();
    assert_eq!(
        code(content.delete_comment(&bob, &first.id).await.unwrap_err()),
        "not_found"
    );
}

async fn reports_hide_and_moderators_decide(backend: Backend) {
    let (content, _guard) = start(backend, |s| s.report_hide_threshold = 2).await;
    let ada = user("t1", "ada", &["creator"]);
    let bob = user("t1", "bob", &[]);
    let cy = user("t1", "cy", &[]);
    let moderator = user("t1", "mo", &["moderator"]);
    let asset = ready_asset(&content, &ada, "more notes\n").await;
    let comment = content
        .create_comment(&bob, &asset.id, "Meh")
        .await
        .unwrap();
    assert_eq!(
        code(
            content
                .report_comment(&bob, &comment.id, "")
                .await
                .unwrap_err()
        ),
        "cannot_report_own_comment"
    );
    assert!(
        !content
            .report_comment(&ada, &comment.id, "rude")
            .await
            .unwrap()
    );
    assert!(
        !content.report_comment(&ada, &comment.id, "").await.unwrap(),
        "once per user"
    );
    assert!(content.report_comment(&cy, &comment.id, "").await.unwrap());
    let (page, _) = content
        .list_comments(&cy, &asset.id, 0, None)
        .await
        .unwrap();
    assert!(page.is_empty(), "hidden pending review");
    let (page, _) = content
        .list_comments(&moderator, &asset.id, 0, None)
        .await
        .unwrap();
    assert_eq!(page[0].status, "hidden");
    assert_eq!(
        code(content.reported_comments(&ada, 0, None).await.unwrap_err()),
        "forbidden"
    );
    let (reported, _) = content
        .reported_comments(&moderator, 0, None)
        .await
        .unwrap();
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0].report_count, 2);
    let restored = content
        .moderate_comment(&moderator, &comment.id, true)
        .await
        .unwrap();
    assert_eq!(
        (restored.status.as_str(), restored.report_count),
        ("visible", 0)
    );
    assert!(
        content
            .reported_comments(&moderator, 0, None)
            .await
            .unwrap()
            .0
            .is_empty()
    );
    // Reported again after review: counted afresh.
    assert!(!content.report_comment(&ada, &comment.id, "").await.unwrap());
    let removed = content
        .moderate_comment(&moderator, &comment.id, false)
        .await
        .unwrap();
    assert_eq!(removed.status, "removed");
    let (page, _) = content
        .list_comments(&moderator, &asset.id, 0, None)
        .await
        .unwrap();
    assert!(page.is_empty());
    assert_eq!(
        code(
            content
                .report_comment(&cy, &comment.id, "")
                .await
                .unwrap_err()
        ),
        "not_found"
    );
}
