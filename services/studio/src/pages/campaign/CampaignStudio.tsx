import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import type { Job } from "../../api/jobs";
import { JobProgress } from "../../components/JobProgress";
import { EmptyState, ErrorAlert, Loading } from "../../components/StateViews";
import { formatDate, humanize } from "../../lib/format";
import { idempotencyKey } from "../../lib/idempotency";
import { platformLabel } from "../../lib/social/platforms";
import { useAsync } from "../../lib/useAsync";
import { usePageTitle } from "../../lib/usePageTitle";
import { briefBody } from "../Campaigns";
import { BriefForm, type Brief } from "./BriefForm";
import { PostsSection } from "./PostsSection";
import { ScheduleSection } from "./ScheduleSection";
import { useJobs, type TrackedJob } from "./useJobs";

type Campaign = Schemas["CampaignBody"];

const STEPS = [
  ["brief", "Brief"],
  ["analysis", "Analysis"],
  ["strategy", "Themes and guidance"],
  ["chat", "Guidance chat"],
  ["posts", "Posts"],
  ["schedule", "Schedule"],
  ["export", "Export"],
] as const;

export default function CampaignStudio() {
  const { id = "" } = useParams();
  const campaign = useAsync(() => unwrap(api.GET("/api/v1/campaigns/{id}", { params: { path: { id } } })), [id]);
  const { jobs, track } = useJobs();
  usePageTitle(campaign.data ? `${campaign.data.name} · Campaign` : "Campaign");

  if (campaign.loading && !campaign.data) return <Loading label="Loading campaign…" />;
  if (!campaign.data) {
    return (
      <section>
        <h1>Campaign</h1>
        <ErrorAlert error={campaign.error} onRetry={campaign.reload} title="Could not load this campaign" />
        <p>
          <Link to="/campaigns">Back to campaigns</Link>
        </p>
      </section>
    );
  }
  const c = campaign.data;
  const reload = () => void campaign.reload();
  const jobView = (key: string) => {
    const tracked = jobs[key];
    return tracked ? <JobProgress key={tracked.job.id} job={tracked.job} label={tracked.label} onFinished={reload} /> : null;
  };

  return (
    <div className="stack">
      <div className="page-header">
        <div>
          <p className="small muted">
            <Link to="/campaigns">Campaigns</Link> /
          </p>
          <h1>{c.name}</h1>
        </div>
        <p className="row">
          <span className="badge">{humanize(c.status)}</span>
          <button type="button" className="button secondary small" onClick={reload}>
            Refresh
          </button>
        </p>
      </div>
      <nav aria-label="Campaign steps">
        <ol className="steps">
          {STEPS.map(([anchor, label]) => (
            <li key={anchor}>
              <a href={`#${anchor}`}>{label}</a>
            </li>
          ))}
        </ol>
      </nav>
      {campaign.error ? <ErrorAlert error={campaign.error} onRetry={reload} title="Could not refresh the campaign" /> : null}

      <BriefSection campaign={c} onSaved={(next) => campaign.setData(next)} />
      <AnalysisSection campaign={c} jobs={jobs} track={track} jobView={jobView} />
      <StrategySection campaign={c} onSaved={(next) => campaign.setData(next)} />
      <ChatSection campaign={c} track={track} jobView={jobView} />
      <PostsSection campaign={c} jobs={jobs} track={track} onChanged={(next) => campaign.setData(next)} onReload={reload} />
      <ScheduleSection campaign={c} onChanged={(next) => campaign.setData(next)} />
      <ExportSection campaign={c} />
    </div>
  );
}

function BriefSection({ campaign, onSaved }: { campaign: Campaign; onSaved: (c: Campaign) => void }) {
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const initial: Brief = {
    name: campaign.name,
    objective: campaign.objective,
    campaign_type: campaign.campaign_type,
    business_description: campaign.business_description,
    urls: campaign.urls,
    asset_ids: campaign.asset_ids,
    target_audience: campaign.target_audience,
    platforms: campaign.platforms,
    creativity: campaign.creativity,
    post_count: campaign.post_count,
    time_zone: campaign.time_zone,
  };
  async function save(brief: Brief) {
    const next = await unwrap(api.PATCH("/api/v1/campaigns/{id}", { params: { path: { id: campaign.id } }, body: briefBody(brief) }));
    onSaved(next);
    setEditing(false);
    setSaved(true);
  }
  return (
    <section id="brief" className="card studio-section" aria-labelledby="brief-heading">
      <div className="spread">
        <h2 id="brief-heading">Brief</h2>
        {!editing ? (
          <button type="button" className="button secondary small" onClick={() => { setEditing(true); setSaved(false); }}>
            Edit brief
          </button>
        ) : null}
      </div>
      {saved ? <p role="status">Brief saved.</p> : null}
      {editing ? (
        <BriefForm initial={initial} submitLabel="Save brief" onSubmit={save} onCancel={() => setEditing(false)} />
      ) : (
        <dl className="meta">
          <dt>Type</dt>
          <dd>{humanize(campaign.campaign_type)}</dd>
          <dt>Objective</dt>
          <dd>{campaign.objective || "—"}</dd>
          <dt>Business</dt>
          <dd className="comment-body">{campaign.business_description || "—"}</dd>
          <dt>Websites</dt>
          <dd>{campaign.urls.length ? campaign.urls.join(", ") : "—"}</dd>
          <dt>Audience</dt>
          <dd>{campaign.target_audience || "—"}</dd>
          <dt>Platforms</dt>
          <dd>{campaign.platforms.map(platformLabel).join(", ")}</dd>
          <dt>Posts</dt>
          <dd>
            {campaign.post_count} · creativity {campaign.creativity}/10 · {campaign.time_zone}
          </dd>
          <dt>Assets</dt>
          <dd>{campaign.asset_ids.length ? `${campaign.asset_ids.length} attached` : "none"}</dd>
        </dl>
      )}
    </section>
  );
}

function AnalysisSection({
  campaign,
  jobs,
  track,
  jobView,
}: {
  campaign: Campaign;
  jobs: Record<string, TrackedJob>;
  track: (key: string, label: string, job: Job) => void;
  jobView: (key: string) => ReactNode;
}) {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const running = jobs.analysis && !["succeeded", "failed", "cancelled"].includes(jobs.analysis.job.state);
  const a = campaign.analysis;

  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      const job = await unwrap(
        api.POST("/api/v1/campaigns/{id}/analysis", {
          params: { path: { id: campaign.id }, header: { "Idempotency-Key": idempotencyKey() } },
        }),
      );
      track("analysis", "Analysing the business", job);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section id="analysis" className="card studio-section" aria-labelledby="analysis-heading">
      <div className="spread">
        <h2 id="analysis-heading">Analysis</h2>
        <button type="button" className="button" onClick={run} disabled={busy || Boolean(running)}>
          {a ? "Run analysis again" : "Run analysis"}
        </button>
      </div>
      <ErrorAlert error={error} />
      {jobView("analysis")}
      {!a ? (
        <EmptyState title="Not analysed yet">
          <p>Run the analysis to get the company's voice, audience and key messages, plus suggested themes and hashtags.</p>
        </EmptyState>
      ) : (
        <div className="stack">
          <dl className="meta">
            <dt>Company</dt>
            <dd>{a.company_name || "—"}</dd>
            <dt>Industry</dt>
            <dd>{a.industry || "—"}</dd>
            <dt>Audience</dt>
            <dd>{a.target_audience || "—"}</dd>
            <dt>Brand voice</dt>
            <dd>{a.brand_voice || "—"}</dd>
            <dt>Product</dt>
            <dd>{a.product_context || "—"}</dd>
            <dt>Written by</dt>
            <dd>
              {a.provider} · {formatDate(a.created_at)}
            </dd>
          </dl>
          <AnalysisList title="Value propositions" items={a.value_propositions} />
          <AnalysisList title="Competitive advantages" items={a.competitive_advantages} />
          <AnalysisList title="Key messages" items={a.key_messages} />
          {a.sources.length > 0 ? <AnalysisList title="Sources" items={a.sources} /> : null}
        </div>
      )}
    </section>
  );
}

function AnalysisList({ title, items }: { title: string; items: string[] }) {
  if (items.length === 0) return null;
  return (
    <div>
      <h3>{title}</h3>
      <ul>
        {items.map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
    </div>
  );
}

function StrategySection({ campaign, onSaved }: { campaign: Campaign; onSaved: (c: Campaign) => void }) {
  const [themes, setThemes] = useState(campaign.themes);
  const [tags, setTags] = useState(campaign.tags);
  const [guidance, setGuidance] = useState(campaign.guidance);
  const [newTag, setNewTag] = useState("");
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [syncedAt, setSyncedAt] = useState(campaign.updated_at);

  // When the campaign changes on the server (analysis, chat), take its strategy.
  if (syncedAt !== campaign.updated_at) {
    setSyncedAt(campaign.updated_at);
    setThemes(campaign.themes);
    setTags(campaign.tags);
    setGuidance(campaign.guidance);
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setStatus(null);
    try {
      const next = await unwrap(
        api.PATCH("/api/v1/campaigns/{id}", {
          params: { path: { id: campaign.id } },
          body: {
            themes: themes.map((t) => ({ name: t.name, description: t.description, selected: t.selected })),
            tags: tags.map((t) => ({ name: t.name, selected: t.selected })),
            guidance,
          },
        }),
      );
      onSaved(next);
      setStatus("Themes, hashtags and guidance saved.");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function addTag(event: FormEvent) {
    event.preventDefault();
    const name = newTag.trim().replace(/^#/, "");
    if (!name || tags.some((t) => t.name.toLowerCase() === name.toLowerCase())) return;
    setTags([...tags, { name, selected: true, source: "creator" }]);
    setNewTag("");
  }

  return (
    <section id="strategy" className="card studio-section" aria-labelledby="strategy-heading">
      <h2 id="strategy-heading">Themes, hashtags and guidance</h2>
      {themes.length === 0 && tags.length === 0 && !guidance ? (
        <p className="muted">Run the analysis to get suggestions, or add your own below.</p>
      ) : null}
      <form id="strategy-form" onSubmit={save} className="form">
        <fieldset>
          <legend>Themes (the selected ones are used)</legend>
          {themes.length === 0 ? <p className="muted small">No themes yet.</p> : null}
          <ul className="list">
            {themes.map((theme, index) => (
              <li key={theme.name} className="field-inline">
                <input
                  id={`theme-${index}`}
                  type="checkbox"
                  checked={theme.selected}
                  onChange={(e) => setThemes(themes.map((t, i) => (i === index ? { ...t, selected: e.target.checked } : t)))}
                />
                <label htmlFor={`theme-${index}`}>
                  <strong>{theme.name}</strong>
                  {theme.description ? <span className="muted"> — {theme.description}</span> : null}
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
        <fieldset>
          <legend>Hashtags (the selected ones are used)</legend>
          {tags.length === 0 ? <p className="muted small">No hashtags yet.</p> : null}
          <div className="checkbox-grid">
            {tags.map((tag, index) => (
              <div key={tag.name} className="field-inline">
                <input
                  id={`hashtag-${index}`}
                  type="checkbox"
                  checked={tag.selected}
                  onChange={(e) => setTags(tags.map((t, i) => (i === index ? { ...t, selected: e.target.checked } : t)))}
                />
                <label htmlFor={`hashtag-${index}`}>#{tag.name}</label>
              </div>
            ))}
          </div>
        </fieldset>
        <div className="field">
          <label htmlFor="guidance">Guidance for the writer</label>
          <textarea id="guidance" maxLength={5000} value={guidance} onChange={(e) => setGuidance(e.target.value)} />
        </div>
      </form>
      <form onSubmit={addTag} className="row">
        <label htmlFor="new-hashtag">New hashtag</label>
        <input id="new-hashtag" type="text" maxLength={101} value={newTag} onChange={(e) => setNewTag(e.target.value)} />
        <button type="submit" className="button secondary small">
          Add hashtag
        </button>
      </form>
      <ErrorAlert error={error} />
      <p role="status" className="small">
        {status}
      </p>
      <div className="button-row">
        <button type="submit" form="strategy-form" className="button" disabled={busy}>
          {busy ? "Saving…" : "Save themes and guidance"}
        </button>
      </div>
    </section>
  );
}

function ChatSection({
  campaign,
  track,
  jobView,
}: {
  campaign: Campaign;
  track: (key: string, label: string, job: Job) => void;
  jobView: (key: string) => ReactNode;
}) {
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function send(event: FormEvent) {
    event.preventDefault();
    if (!message.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      const job = await unwrap(api.POST("/api/v1/campaigns/{id}/chat", { params: { path: { id: campaign.id } }, body: { message } }));
      track("chat", "Refining the guidance", job);
      setMessage("");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section id="chat" className="card studio-section" aria-labelledby="chat-heading">
      <h2 id="chat-heading">Guidance chat</h2>
      <p className="muted small">Ask for changes in plain words; the answer revises the guidance above. Each message uses one AI generation.</p>
      {campaign.chat.length === 0 ? (
        <p className="muted">No messages yet.</p>
      ) : (
        <ol className="chat" aria-label="Chat messages" tabIndex={0}>
          {campaign.chat.map((entry, index) => (
            <li key={`${entry.at}-${index}`} className={`chat-message ${entry.role === "user" ? "user" : "assistant"}`}>
              <span className="visually-hidden">{entry.role === "user" ? "You" : "Studio"}: </span>
              {entry.text}
            </li>
          ))}
        </ol>
      )}
      {jobView("chat")}
      <form onSubmit={send} className="form">
        <div className="field">
          <label htmlFor="chat-message">Message</label>
          <textarea id="chat-message" className="short" maxLength={2000} value={message} onChange={(e) => setMessage(e.target.value)} />
        </div>
        <ErrorAlert error={error} />
        <div>
          <button type="submit" className="button" disabled={busy || !message.trim()}>
            {busy ? "Sending…" : "Send message"}
          </button>
        </div>
      </form>
    </section>
  );
}

function ExportSection({ campaign }: { campaign: Campaign }) {
  const base = `/api/v1/campaigns/${encodeURIComponent(campaign.id)}/export?format=`;
  return (
    <section id="export" className="card studio-section" aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <p className="muted small">Download the campaign to share it or load it into another scheduler.</p>
      <div className="button-row">
        <a className="button secondary" href={`${base}json`} download>
          Export JSON
        </a>
        <a className="button secondary" href={`${base}csv`} download>
          Export CSV
        </a>
        <a className="button secondary" href={`${base}md`} download>
          Export Markdown
        </a>
      </div>
    </section>
  );
}
