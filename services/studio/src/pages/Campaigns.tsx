import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { EmptyState, ErrorAlert, Loading } from "../components/StateViews";
import { formatDate, humanize } from "../lib/format";
import { idempotencyKey } from "../lib/idempotency";
import { platformLabel } from "../lib/social/platforms";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";
import { BriefForm, defaultBrief, type Brief } from "./campaign/BriefForm";

type Summary = Schemas["CampaignSummaryBody"];

export function briefBody(brief: Brief) {
  return {
    name: brief.name.trim(),
    objective: brief.objective,
    campaign_type: brief.campaign_type as Schemas["CampaignTypeName"],
    business_description: brief.business_description,
    urls: brief.urls,
    asset_ids: brief.asset_ids,
    target_audience: brief.target_audience,
    platforms: brief.platforms as Schemas["PlatformName"][],
    creativity: brief.creativity,
    post_count: brief.post_count,
    time_zone: brief.time_zone as Schemas["TimeZoneName"],
  };
}

export default function CampaignsPage() {
  usePageTitle("Campaigns");
  const navigate = useNavigate();
  const campaigns = useAsync(() => unwrap(api.GET("/api/v1/campaigns", { params: { query: { limit: 50 } } })), []);
  const [creating, setCreating] = useState(false);
  const [more, setMore] = useState<{ items: Summary[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const items = [...(campaigns.data?.items ?? []), ...(more?.items ?? [])];
  const next = more ? more.cursor : (campaigns.data?.next_cursor ?? null);

  async function create(brief: Brief) {
    const campaign = await unwrap(
      api.POST("/api/v1/campaigns", {
        params: { header: { "Idempotency-Key": idempotencyKey() } },
        body: briefBody(brief),
      }),
    );
    navigate(`/campaigns/${campaign.id}`);
  }

  async function loadMore() {
    if (!next) return;
    try {
      const page = await unwrap(api.GET("/api/v1/campaigns", { params: { query: { limit: 50, cursor: next } } }));
      setMore((prev) => ({ items: [...(prev?.items ?? []), ...page.items], cursor: page.next_cursor ?? null }));
    } catch (e) {
      setMoreError(errorMessage(e));
    }
  }

  return (
    <div className="stack">
      <div className="page-header">
        <h1>Campaigns</h1>
        {!creating ? (
          <button type="button" className="button" onClick={() => setCreating(true)}>
            New campaign
          </button>
        ) : null}
      </div>
      {creating ? (
        <section className="card" aria-labelledby="new-campaign-heading">
          <h2 id="new-campaign-heading">New campaign</h2>
          <BriefForm initial={defaultBrief()} submitLabel="Create campaign" onSubmit={create} onCancel={() => setCreating(false)} />
        </section>
      ) : null}
      <section aria-labelledby="campaign-list-heading">
        <h2 id="campaign-list-heading">Your campaigns</h2>
        {campaigns.loading && !campaigns.data ? <Loading label="Loading campaigns…" /> : null}
        <ErrorAlert error={campaigns.error} onRetry={campaigns.reload} title="Could not load campaigns" />
        {campaigns.data && items.length === 0 ? (
          <EmptyState title="No campaigns yet">
            <p>Start one from a short description of your business.</p>
          </EmptyState>
        ) : null}
        {items.length > 0 ? (
          <ul className="grid" aria-label="Campaigns">
            {items.map((campaign) => (
              <li key={campaign.id}>
                <article className="card stack">
                  <h3>
                    <Link to={`/campaigns/${campaign.id}`}>{campaign.name}</Link>
                  </h3>
                  <p className="row">
                    <span className="badge">{humanize(campaign.status)}</span>
                    <span className="muted small">{humanize(campaign.campaign_type)}</span>
                  </p>
                  <p className="small">{campaign.platforms.map(platformLabel).join(", ")}</p>
                  <p className="muted small">Updated {formatDate(campaign.updated_at)}</p>
                </article>
              </li>
            ))}
          </ul>
        ) : null}
        {moreError ? (
          <p role="alert" className="failure">
            {moreError}
          </p>
        ) : null}
        {next ? (
          <button type="button" className="button secondary" onClick={loadMore}>
            More campaigns
          </button>
        ) : null}
      </section>
    </div>
  );
}
