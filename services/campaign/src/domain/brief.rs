//! The brief: what a creator tells the studio about the business and the campaign.
//! Checked here whoever calls (the gateway checks the same rules first).

use crate::error::{CampaignError, Result};
use marquee_platform::input::{self, fields::campaign as rules};
use marquee_social::Platform;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub name: String,
    pub objective: String,
    pub campaign_type: String,
    pub business_description: String,
    pub urls: Vec<String>,
    pub asset_ids: Vec<String>,
    pub target_audience: String,
    pub platforms: Vec<Platform>,
    pub creativity: u32,
    pub post_count: u32,
    pub time_zone: String,
}

impl Brief {
    /// Checks every field and normalises what has a canonical form (trimmed name,
    /// de-duplicated platforms, URLs and assets, defaults for zero numbers and empty
    /// time zone).
    pub fn checked(mut self) -> Result<Self> {
        rules::NAME.check(&self.name)?;
        self.name = self.name.trim().to_string();
        rules::OBJECTIVE.check(&self.objective)?;
        rules::BUSINESS_DESCRIPTION.check(&self.business_description)?;
        rules::TARGET_AUDIENCE.check(&self.target_audience)?;
        if self.campaign_type.is_empty() {
            self.campaign_type = "product".into();
        }
        if !rules::CAMPAIGN_TYPES.contains(&self.campaign_type.as_str()) {
            return Err(CampaignError::invalid(
                "invalid_campaign_type",
                format!(
                    "campaign_type is one of {}",
                    rules::CAMPAIGN_TYPES.join(", ")
                ),
            ));
        }
        if self.urls.len() > rules::MAX_URLS {
            return Err(CampaignError::invalid(
                "too_many_urls",
                format!("at most {} urls", rules::MAX_URLS),
            ));
        }
        for url in &self.urls {
            check_url(url)?;
        }
        dedupe(&mut self.urls);
        if self.asset_ids.len() > rules::MAX_ASSETS {
            return Err(CampaignError::invalid(
                "too_many_assets",
                format!("at most {} asset_ids", rules::MAX_ASSETS),
            ));
        }
        for id in &self.asset_ids {
            input::id("asset_ids", id)?;
        }
        dedupe(&mut self.asset_ids);
        if self.business_description.trim().is_empty() && self.urls.is_empty() {
            return Err(CampaignError::invalid(
                "brief_required",
                "describe the business in business_description or give its website in urls",
            ));
        }
        if self.platforms.is_empty() {
            return Err(CampaignError::invalid(
                "platforms_required",
                "choose at least one platform",
            ));
        }
        dedupe(&mut self.platforms);
        if self.creativity == 0 {
            self.creativity = rules::DEFAULT_CREATIVITY;
        }
        if !(rules::MIN_CREATIVITY..=rules::MAX_CREATIVITY).contains(&self.creativity) {
            return Err(CampaignError::invalid(
                "invalid_creativity",
                format!(
                    "creativity is {} to {}",
                    rules::MIN_CREATIVITY,
                    rules::MAX_CREATIVITY
                ),
            ));
        }
        if self.post_count == 0 {
            self.post_count = rules::DEFAULT_POSTS;
        }
        if !(rules::MIN_POSTS..=rules::MAX_POSTS).contains(&self.post_count) {
            return Err(CampaignError::invalid(
                "invalid_post_count",
                format!(
                    "post_count is {} to {} (the total across platforms)",
                    rules::MIN_POSTS,
                    rules::MAX_POSTS
                ),
            ));
        }
        if self.time_zone.is_empty() {
            self.time_zone = "UTC".into();
        }
        parse_time_zone(&self.time_zone)?;
        Ok(self)
    }
}

/// Parses platform ids, refusing unknown ones with the list of valid ids.
pub fn parse_platforms(ids: &[String]) -> Result<Vec<Platform>> {
    ids.iter()
        .map(|id| {
            id.parse::<Platform>().map_err(|_| {
                CampaignError::invalid(
                    "invalid_platform",
                    format!(
                        "platforms are {}",
                        Platform::ALL
                            .iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// An IANA time zone, e.g. `Europe/Paris`.
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz> {
    rules::TIME_ZONE.check(name)?;
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        CampaignError::invalid(
            "invalid_time_zone",
            "time_zone is an IANA name such as Europe/Paris",
        )
    })
}

/// An http(s) URL with a host and no credentials.
pub fn check_url(url: &str) -> Result<()> {
    rules::URL.check(url)?;
    let invalid =
        || CampaignError::invalid("invalid_url", "urls are http or https URLs with a host");
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| invalid())?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none_or(str::is_empty)
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(invalid());
    }
    Ok(())
}

fn dedupe<T: PartialEq + Clone>(items: &mut Vec<T>) {
    let mut seen = Vec::with_capacity(items.len());
    items.retain(|item| {
        if seen.contains(item) {
            false
        } else {
            seen.push(item.clone());
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn brief() -> Brief {
        Brief {
            name: " Spring launch ".into(),
            objective: "Sell more".into(),
            campaign_type: String::new(),
            business_description: "Acme Coffee roasts beans in Lyon.".into(),
            urls: vec![],
            asset_ids: vec![],
            target_audience: String::new(),
            platforms: vec![Platform::X, Platform::X, Platform::LinkedIn],
            creativity: 0,
            post_count: 0,
            time_zone: String::new(),
        }
    }

    #[test]
    fn defaults_fill_in_and_duplicates_go() {
        let brief = brief().checked().unwrap();
        assert_eq!(brief.name, "Spring launch");
        assert_eq!(brief.campaign_type, "product");
        assert_eq!(brief.platforms, vec![Platform::X, Platform::LinkedIn]);
        assert_eq!(brief.creativity, rules::DEFAULT_CREATIVITY);
        assert_eq!(brief.post_count, rules::DEFAULT_POSTS);
        assert_eq!(brief.time_zone, "UTC");
    }

    #[test]
    fn bad_briefs_get_their_codes() {
        let code = |brief: Brief| match brief.checked() {
            Err(CampaignError::Invalid { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            code(Brief {
                post_count: 16,
                ..brief()
            }),
            "invalid_post_count"
        );
        assert_eq!(
            code(Brief {
                post_count: 2,
                ..brief()
            }),
            "invalid_post_count"
        );
        assert_eq!(
            code(Brief {
                creativity: 11,
                ..brief()
            }),
            "invalid_creativity"
        );
        assert_eq!(
            code(Brief {
                platforms: vec![],
                ..brief()
            }),
            "platforms_required"
        );
        assert_eq!(
            code(Brief {
                campaign_type: "gadget".into(),
                ..brief()
            }),
            "invalid_campaign_type"
        );
        assert_eq!(
            code(Brief {
                time_zone: "Mars/Olympus".into(),
                ..brief()
            }),
            "invalid_time_zone"
        );
        assert_eq!(
            code(Brief {
                urls: vec!["ftp://x.example".into()],
                ..brief()
            }),
            "invalid_url"
        );
        assert_eq!(
            code(Brief {
                urls: vec!["http://user:pw@x.example".into()],
                ..brief()
            }),
            "invalid_url"
        );
        assert_eq!(
            code(Brief {
                urls: vec!["https://a.example".into(); 4],
                ..brief()
            }),
            "too_many_urls"
        );
        assert_eq!(
            code(Brief {
                business_description: " ".into(),
                ..brief()
            }),
            "brief_required"
        );
        assert_eq!(
            code(Brief {
                name: "\u{7}".into(),
                ..brief()
            }),
            "invalid_name"
        );
    }
}
