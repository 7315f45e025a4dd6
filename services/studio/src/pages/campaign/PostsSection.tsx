import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { errorMessage, isApiError } from "../../api/errors";
import type { Job } from "../../api/jobs";
import { contentUrl } from "../../components/AssetViews";
import { CharCounter } from "../../components/CharCounter";
import { JobProgress } from "../../components/JobProgress";
import { EmptyState, ErrorAlert } from "../../components/StateViews";
import { formatDate, humanize } from "../../lib/format";
import { idempotencyKey } from "../../lib/idempotency";
import { measurePost, platformLabel } from "../../lib/social/counters";
import type { TrackedJob } from "./useJobs";

type Campaign = Schemas["CampaignBody"];
type Post = Schemas["PostBody"];

export function PostsSection({
  campaign,
  jobs,
  track,
  onChanged,
  onReload,
}: {
  campaign: Campaign;
  jobs: Record<string, TrackedJob>;
  track: (key: string, label: string, job: Job) => void;
  onChanged: (campaign: Campaign) => void;
  onReload: () => void;
}) {
  const [append, setAppend] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [platform, setPlatform] = useState("");
  const generating = jobs.generate && !["succeeded", "failed", "cancelled"].includes(jobs.generate.job.state);

  async function generate() {
    setBusy(true);
    setError(undefined);
    try {
      const job = await unwrap(
        api.POST("/api/v1/campaigns/{id}/posts/generate", {
          params: { path: { id: campaign.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { append },
        }),
      );
      track("generate", append ? "Writing more posts" : "Writing the posts", job);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const replacePost = (post: Post) => onChanged({ ...campaign, posts: campaign.posts.map((p) => (p.id === post.id ? post : p)) });
  const posts = platform ? campaign.posts.filter((p) => p.platform === platform) : campaign.posts;
  const selected = campaign.posts.filter((p) => p.selected).length;
  const handle = campaign.analysis?.company_name || campaign.name;

  return (
    <section id="posts" className="studio-section stack" aria-labelledby="posts-heading">
      <div className="spread">
        <h2 id="posts-heading">Posts</h2>
        <div className="row">
          <div className="field-inline">
            <input id="append-posts" type="checkbox" checked={append} onChange={(e) => setAppend(e.target.checked)} />
            <label htmlFor="append-posts">Keep existing posts</label>
          </div>
          <button type="button" className="button" onClick={generate} disabled={busy || Boolean(generating)}>
            Generate posts
          </button>
        </div>
      </div>
      <ErrorAlert error={error} />
      {jobs.generate ? <JobProgress key={jobs.generate.job.id} job={jobs.generate.job} label={jobs.generate.label} onFinished={onReload} /> : null}
      {campaign.posts.length === 0 ? (
        <EmptyState title="No posts yet">
          <p>Generate posts: the studio writes them for each platform, within each platform's rules.</p>
        </EmptyState>
      ) : (
        <>
          <div className="spread">
            <p className="muted">
              {campaign.posts.length} posts · {selected} selected for the calendar
            </p>
            <div className="field-inline">
              <label htmlFor="post-platform-filter">Platform</label>
              <select id="post-platform-filter" value={platform} onChange={(e) => setPlatform(e.target.value)}>
                <option value="">All platforms</option>
                {campaign.platforms.map((p) => (
                  <option key={p} value={p}>
                    {platformLabel(p)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <ul className="posts" aria-label="Posts">
            {posts.map((post, index) => (
              <PostCard
                key={post.id}
                index={index + 1}
                campaignId={campaign.id}
                post={post}
                handle={handle}
                jobs={jobs}
                track={track}
                onSaved={replacePost}
                onReload={onReload}
              />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

export function PostCard({
  index,
  campaignId,
  post,
  handle,
  jobs,
  track,
  onSaved,
  onReload,
}: {
  index: number;
  campaignId: string;
  post: Post;
  handle: string;
  jobs: Record<string, TrackedJob>;
  track: (key: string, label: string, job: Job) => void;
  onSaved: (post: Post) => void;
  onReload: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(post.content);
  const [instructions, setInstructions] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const published = post.status === "published";
  const label = `${platformLabel(post.platform)} post ${index}`;
  const textId = `post-text-${post.id}`;
  const counterId = `post-counter-${post.id}`;
  const path = { params: { path: { id: campaignId, post_id: post.id } } };

  async function patch(body: { content?: string; selected?: boolean }, done: string) {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const next = await unwrap(api.PATCH("/api/v1/campaigns/{id}/posts/{post_id}", { ...path, body }));
      onSaved(next);
      setStatus(done);
      return true;
    } catch (e) {
      const detail = errorMessage(e);
      setError(isApiError(e, "post_breaks_platform_rules") ? `${platformLabel(post.platform)} would refuse this text: ${detail}` : detail);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (await patch({ content: draft }, "Post saved.")) setEditing(false);
  }

  async function regenerate() {
    setBusy(true);
    setError(null);
    try {
      const job = await unwrap(
        api.POST("/api/v1/campaigns/{id}/posts/{post_id}/regenerate", {
          params: { path: { id: campaignId, post_id: post.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: instructions.trim() ? { instructions } : {},
        }),
      );
      track(`regen-${post.id}`, `Rewriting ${label}`, job);
      setInstructions("");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function makeMedia(media: "image" | "video") {
    setBusy(true);
    setError(null);
    try {
      const job = await unwrap(
        api.POST("/api/v1/campaigns/{id}/posts/{post_id}/media", {
          params: { path: { id: campaignId, post_id: post.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { media },
        }),
      );
      track(`media-${post.id}`, `Making a${media === "image" ? "n image" : " video"} for ${label}`, job);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const regen = jobs[`regen-${post.id}`];
  const media = jobs[`media-${post.id}`];
  const over = editing && measurePost(post.platform, draft).over;

  return (
    <li className={`post-card platform-${post.platform}`} aria-label={label}>
      <div className="post-head">
        <span className="post-avatar" aria-hidden="true" />
        <div>
          <strong>{handle}</strong>
          <div className="post-handle">
            {platformLabel(post.platform)} · {humanize(post.kind)}
          </div>
        </div>
      </div>
      {editing ? (
        <form onSubmit={save} className="form">
          <div className="field">
            <label htmlFor={textId}>Text of {label}</label>
            <textarea
              id={textId}
              value={draft}
              maxLength={63206}
              aria-describedby={counterId}
              aria-invalid={over || error ? true : undefined}
              onChange={(e) => setDraft(e.target.value)}
            />
            <CharCounter id={counterId} platform={post.platform} text={draft} />
          </div>
          <div className="button-row">
            <button type="submit" className="button small" disabled={busy}>
              {busy ? "Saving…" : "Save post"}
            </button>
            <button
              type="button"
              className="button secondary small"
              onClick={() => {
                setEditing(false);
                setDraft(post.content);
                setError(null);
              }}
            >
              Cancel editing
            </button>
          </div>
        </form>
      ) : (
        <>
          <p className="post-text">{post.content}</p>
          <CharCounter id={counterId} platform={post.platform} text={post.content} />
        </>
      )}
      {post.asset_id ? (
        <div className="post-media">
          {post.kind === "text_video" ? (
            <video controls preload="metadata" src={contentUrl(post.asset_id)} aria-label={`Video for ${label}`} />
          ) : (
            <img src={contentUrl(post.asset_id)} alt={post.media_prompt || `Picture for ${label}`} loading="lazy" />
          )}
          {post.media_provider ? <p className="small muted">Made by {post.media_provider}</p> : null}
        </div>
      ) : null}
      <div className="row small">
        <span className={`badge ${post.status === "published" ? "ok" : post.status === "failed" ? "bad" : ""}`}>
          {humanize(post.status)}
        </span>
        <span>Engagement score {post.engagement.score}/100</span>
        {post.theme ? <span className="muted">Theme: {post.theme}</span> : null}
      </div>
      {post.scheduled_at ? <p className="small">Scheduled for {formatDate(post.scheduled_at)}</p> : null}
      {post.failure_reason ? <p className="small failure">Publishing failed: {post.failure_reason}</p> : null}
      {post.engagement.reasons.length > 0 || post.repairs.length > 0 ? (
        <details>
          <summary>Why this score{post.repairs.length ? " and what was fixed" : ""}</summary>
          <ul className="small">
            {post.engagement.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
            {post.repairs.map((repair) => (
              <li key={repair}>Fixed: {repair}</li>
            ))}
          </ul>
        </details>
      ) : null}
      <p className="small muted">Written by {post.provider}{post.ai_generated ? " (AI)" : ""}</p>
      <div className="field-inline">
        <input
          id={`select-${post.id}`}
          type="checkbox"
          checked={post.selected}
          disabled={busy || published}
          onChange={(e) => void patch({ selected: e.target.checked }, e.target.checked ? "Selected." : "Unselected.")}
        />
        <label htmlFor={`select-${post.id}`}>Select {label} for the calendar</label>
      </div>
      {error ? (
        <p role="alert" className="failure small">
          {error}
        </p>
      ) : null}
      <p role="status" className="small">
        {status}
      </p>
      {regen ? <JobProgress key={regen.job.id} job={regen.job} label={regen.label} onFinished={onReload} /> : null}
      {media ? <JobProgress key={media.job.id} job={media.job} label={media.label} onFinished={onReload} /> : null}
      {!published && !editing ? (
        <div className="stack">
          <div className="button-row">
            <button type="button" className="button secondary small" onClick={() => { setDraft(post.content); setEditing(true); setStatus(null); }} aria-label={`Edit ${label}`}>
              Edit
            </button>
            <button type="button" className="button secondary small" onClick={() => makeMedia("image")} disabled={busy} aria-label={`Create image for ${label}`}>
              Create image
            </button>
            <button type="button" className="button secondary small" onClick={() => makeMedia("video")} disabled={busy} aria-label={`Create video for ${label}`}>
              Create video
            </button>
          </div>
          <div className="row">
            <label htmlFor={`instructions-${post.id}`} className="small">
              Rewrite instructions (optional)
            </label>
            <input
              id={`instructions-${post.id}`}
              type="text"
              maxLength={1000}
              value={instructions}
              onChange={(e) => setInstructions(e.target.value)}
            />
            <button type="button" className="button secondary small" onClick={regenerate} disabled={busy} aria-label={`Regenerate ${label}`}>
              Regenerate
            </button>
          </div>
        </div>
      ) : null}
    </li>
  );
}
