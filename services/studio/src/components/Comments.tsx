import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage, isApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { formatDate } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { Dialog } from "./ConfirmDialog";
import { EmptyState, ErrorAlert, Loading } from "./StateViews";

type Comment = Schemas["CommentBody"];

export function Comments({ assetId, commentable }: { assetId: string; commentable: boolean }) {
  const { user, isModerator } = useAuth();
  const [extra, setExtra] = useState<Comment[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [body, setBody] = useState("");
  const [posting, setPosting] = useState(false);
  const [postError, setPostError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [reporting, setReporting] = useState<Comment | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);

  const page = useAsync(async () => {
    setExtra([]);
    setCursor(undefined);
    return unwrap(api.GET("/api/v1/assets/{id}/comments", { params: { path: { id: assetId }, query: { limit: 20 } } }));
  }, [assetId]);

  const comments = [...(page.data?.items ?? []), ...extra];
  const next = cursor === undefined ? (page.data?.next_cursor ?? null) : cursor;

  const replace = (updated: Comment) => {
    page.setData((p) => (p ? { ...p, items: p.items.map((c) => (c.id === updated.id ? updated : c)) } : p!));
    setExtra((list) => list.map((c) => (c.id === updated.id ? updated : c)));
  };
  const removeLocal = (id: string) => {
    page.setData((p) => (p ? { ...p, items: p.items.filter((c) => c.id !== id) } : p!));
    setExtra((list) => list.filter((c) => c.id !== id));
  };

  async function post(event: FormEvent) {
    event.preventDefault();
    if (!body.trim()) {
      setPostError("Write something first.");
      return;
    }
    setPosting(true);
    setPostError(null);
    setNotice(null);
    try {
      const created = await unwrap(api.POST("/api/v1/assets/{id}/comments", { params: { path: { id: assetId } }, body: { body } }));
      page.setData((p) => (p ? { ...p, items: [created, ...p.items] } : { items: [created], next_cursor: null }));
      setBody("");
      setNotice("Comment posted.");
    } catch (e) {
      const retry = isApiError(e) && e.status === 429 ? " Wait a little before commenting again." : "";
      setPostError(errorMessage(e) + retry);
    } finally {
      setPosting(false);
    }
  }

  async function loadMore() {
    if (!next) return;
    try {
      const more = await unwrap(
        api.GET("/api/v1/assets/{id}/comments", { params: { path: { id: assetId }, query: { limit: 20, cursor: next } } }),
      );
      setExtra((list) => [...list, ...more.items]);
      setCursor(more.next_cursor ?? null);
    } catch (e) {
      setNotice(errorMessage(e));
    }
  }

  async function remove(comment: Comment) {
    setBusyId(comment.id);
    setNotice(null);
    try {
      await unwrap(api.DELETE("/api/v1/comments/{id}", { params: { path: { id: comment.id } } }));
      removeLocal(comment.id);
      setNotice("Comment deleted.");
    } catch (e) {
      setNotice(errorMessage(e));
    } finally {
      setBusyId(null);
    }
  }

  return (
    <section aria-labelledby="comments-heading">
      <h2 id="comments-heading">Comments</h2>
      {commentable ? (
        <form onSubmit={post} className="form">
          <div className="field">
            <label htmlFor="comment-body">Your comment</label>
            <textarea
              id="comment-body"
              maxLength={2000}
              value={body}
              aria-invalid={postError ? true : undefined}
              aria-describedby={postError ? "comment-error" : undefined}
              onChange={(e) => setBody(e.target.value)}
            />
          </div>
          {postError ? (
            <p id="comment-error" role="alert" className="failure">
              {postError}
            </p>
          ) : null}
          <div>
            <button type="submit" className="button" disabled={posting}>
              {posting ? "Posting…" : "Post comment"}
            </button>
          </div>
        </form>
      ) : (
        <p className="muted">Comments open once the asset is published.</p>
      )}
      <p role="status" aria-live="polite" className="small">
        {notice}
      </p>
      {page.loading && !page.data ? <Loading label="Loading comments…" /> : null}
      <ErrorAlert error={page.error} onRetry={page.reload} title="Could not load comments" />
      {page.data && comments.length === 0 ? <EmptyState title="No comments yet" /> : null}
      {comments.length > 0 ? (
        <ul className="list" aria-label="Comments">
          {comments.map((comment) => {
            const mine = comment.author_id === user?.id;
            return (
              <li key={comment.id} className="comment">
                <p className="comment-meta">
                  {mine ? "You" : <Link to={`/creators/${comment.author_id}`}>Creator {comment.author_id.slice(0, 8)}</Link>} ·{" "}
                  <time dateTime={comment.created_at}>{formatDate(comment.created_at)}</time>
                  {comment.status !== "visible" ? <span className="badge warn"> {comment.status}</span> : null}
                </p>
                <p className="comment-body">{comment.body}</p>
                <div className="button-row">
                  {mine || isModerator ? (
                    <button
                      type="button"
                      className="button secondary small"
                      onClick={() => remove(comment)}
                      disabled={busyId === comment.id}
                     aria-label="Delete comment">
                      Delete
                    </button>
                  ) : null}
                  {!mine ? (
                    <button type="button" className="button secondary small" onClick={() => setReporting(comment)} aria-label="Report comment">
                      Report
                    </button>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}
      {next ? (
        <button type="button" className="button secondary" onClick={loadMore}>
          Load more comments
        </button>
      ) : null}
      <ReportDialog
        comment={reporting}
        onClose={() => setReporting(null)}
        onReported={(hidden) => {
          if (reporting && hidden) replace({ ...reporting, status: "hidden" });
          setNotice(hidden ? "Thanks. The comment is hidden while moderators review it." : "Thanks. Moderators will review it.");
          setReporting(null);
        }}
      />
    </section>
  );
}

function ReportDialog({
  comment,
  onClose,
  onReported,
}: {
  comment: Comment | null;
  onClose: () => void;
  onReported: (hidden: boolean) => void;
}) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!comment) return;
    setBusy(true);
    setError(null);
    try {
      const result = await unwrap(
        api.POST("/api/v1/comments/{id}/report", { params: { path: { id: comment.id } }, body: { reason } }),
      );
      setReason("");
      onReported(result.hidden);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={comment !== null} title="Report comment" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <div className="field">
          <label htmlFor="report-reason">Why should moderators look at it? (optional)</label>
          <textarea id="report-reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        </div>
        {error ? (
          <p role="alert" className="failure">
            {error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button danger" disabled={busy}>
            {busy ? "Reporting…" : "Send report"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
