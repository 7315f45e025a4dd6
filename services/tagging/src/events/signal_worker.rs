//! The signal worker: follows and comments (content's community events), recorded for
//! recommendations. Its own queue, so signals never wait behind model inference.

use crate::domain::Tagging;
use crate::domain::recommendations::Signal;
use marquee_bus::{Consumer, Envelope, HandlerError};
use marquee_proto::events::types;
use marquee_proto::events::v1::{CommentCreated, CreatorFollowed};

/// The consumer's (and its queue's) stable name.
pub const CONSUMER: &str = "tagging_signals";

pub fn consumer(tagging: Tagging) -> Consumer {
    Consumer::new(CONSUMER, move |envelope: Envelope| {
        let tagging = tagging.clone();
        async move { handle(&tagging, envelope).await }
    })
    .bind(types::CREATOR_FOLLOWED)
    .bind(types::COMMENT_CREATED)
}

#[tracing::instrument(skip_all, fields(event_id = %envelope.id, event_type = %envelope.r#type))]
async fn handle(tagging: &Tagging, envelope: Envelope) -> Result<(), HandlerError> {
    let signal = match envelope.r#type.as_str() {
        types::CREATOR_FOLLOWED => {
            let event: CreatorFollowed =
                marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.CreatorFollowed")?;
            Signal::Followed {
                follower_id: event.follower_id,
                creator_id: event.creator_id,
            }
        }
        types::COMMENT_CREATED => {
            let event: CommentCreated =
                marquee_bus::envelope::unpack(&envelope, "marquee.events.v1.CommentCreated")?;
            Signal::Commented {
                author_id: event.author_id,
                asset_id: event.asset_id,
            }
        }
        other => return Err(HandlerError::permanent(format!("unexpected event {other}"))),
    };
    Ok(tagging.record_signal(CONSUMER, &envelope, signal).await?)
}
