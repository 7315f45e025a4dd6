import { useState, type DragEvent } from "react";
import { ACCEPTED_TYPES, MAX_UPLOAD_BYTES } from "../api/upload";
import { UploadItemView, useUploadQueue } from "../components/UploadQueue";
import { EmptyState } from "../components/StateViews";
import { formatBytes } from "../lib/format";
import { usePageTitle } from "../lib/usePageTitle";

export function UploadPage() {
  usePageTitle("Upload");
  const [tags, setTags] = useState("");
  const [description, setDescription] = useState("");
  const [dragging, setDragging] = useState(false);
  const queue = useUploadQueue({ tags, description });
  const pending = queue.items.filter((item) => item.state === "pending");
  const uploading = queue.items.filter((item) => item.state === "uploading").length;
  const done = queue.items.filter((item) => item.state === "done").length;

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (event.dataTransfer.files.length > 0) queue.add(event.dataTransfer.files);
  };

  return (
    <section>
      <h1>Upload</h1>
      <p>
        Images, videos, audio, PDFs and plain text, up to {formatBytes(MAX_UPLOAD_BYTES)} each. New uploads are processed and
        then reviewed before they are published.
      </p>
      <div
        className={`dropzone ${dragging ? "active" : ""}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drag and drop files here, or</p>
        <div className="field">
          <label htmlFor="upload-files">Choose files</label>
          <input
            id="upload-files"
            type="file"
            multiple
            accept={ACCEPTED_TYPES}
            onChange={(event) => {
              if (event.target.files) queue.add(event.target.files);
              event.target.value = "";
            }}
          />
        </div>
      </div>

      <div className="form-grid">
        <div className="field">
          <label htmlFor="upload-tags">Tags for all files (optional)</label>
          <input
            id="upload-tags"
            type="text"
            maxLength={1019}
            value={tags}
            aria-describedby="upload-tags-hint"
            onChange={(e) => setTags(e.target.value)}
          />
          <p id="upload-tags-hint" className="hint">
            Comma-separated, at most 20 tags of 50 characters.
          </p>
        </div>
        <div className="field">
          <label htmlFor="upload-description">Description for all files (optional)</label>
          <textarea id="upload-description" maxLength={5000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
      </div>

      <div className="spread">
        <h2>Files</h2>
        {pending.length > 0 ? (
          <span className="muted">
            {pending.length} {pending.length === 1 ? "file" : "files"} ready
          </span>
        ) : null}
        <button
          type="button"
          className="button"
          disabled={pending.length === 0}
          onClick={() => pending.forEach((item) => queue.start(item))}
        >
          Upload
        </button>
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {queue.items.length > 0 ? `${uploading} uploading, ${done} uploaded, ${pending.length} waiting.` : ""}
      </p>
      {queue.items.length === 0 ? (
        <EmptyState title="No files chosen yet">
          <p>Choose files or drop them above; you can give each a title before uploading.</p>
        </EmptyState>
      ) : (
        <ul className="list" aria-label="Upload queue">
          {queue.items.map((item) => (
            <UploadItemView
              key={item.key}
              item={item}
              onStart={() => queue.start(item)}
              onCancel={() => queue.cancel(item.key)}
              onRemove={() => queue.remove(item.key)}
              onRename={(title) => queue.rename(item.key, title)}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
