import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { contentUrl, StatusBadge, Thumbnail } from "../components/AssetViews";
import { Comments } from "../components/Comments";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { FollowButton } from "../components/FollowButton";
import { EmptyState, ErrorAlert, Loading } from "../components/StateViews";
import { TagEditor } from "../components/TagEditor";
import { formatBytes, formatDate, humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type Asset = Schemas["AssetBody"];

export function AssetDetail() {
  const { id = "" } = useParams();
  const { user, isModerator } = useAuth();
  // Asset, tags and similar assets load in parallel; the creator needs the asset's owner.
  const asset = useAsync(() => unwrap(api.GET("/api/v1/assets/{id}", { params: { path: { id } } })), [id]);
  const tags = useAsync(() => unwrap(api.GET("/api/v1/assets/{id}/tags", { params: { path: { id } } })), [id]);
  const similar = useAsync(
    () => unwrap(api.GET("/api/v1/assets/{id}/similar", { params: { path: { id }, query: { limit: 8 } } })),
    [id],
  );
  usePageTitle(asset.data?.title ?? "Asset");

  if (asset.loading && !asset.data) return <Loading label="Loading asset…" />;
  if (asset.error || !asset.data) {
    return (
      <section>
        <h1>Asset</h1>
        <ErrorAlert error={asset.error ?? new Error("Not found")} onRetry={asset.reload} title="Could not load this asset" />
      </section>
    );
  }
  const a = asset.data;
  const isOwner = a.owner_id === user?.id;

  return (
    <article>
      <div className="page-header">
        <h1>{a.title || a.filename || "Untitled"}</h1>
        <StatusBadge status={a.status} />
      </div>
      <div className="two-col">
        <div className="stack">
          <Preview asset={a} />
          {a.description ? <p className="comment-body">{a.description}</p> : null}
          {isOwner ? <OwnerActions asset={a} onChange={(next) => asset.setData(next)} /> : null}
          <section aria-labelledby="tags-heading" className="card">
            <h2 id="tags-heading">Tags</h2>
            {tags.loading && !tags.data ? <Loading label="Loading tags…" /> : null}
            <ErrorAlert error={tags.error} onRetry={tags.reload} />
            {tags.data ? (
              <TagEditor
                assetId={a.id}
                tags={tags.data}
                canEdit={isOwner || isModerator}
                editorSource={isOwner ? "creator" : "moderator"}
                onSaved={(next) => tags.setData(next)}
              />
            ) : null}
          </section>
          <Comments assetId={a.id} commentable={a.status === "ready"} />
        </div>
        <aside className="stack" aria-label="About this asset">
          <CreatorCard ownerId={a.owner_id} isSelf={isOwner} />
          <section className="card" aria-labelledby="details-heading">
            <h2 id="details-heading">Details</h2>
            <dl className="meta">
              <dt>Kind</dt>
              <dd>{humanize(a.kind)}</dd>
              <dt>Type</dt>
              <dd>{a.content_type}</dd>
              <dt>Size</dt>
              <dd>{formatBytes(a.size_bytes)}</dd>
              {a.width && a.height ? (
                <>
                  <dt>Dimensions</dt>
                  <dd>
                    {a.width} × {a.height}
                  </dd>
                </>
              ) : null}
              {a.duration_ms ? (
                <>
                  <dt>Duration</dt>
                  <dd>{Math.round(a.duration_ms / 1000)} s</dd>
                </>
              ) : null}
              {a.page_count ? (
                <>
                  <dt>Pages</dt>
                  <dd>{a.page_count}</dd>
                </>
              ) : null}
              <dt>File</dt>
              <dd>{a.filename}</dd>
              <dt>Uploaded</dt>
              <dd>{formatDate(a.created_at)}</dd>
              {a.status_reason ? (
                <>
                  <dt>{a.status === "failed" ? "Failure reason" : "Status reason"}</dt>
                  <dd className={a.status === "failed" || a.status === "rejected" ? "failure" : undefined}>{a.status_reason}</dd>
                </>
              ) : null}
              {a.flags.length > 0 ? (
                <>
                  <dt>Flags</dt>
                  <dd>{a.flags.join(", ")}</dd>
                </>
              ) : null}
            </dl>
            {a.text_excerpt ? (
              <>
                <h3>Excerpt</h3>
                <p className="comment-body small">{a.text_excerpt}</p>
              </>
            ) : null}
          </section>
          <section className="card" aria-labelledby="similar-heading">
            <h2 id="similar-heading">Similar assets</h2>
            {similar.loading && !similar.data ? <Loading label="Finding similar assets…" /> : null}
            <ErrorAlert error={similar.error} onRetry={similar.reload} />
            {similar.data && similar.data.items.length === 0 ? <EmptyState title="Nothing similar yet" /> : null}
            {similar.data && similar.data.items.length > 0 ? (
              <ul className="list">
                {similar.data.items.map((hit) => (
                  <li key={hit.asset_id} className="row">
                    <div className="similar-thumb">
                      <Thumbnail id={hit.asset_id} title={hit.title} kind={hit.kind} hasThumbnail={false} url={hit.thumbnail_url} />
                    </div>
                    <Link to={`/assets/${hit.asset_id}`}>{hit.title || "Untitled"}</Link>
                  </li>
                ))}
              </ul>
            ) : null}
          </section>
        </aside>
      </div>
    </article>
  );
}

function Preview({ asset }: { asset: Asset }) {
  const src = contentUrl(asset.id);
  const label = asset.title || asset.filename;
  if (asset.kind === "image") {
    return (
      <div className="preview">
        <img src={src} alt={asset.description ? asset.description.slice(0, 200) : label} />
      </div>
    );
  }
  if (asset.kind === "video") {
    return (
      <div className="preview">
        <video
          controls
          preload="metadata"
          src={src}
          poster={asset.has_thumbnail ? contentUrl(asset.id, "thumbnail") : undefined}
          aria-label={label}
        >
          <a href={src}>Download the video</a>
        </video>
      </div>
    );
  }
  if (asset.kind === "audio") {
    return (
      <div className="card">
        <audio controls preload="metadata" src={src} aria-label={label}>
          <a href={src}>Download the audio</a>
        </audio>
      </div>
    );
  }
  return (
    <div className="preview">
      {asset.has_thumbnail ? (
        <img src={contentUrl(asset.id, "thumbnail")} alt={`First page of ${label}`} />
      ) : (
        <p className="preview-fallback">No preview for this {asset.kind}.</p>
      )}
      <p className="preview-fallback">
        <a href={src} className="button secondary">
          Download {asset.filename}
        </a>
      </p>
    </div>
  );
}

function OwnerActions({ asset, onChange }: { asset: Asset; onChange: (asset: Asset) => void }) {
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(asset.title);
  const [description, setDescription] = useState(asset.description);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const next = await unwrap(
        api.PATCH("/api/v1/assets/{id}", { params: { path: { id: asset.id } }, body: { title, description } }),
      );
      onChange(next);
      setEditing(false);
      setMessage("Saved.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function retry() {
    setBusy(true);
    setError(null);
    try {
      const next = await unwrap(api.POST("/api/v1/assets/{id}/retry", { params: { path: { id: asset.id } } }));
      onChange(next as Asset);
      setMessage("Processing was started again.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    try {
      await unwrap(api.DELETE("/api/v1/assets/{id}", { params: { path: { id: asset.id } } }));
      navigate("/dashboard");
    } catch (e) {
      setError(errorMessage(e));
      setConfirmDelete(false);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="owner-heading">
      <h2 id="owner-heading">Manage</h2>
      {editing ? (
        <form onSubmit={save} className="form">
          <div className="field">
            <label htmlFor="asset-title">Title</label>
            <input id="asset-title" type="text" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="asset-description">Description</label>
            <textarea id="asset-description" maxLength={5000} value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <div className="button-row">
            <button type="submit" className="button" disabled={busy}>
              Save changes
            </button>
            <button type="button" className="button secondary" onClick={() => setEditing(false)}>
              Cancel editing
            </button>
          </div>
        </form>
      ) : (
        <div className="button-row">
          <button type="button" className="button secondary" onClick={() => setEditing(true)}>
            Edit title and description
          </button>
          {asset.status === "failed" ? (
            <button type="button" className="button secondary" onClick={retry} disabled={busy}>
              Retry processing
            </button>
          ) : null}
          <button type="button" className="button danger" onClick={() => setConfirmDelete(true)}>
            Delete asset
          </button>
        </div>
      )}
      <p role="status" className="small">
        {message}
      </p>
      {error ? (
        <p role="alert" className="failure">
          {error}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirmDelete}
        title="Delete this asset?"
        confirmLabel="Delete asset"
        danger
        busy={busy}
        onConfirm={remove}
        onCancel={() => setConfirmDelete(false)}
      >
        <p>“{asset.title || asset.filename}” and its comments will be deleted. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}

function CreatorCard({ ownerId, isSelf }: { ownerId: string; isSelf: boolean }) {
  const creator = useAsync(() => unwrap(api.GET("/api/v1/creators/{id}", { params: { path: { id: ownerId } } })), [ownerId]);
  return (
    <section className="card" aria-labelledby="creator-heading">
      <h2 id="creator-heading">Creator</h2>
      {creator.loading && !creator.data ? <Loading label="Loading creator…" /> : null}
      <ErrorAlert error={creator.error} onRetry={creator.reload} />
      {creator.data ? (
        <div className="stack">
          <p>
            <Link to={`/creators/${creator.data.id}`}>{creator.data.display_name || "Unnamed creator"}</Link>
            <br />
            <span className="muted small">
              {creator.data.followers} followers · {creator.data.following} following
            </span>
          </p>
          {isSelf ? (
            <p className="muted small">This is you.</p>
          ) : (
            <FollowButton
              creatorId={creator.data.id}
              creatorName={creator.data.display_name || "this creator"}
              following={creator.data.followed_by_me}
              onChange={(state) =>
                creator.setData((c) => ({ ...c!, followed_by_me: state.following, followers: state.followers }))
              }
            />
          )}
        </div>
      ) : null}
    </section>
  );
}
