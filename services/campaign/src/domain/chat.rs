//! The guidance chat: the creator talks about how the campaign should sound; the
//! provider answers and revises the guidance. The whole conversation is kept on the
//! campaign (the last `KEPT_MESSAGES`).

use super::Studio;
use super::campaigns::{Campaign, ChatMessage};
use super::writer::ChatInput;
use crate::error::Result;
use crate::store;
use chrono::Utc;
use marquee_platform::Principal;
use marquee_platform::input::fields::campaign as rules;
use tokio_util::sync::CancellationToken;

const KEPT_MESSAGES: usize = 100;

impl Studio {
    pub async fn chat(
        &self,
        caller: &Principal,
        campaign_id: &str,
        message: &str,
    ) -> Result<Campaign> {
        rules::CHAT_MESSAGE.check(message)?;
        let mut campaign = self.load_campaign(caller, campaign_id).await?;
        let hold = self
            .quota
            .reserve(
                caller,
                "ai_text_generations",
                1,
                &format!("chat:{}:{}", campaign.id, campaign.chat.len()),
            )
            .await?;
        let input = ChatInput {
            brief: campaign.brief.clone(),
            analysis: campaign.analysis.clone(),
            guidance: campaign.guidance.clone(),
            history: campaign.chat.clone(),
            message: message.to_string(),
        };
        // A chat turn runs in the request: it is one short generation.
        let cancel = CancellationToken::new();
        let reply = match self
            .generate("chat", self.writer.chat(&input, &cancel))
            .await
        {
            Ok(reply) => reply.value,
            Err(error) => {
                if let Err(release) = self.quota.release(caller, &hold).await {
                    tracing::warn!(%release, "releasing the chat hold failed");
                }
                return Err(error);
            }
        };
        let now = Utc::now();
        campaign.chat.push(ChatMessage {
            role: "user".into(),
            text: message.to_string(),
            at: now,
            provider: String::new(),
        });
        campaign.chat.push(ChatMessage {
            role: "assistant".into(),
            text: super::analysis::clip(reply.reply.trim(), 4000),
            at: now,
            provider: self.provider().into(),
        });
        if campaign.chat.len() > KEPT_MESSAGES {
            let excess = campaign.chat.len() - KEPT_MESSAGES;
            campaign.chat.drain(..excess);
        }
        let guidance = reply.guidance.trim();
        if !guidance.is_empty() {
            campaign.guidance = super::analysis::clip(guidance, 5000);
        }
        campaign.updated_at = now;
        store::campaigns::save(&self.db, campaign.to_row(None)).await?;
        self.quota.commit(caller, &hold).await?;
        self.with_posts(campaign).await
    }
}
