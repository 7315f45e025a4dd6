import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { humanize } from "../lib/format";

type AssetTags = Schemas["AssetTagsBody"];
type Tag = Schemas["TagBody"];

/** Shows an asset's tags; its owner (or a moderator) can add and remove them. */
export function TagEditor({
  assetId,
  tags,
  canEdit,
  editorSource,
  onSaved,
}: {
  assetId: string;
  tags: AssetTags;
  canEdit: boolean;
  editorSource: "creator" | "moderator";
  onSaved: (tags: AssetTags) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Tag[]>(tags.tags);
  const [newTag, setNewTag] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const startEditing = () => {
    setDraft(tags.tags);
    setEditing(true);
    setSaved(false);
    setError(null);
  };

  const add = (event: FormEvent) => {
    event.preventDefault();
    const name = newTag.trim();
    if (!name) return;
    if (draft.some((tag) => tag.name.toLowerCase() === name.toLowerCase())) {
      setError(`“${name}” is already a tag.`);
      return;
    }
    if (draft.length >= 50) {
      setError("An asset can have at most 50 tags.");
      return;
    }
    setDraft([...draft, { name, confidence: 1, source: editorSource, provider: "" }]);
    setNewTag("");
    setError(null);
  };

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const next = await unwrap(
        api.PUT("/api/v1/assets/{id}/tags", {
          params: { path: { id: assetId } },
          body: { tags: draft.map((tag) => ({ name: tag.name, source: tag.source as "ai" | "creator" | "moderator" })) },
        }),
      );
      onSaved(next);
      setEditing(false);
      setSaved(true);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  const shown = editing ? draft : tags.tags;

  return (
    <div>
      {tags.state === "pending" ? <p className="muted small">AI tagging is in progress.</p> : null}
      {tags.state === "failed" ? (
        <p className="failure small">AI tagging failed{tags.failure_reason ? `: ${tags.failure_reason}` : ""}.</p>
      ) : null}
      {shown.length === 0 ? <p className="muted">No tags yet.</p> : null}
      <ul className="tags" aria-label="Asset tags">
        {shown.map((tag) => (
          <li key={tag.name} className="tag tag-chip">
            <span>
              {tag.name}
              <span className="visually-hidden">
                {" "}
                ({humanize(tag.source)}
                {tag.source === "ai" ? `, ${Math.round(tag.confidence * 100)}% confidence` : ""})
              </span>
            </span>
            {editing ? (
              <button
                type="button"
                aria-label={`Remove tag ${tag.name}`}
                onClick={() => setDraft(draft.filter((t) => t.name !== tag.name))}
              >
                ×
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {tags.palette.length > 0 ? (
        <p className="small muted">
          Palette: {tags.palette.join(", ")}
          {tags.orientation ? ` · ${humanize(tags.orientation)}` : ""}
        </p>
      ) : null}
      {saved ? (
        <p role="status" className="small">
          Tags saved.
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="failure small">
          {error}
        </p>
      ) : null}
      {canEdit && !editing ? (
        <button type="button" className="button secondary small" onClick={startEditing}>
          Edit tags
        </button>
      ) : null}
      {editing ? (
        <div className="stack">
          <form onSubmit={add} className="row">
            <label htmlFor={`new-tag-${assetId}`}>New tag</label>
            <input
              id={`new-tag-${assetId}`}
              type="text"
              maxLength={50}
              value={newTag}
              onChange={(e) => setNewTag(e.target.value)}
            />
            <button type="submit" className="button secondary small">
              Add tag
            </button>
          </form>
          <div className="button-row">
            <button type="button" className="button small" onClick={save} disabled={saving}>
              {saving ? "Saving…" : "Save tags"}
            </button>
            <button type="button" className="button secondary small" onClick={() => setEditing(false)}>
              Cancel editing
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}
