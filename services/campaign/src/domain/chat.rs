//! The guidance chat: the creator talks about how the campaign should sound; the
//! provider answers and revises the guidance. A turn is a job (one model generation,
//! queued behind others on the local model); the whole conversation is kept on the
//! campaign (the last `KEPT_MESSAGES`).

use super::Studio;
use super::campaigns::{Campaign, ChatMessage};
use super::jobs::{Job, JobContext, JobParams, kind as job_kind};
use super::writer::ChatInput;
use crate::error::Result;
use crate::store;
use chrono::Utc;
use marquee_platform::Principal;
use marquee_platform::input::fields::campaign as rules;

const KEPT_MESSAGES: usize = 100;

impl Studio {
    /// Queues a chat turn.
    pub async fn start_chat(
        &self,
        caller: &Principal,
        campaign_id: &str,
        message: &str,
    ) -> Result<Job> {
        super::require_creator(caller)?;
        rules::CHAT_MESSAGE.check(message)?;
        let campaign = self.load_campaign(caller, campaign_id).await?;
        let params = JobParams {
            message: message.to_string(),
            ..JobParams::for_caller(caller)
        };
        self.enqueue_job(caller, &campaign.id, job_kind::CHAT, None, params, None)
            .await
    }

    /// Answers a chat turn (a job's work) and keeps it on the campaign.
    pub(crate) async fn run_chat(
        &self,
        caller: &Principal,
        campaign_id: &str,
        message: &str,
        job: &JobContext,
    ) -> Result<Campaign> {
        let mut campaign = self.load_campaign(caller, campaign_id).await?;
        let hold = self
            .quota
            .reserve(
                caller,
                "ai_text_generations",
                1,
                &format!("job:{}:chat", job.id),
            )
            .await?;
        let input = ChatInput {
            brief: campaign.brief.clone(),
            analysis: campaign.analysis.clone(),
            guidance: campaign.guidance.clone(),
            history: campaign.chat.clone(),
            message: message.to_string(),
        };
        job.progress(10, "writing the answer").await?;
        let reply = match self
            .generate("chat", self.writer.chat(&input, job.cancel()))
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
