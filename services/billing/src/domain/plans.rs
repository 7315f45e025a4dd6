//! The plans catalogue and the limits it grants. Defaults `free`, `pro`, `business`;
//! every number, name and Stripe price id can be overridden in configuration
//! (`MARQUEE_BILLING_PLANS__PRO__STRIPE_PRICE_ID=price_…`,
//! `MARQUEE_BILLING_PLANS__FREE__LIMITS__AI_TEXT_GENERATIONS=20`).

use serde::Deserialize;
use std::collections::BTreeMap;

/// Something a plan limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitName {
    StorageBytes,
    Assets,
    AiTextGenerations,
    ImageGenerations,
    VideoSeconds,
    PartnerApiCalls,
}

/// How a limit's usage accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Resets at the start of each billing period (a calendar month, UTC).
    Month,
    /// A level that only goes down when something is freed (storage, assets).
    Total,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Total => "total",
        }
    }
}

impl LimitName {
    pub const ALL: [LimitName; 6] = [
        Self::StorageBytes,
        Self::Assets,
        Self::AiTextGenerations,
        Self::ImageGenerations,
        Self::VideoSeconds,
        Self::PartnerApiCalls,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StorageBytes => "storage_bytes",
            Self::Assets => "assets",
            Self::AiTextGenerations => "ai_text_generations",
            Self::ImageGenerations => "image_generations",
            Self::VideoSeconds => "video_seconds",
            Self::PartnerApiCalls => "partner_api_calls",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|limit| limit.as_str() == value)
    }

    pub fn period(self) -> Period {
        match self {
            Self::StorageBytes | Self::Assets => Period::Total,
            _ => Period::Month,
        }
    }

    /// Over-quota on partner API calls is a rate limit (429, wait for the next period);
    /// everything else needs a bigger plan (402).
    pub fn is_rate(self) -> bool {
        self == Self::PartnerApiCalls
    }
}

/// One plan as the service uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub stripe_price_id: Option<String>,
    pub limits: BTreeMap<LimitName, u64>,
}

impl Plan {
    pub fn limit(&self, limit: LimitName) -> u64 {
        self.limits.get(&limit).copied().unwrap_or(0)
    }
}

/// The catalogue, in display order; the first plan is the one without a subscription.
#[derive(Debug, Clone)]
pub struct Catalogue {
    plans: Vec<Plan>,
    /// Limit → Stripe Billing Meter event name, for usage-based add-ons.
    meters: BTreeMap<LimitName, String>,
}

impl Catalogue {
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// The plan of a tenant with no (or an ended) subscription.
    pub fn free(&self) -> &Plan {
        &self.plans[0]
    }

    pub fn get(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|plan| plan.id == id)
    }

    pub fn by_price(&self, price_id: &str) -> Option<&Plan> {
        self.plans
            .iter()
            .find(|plan| plan.stripe_price_id.as_deref() == Some(price_id))
    }

    pub fn meter(&self, limit: LimitName) -> Option<&str> {
        self.meters.get(&limit).map(String::as_str)
    }
}

/// Overrides of one plan; anything unset keeps the built-in default.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct PlanOverride {
    pub name: Option<String>,
    pub stripe_price_id: Option<String>,
    pub limits: LimitOverrides,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct LimitOverrides {
    pub storage_bytes: Option<u64>,
    pub assets: Option<u64>,
    pub ai_text_generations: Option<u64>,
    pub image_generations: Option<u64>,
    pub video_seconds: Option<u64>,
    pub partner_api_calls: Option<u64>,
}

impl LimitOverrides {
    fn get(&self, limit: LimitName) -> Option<u64> {
        match limit {
            LimitName::StorageBytes => self.storage_bytes,
            LimitName::Assets => self.assets,
            LimitName::AiTextGenerations => self.ai_text_generations,
            LimitName::ImageGenerations => self.image_generations,
            LimitName::VideoSeconds => self.video_seconds,
            LimitName::PartnerApiCalls => self.partner_api_calls,
        }
    }
}

/// `plans.*` settings.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct PlanSettings {
    pub free: PlanOverride,
    pub pro: PlanOverride,
    pub business: PlanOverride,
    /// Limit name → Stripe Billing Meter `event_name` (usage-based add-ons).
    pub meters: BTreeMap<String, String>,
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            free: PlanOverride::default(),
            pro: PlanOverride::default(),
            business: PlanOverride::default(),
            meters: [
                ("ai_text_generations", "marquee_ai_text_generations"),
                ("image_generations", "marquee_image_generations"),
                ("video_seconds", "marquee_video_seconds"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        }
    }
}

const GIB: u64 = 1024 * 1024 * 1024;

/// Built-in defaults: (id, name, [storage, assets, ai text, images, video s, partner calls]).
const DEFAULTS: [(&str, &str, [u64; 6]); 3] = [
    ("free", "Free", [GIB, 100, 50, 10, 0, 1_000]),
    ("pro", "Pro", [100 * GIB, 10_000, 2_000, 500, 600, 100_000]),
    (
        "business",
        "Business",
        [1024 * GIB, 100_000, 20_000, 5_000, 6_000, 1_000_000],
    ),
];

impl PlanSettings {
    /// Builds the catalogue, rejecting duplicate price ids and unknown meter limits.
    pub fn catalogue(&self) -> anyhow::Result<Catalogue> {
        let overrides = [&self.free, &self.pro, &self.business];
        let mut plans = Vec::new();
        for ((id, name, values), custom) in DEFAULTS.iter().zip(overrides) {
            let limits = LimitName::ALL
                .into_iter()
                .zip(values.iter())
                .map(|(limit, default)| (limit, custom.limits.get(limit).unwrap_or(*default)))
                .collect();
            plans.push(Plan {
                id: (*id).to_string(),
                name: custom.name.clone().unwrap_or_else(|| (*name).to_string()),
                stripe_price_id: custom.stripe_price_id.clone().filter(|p| !p.is_empty()),
                limits,
            });
        }
        let mut prices: Vec<&str> = plans
            .iter()
            .filter_map(|p| p.stripe_price_id.as_deref())
            .collect();
        prices.sort_unstable();
        let count = prices.len();
        prices.dedup();
        anyhow::ensure!(
            prices.len() == count,
            "plans: two plans share a Stripe price id"
        );
        let mut meters = BTreeMap::new();
        for (limit, event) in &self.meters {
            let parsed = LimitName::parse(limit)
                .ok_or_else(|| anyhow::anyhow!("plans.meters: unknown limit {limit:?}"))?;
            if !event.is_empty() {
                meters.insert(parsed, event.clone());
            }
        }
        Ok(Catalogue { plans, meters })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_three_plans_growing_limits() {
        let catalogue = PlanSettings::default().catalogue().unwrap();
        let ids: Vec<&str> = catalogue.plans().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["free", "pro", "business"]);
        assert_eq!(catalogue.free().id, "free");
        for limit in LimitName::ALL {
            assert!(catalogue.get("pro").unwrap().limit(limit) >= catalogue.free().limit(limit));
            assert_eq!(LimitName::parse(limit.as_str()), Some(limit));
        }
        assert_eq!(
            catalogue.meter(LimitName::VideoSeconds),
            Some("marquee_video_seconds")
        );
        assert_eq!(LimitName::parse("bananas"), None);
    }

    #[test]
    fn overrides_apply_and_prices_map_back_to_plans() {
        let mut settings = PlanSettings::default();
        settings.pro.stripe_price_id = Some("price_pro".into());
        settings.free.limits.ai_text_generations = Some(3);
        let catalogue = settings.catalogue().unwrap();
        assert_eq!(catalogue.free().limit(LimitName::AiTextGenerations), 3);
        assert_eq!(catalogue.free().limit(LimitName::Assets), 100);
        assert_eq!(catalogue.by_price("price_pro").unwrap().id, "pro");
        settings.business.stripe_price_id = Some("price_pro".into());
        assert!(settings.catalogue().is_err());
    }
}
