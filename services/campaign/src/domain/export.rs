//! Exports of a campaign: JSON (everything), CSV (one row per post, for spreadsheets and
//! schedulers) and Markdown (to read and share). Times are shown in the campaign's time
//! zone.

use super::Studio;
use super::campaigns::Campaign;
use crate::error::{CampaignError, Result};
use chrono::{DateTime, Utc};
use marquee_platform::Principal;
use serde_json::json;

pub struct Export {
    pub content_type: &'static str,
    pub file_name: String,
    pub body: Vec<u8>,
}

impl Studio {
    pub async fn export(&self, caller: &Principal, id: &str, format: &str) -> Result<Export> {
        let campaign = self.campaign(caller, id).await?;
        let stem = file_stem(&campaign.brief.name);
        match format {
            "json" | "" => Ok(Export {
                content_type: "application/json",
                file_name: format!("{stem}.json"),
                body: serde_json::to_vec_pretty(&to_json(&campaign))
                    .map_err(|e| CampaignError::Internal(e.to_string()))?,
            }),
            "csv" => Ok(Export {
                content_type: "text/csv; charset=utf-8",
                file_name: format!("{stem}.csv"),
                body: to_csv(&campaign)?,
            }),
            "md" => Ok(Export {
                content_type: "text/markdown; charset=utf-8",
                file_name: format!("{stem}.md"),
                body: to_markdown(&campaign).into_bytes(),
            }),
            _ => Err(CampaignError::invalid(
                "invalid_format",
                "format is json, csv or md",
            )),
        }
    }
}

/// A file name from the campaign's name: ASCII letters, digits and dashes.
fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            stem.push(c.to_ascii_lowercase());
        } else if !stem.ends_with('-') && !stem.is_empty() {
            stem.push('-');
        }
    }
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() {
        "campaign".into()
    } else {
        stem.chars().take(60).collect()
    }
}

fn local_time(campaign: &Campaign, at: Option<DateTime<Utc>>) -> String {
    let Some(at) = at else {
        return String::new();
    };
    match campaign.brief.time_zone.parse::<chrono_tz::Tz>() {
        Ok(zone) => at
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => at.to_rfc3339(),
    }
}

fn to_json(campaign: &Campaign) -> serde_json::Value {
    json!({
        "id": campaign.id,
        "brief": campaign.brief,
        "analysis": campaign.analysis,
        "themes": campaign.themes,
        "hashtags": campaign.hashtags,
        "guidance": campaign.guidance,
        "status": campaign.status,
        "posts": campaign.posts.iter().map(|post| json!({
            "id": post.id,
            "platform": post.platform.as_str(),
            "kind": post.kind,
            "content": post.content,
            "hashtags": post.hashtags,
            "selected": post.selected,
            "provider": post.provider,
            "ai_generated": post.ai_generated,
            "media_prompt": post.media_prompt,
            "asset_id": post.asset_id,
            "scheduled_at": post.scheduled_at,
            "status": post.status,
            "engagement": post.engagement,
            "theme": post.theme,
            "provenance": post.provenance,
        })).collect::<Vec<_>>(),
        "exported_at": Utc::now(),
    })
}

fn to_csv(campaign: &Campaign) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| CampaignError::Internal(e.to_string());
    writer
        .write_record([
            "id",
            "platform",
            "kind",
            "content",
            "hashtags",
            "selected",
            "scheduled_at",
            "status",
            "provider",
            "ai_generated",
            "engagement_score",
            "theme",
            "media_prompt",
            "asset_id",
        ])
        .map_err(internal)?;
    for post in &campaign.posts {
        let hashtags = post
            .hashtags
            .iter()
            .map(|h| format!("#{h}"))
            .collect::<Vec<_>>()
            .join(" ");
        writer
            .write_record([
                post.id.as_str(),
                post.platform.as_str(),
                post.kind.as_str(),
                &neutralise_formula(&post.content),
                &hashtags,
                if post.selected { "true" } else { "false" },
                &local_time(campaign, post.scheduled_at),
                post.status.as_str(),
                post.provider.as_str(),
                if post.ai_generated { "true" } else { "false" },
                &post.engagement.score.to_string(),
                &neutralise_formula(&post.theme),
                &neutralise_formula(&post.media_prompt),
                post.asset_id.as_deref().unwrap_or_default(),
            ])
            .map_err(internal)?;
    }
    writer
        .into_inner()
        .map_err(|e| CampaignError::Internal(e.to_string()))
}

/// Spreadsheets run cells that start with `=`, `+`, `-`, `@` as formulas (CSV
/// injection): such text gets a leading apostrophe.
fn neutralise_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn to_markdown(campaign: &Campaign) -> String {
    let mut md = format!("# {}\n\n", campaign.brief.name);
    if !campaign.brief.objective.is_empty() {
        md.push_str(&format!("**Objective:** {}\n\n", campaign.brief.objective));
    }
    if let Some(analysis) = &campaign.analysis {
        let a = &analysis.draft;
        md.push_str(&format!(
            "## Analysis\n\n_Written by: {}_\n\n- **Company:** {}\n- **Industry:** {}\n- **Audience:** {}\n- **Brand voice:** {}\n",
            analysis.provider, a.company_name, a.industry, a.target_audience, a.brand_voice
        ));
        for (title, items) in [
            ("Value propositions", &a.value_propositions),
            ("Competitive advantages", &a.competitive_advantages),
            ("Key messages", &a.key_messages),
        ] {
            if !items.is_empty() {
                md.push_str(&format!("\n**{title}**\n\n"));
                for item in items {
                    md.push_str(&format!("- {item}\n"));
                }
            }
        }
        md.push('\n');
    }
    let themes: Vec<String> = campaign
        .themes
        .iter()
        .filter(|t| t.selected)
        .map(|t| format!("- **{}** — {}", t.name, t.description))
        .collect();
    if !themes.is_empty() {
        md.push_str(&format!("## Themes\n\n{}\n\n", themes.join("\n")));
    }
    if !campaign.guidance.is_empty() {
        md.push_str(&format!("## Guidance\n\n{}\n\n", campaign.guidance));
    }
    md.push_str("## Posts\n\n");
    for (i, post) in campaign.posts.iter().enumerate() {
        md.push_str(&format!(
            "### {}. {} · {}{}\n\n",
            i + 1,
            post.platform.label(),
            post.kind.replace('_', " + "),
            if post.ai_generated {
                " · AI-generated"
            } else {
                ""
            }
        ));
        for line in post.content.lines() {
            md.push_str(&format!("> {line}\n"));
        }
        md.push('\n');
        let when = local_time(campaign, post.scheduled_at);
        md.push_str(&format!(
            "- Status: {}{}\n- Engagement: {}/100\n- Written by: {}\n",
            post.status,
            if when.is_empty() {
                String::new()
            } else {
                format!(" ({when})")
            },
            post.engagement.score,
            post.provider
        ));
        if !post.media_prompt.is_empty() {
            md.push_str(&format!("- Media prompt: {}\n", post.media_prompt));
        }
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_stem("Spring Launch 2026!"), "spring-launch-2026");
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("日本"), "campaign");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(
            neutralise_formula("=HYPERLINK(\"x\")"),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(neutralise_formula("Hello"), "Hello");
    }
}
