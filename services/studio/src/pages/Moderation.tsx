import { useState, type FormEvent } from "react";
import { TableWrap } from "../components/TableWrap";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { StatusBadge, Thumbnail } from "../components/AssetViews";
import { Dialog } from "../components/ConfirmDialog";
import { EmptyState, ErrorAlert, Loading } from "../components/StateViews";
import { formatBytes, formatDate, humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type Asset = Schemas["AssetBody"];
type Comment = Schemas["CommentBody"];

export default function ModerationPage() {
  usePageTitle("Moderation");
  // Both queues load in parallel.
  const assets = useAsync(() => unwrap(api.GET("/api/v1/moderation/assets", { params: { query: { limit: 50 } } })), []);
  const comments = useAsync(() => unwrap(api.GET("/api/v1/moderation/comments", { params: { query: { limit: 50 } } })), []);
  const [announcement, setAnnouncement] = useState("");
  const [rejecting, setRejecting] = useState<Asset | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const dropAsset = (id: string) => assets.setData((page) => ({ ...page!, items: page!.items.filter((a) => a.id !== id) }));
  const dropComment = (id: string) =>
    comments.setData((page) => ({ ...page!, items: page!.items.filter((c) => c.id !== id) }));

  async function approve(asset: Asset) {
    setBusy(asset.id);
    setActionError(null);
    try {
      await unwrap(api.POST("/api/v1/moderation/assets/{id}/approve", { params: { path: { id: asset.id } } }));
      dropAsset(asset.id);
      setAnnouncement(`Approved “${asset.title || asset.filename}”.`);
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function decideComment(comment: Comment, action: "restore" | "remove") {
    setBusy(comment.id);
    setActionError(null);
    try {
      if (action === "restore") {
        await unwrap(api.POST("/api/v1/moderation/comments/{id}/restore", { params: { path: { id: comment.id } } }));
      } else {
        await unwrap(api.POST("/api/v1/moderation/comments/{id}/remove", { params: { path: { id: comment.id } } }));
      }
      dropComment(comment.id);
      setAnnouncement(action === "restore" ? "Comment restored." : "Comment removed.");
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="stack">
      <h1>Moderation</h1>
      <p role="status" aria-live="polite" className="small">
        {announcement}
      </p>
      {actionError ? (
        <p role="alert" className="failure">
          {actionError}
        </p>
      ) : null}

      <section aria-labelledby="queue-heading">
        <h2 id="queue-heading">Assets awaiting review</h2>
        {assets.loading && !assets.data ? <Loading label="Loading the review queue…" /> : null}
        <ErrorAlert error={assets.error} onRetry={assets.reload} title="Could not load the review queue" />
        {assets.data && assets.data.items.length === 0 ? <EmptyState title="Nothing to review. Well done!" /> : null}
        {assets.data && assets.data.items.length > 0 ? (
          <ul className="grid" aria-label="Review queue">
            {assets.data.items.map((asset) => (
              <li key={asset.id}>
                <article className="card asset-card">
                  <Thumbnail id={asset.id} title={asset.title} kind={asset.kind} hasThumbnail={asset.has_thumbnail} />
                  <h3>
                    <Link to={`/assets/${asset.id}`}>{asset.title || asset.filename}</Link>
                  </h3>
                  <div className="row">
                    <StatusBadge status={asset.status} />
                    <span className="muted small">
                      {humanize(asset.kind)} · {formatBytes(asset.size_bytes)}
                    </span>
                  </div>
                  {asset.flags.length > 0 ? <p className="small failure">Flags: {asset.flags.join(", ")}</p> : null}
                  {asset.status_reason ? <p className="small">{asset.status_reason}</p> : null}
                  <div className="button-row">
                    <button
                      type="button"
                      className="button small"
                      disabled={busy === asset.id}
                      onClick={() => approve(asset)}
                      aria-label={`Approve ${asset.title || asset.filename}`}
                    >
                      Approve
                    </button>
                    <button
                      type="button"
                      className="button danger small"
                      disabled={busy === asset.id}
                      onClick={() => setRejecting(asset)}
                      aria-label={`Reject ${asset.title || asset.filename}`}
                    >
                      Reject
                    </button>
                  </div>
                </article>
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      <section aria-labelledby="reported-heading">
        <h2 id="reported-heading">Reported comments</h2>
        {comments.loading && !comments.data ? <Loading label="Loading reported comments…" /> : null}
        <ErrorAlert error={comments.error} onRetry={comments.reload} title="Could not load reported comments" />
        {comments.data && comments.data.items.length === 0 ? <EmptyState title="No reported comments" /> : null}
        {comments.data && comments.data.items.length > 0 ? (
          <TableWrap label="Reported comments">
            <table>
              <caption className="visually-hidden">Reported comments</caption>
              <thead>
                <tr>
                  <th scope="col">Comment</th>
                  <th scope="col">Reports</th>
                  <th scope="col">Status</th>
                  <th scope="col">Posted</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {comments.data.items.map((comment) => (
                  <tr key={comment.id}>
                    <td>
                      <p className="comment-body">{comment.body}</p>
                      <Link to={`/assets/${comment.asset_id}`} className="small">
                        On asset {comment.asset_id.slice(0, 8)}
                      </Link>
                    </td>
                    <td>{comment.reports ?? 0}</td>
                    <td>{humanize(comment.status)}</td>
                    <td>{formatDate(comment.created_at)}</td>
                    <td>
                      <div className="button-row">
                        <button
                          type="button"
                          className="button secondary small"
                          disabled={busy === comment.id}
                          onClick={() => decideComment(comment, "restore")}
                        >
                          Restore
                        </button>
                        <button
                          type="button"
                          className="button danger small"
                          disabled={busy === comment.id}
                          onClick={() => decideComment(comment, "remove")}
                        >
                          Remove
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </section>

      <RejectDialog
        asset={rejecting}
        onClose={() => setRejecting(null)}
        onRejected={(asset) => {
          dropAsset(asset.id);
          setAnnouncement(`Rejected “${asset.title || asset.filename}”.`);
          setRejecting(null);
        }}
      />
    </div>
  );
}

function RejectDialog({ asset, onClose, onRejected }: { asset: Asset | null; onClose: () => void; onRejected: (asset: Asset) => void }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!asset) return;
    if (!reason.trim()) {
      setError("Give a reason: the creator will see it.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST("/api/v1/moderation/assets/{id}/reject", { params: { path: { id: asset.id } }, body: { reason } }));
      setReason("");
      onRejected(asset);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={asset !== null} title={`Reject “${asset?.title || asset?.filename || ""}”`} onClose={onClose}>
      <form onSubmit={submit} className="form">
        <div className="field">
          <label htmlFor="reject-reason">Reason (shown to the creator)</label>
          <textarea
            id="reject-reason"
            required
            maxLength={1000}
            value={reason}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "reject-error" : undefined}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        {error ? (
          <p id="reject-error" role="alert" className="failure">
            {error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button danger" disabled={busy}>
            {busy ? "Rejecting…" : "Reject"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
