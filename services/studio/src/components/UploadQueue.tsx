import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { errorMessage, isApiError } from "../api/errors";
import { isAborted, MAX_UPLOAD_BYTES, uploadAsset, type Asset, type UploadHandle } from "../api/upload";
import { formatBytes } from "../lib/format";

export type UploadState = "pending" | "uploading" | "done" | "failed" | "cancelled";

export interface UploadItem {
  key: string;
  file: File;
  title: string;
  state: UploadState;
  loaded: number;
  total: number;
  error?: string;
  errorCode?: string;
  existingAssetId?: string;
  asset?: Asset;
}

let counter = 0;

function titleFromName(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot > 0 ? name.slice(0, dot) : name).slice(0, 200);
}

export function newUploadItem(file: File): UploadItem {
  counter += 1;
  const tooLarge = file.size > MAX_UPLOAD_BYTES;
  return {
    key: `${counter}-${file.name}`,
    file,
    title: titleFromName(file.name),
    state: tooLarge ? "failed" : "pending",
    loaded: 0,
    total: file.size,
    error: tooLarge ? `This file is larger than the ${formatBytes(MAX_UPLOAD_BYTES)} upload limit.` : undefined,
    errorCode: tooLarge ? "payload_too_large" : undefined,
  };
}

/** The upload queue: per-file XHR uploads with progress and cancel. */
export function useUploadQueue(shared: { tags: string; description: string }) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const handles = useRef(new Map<string, UploadHandle>());
  const sharedRef = useRef(shared);
  sharedRef.current = shared;

  useEffect(() => {
    const current = handles.current;
    return () => {
      for (const handle of current.values()) handle.abort();
    };
  }, []);

  const update = useCallback((key: string, patch: Partial<UploadItem>) => {
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...patch } : item)));
  }, []);

  const add = useCallback((files: Iterable<File>) => {
    const added = [...files].map(newUploadItem);
    setItems((list) => [...list, ...added]);
  }, []);

  const start = useCallback(
    (item: UploadItem) => {
      update(item.key, { state: "uploading", loaded: 0, error: undefined, errorCode: undefined });
      const handle = uploadAsset(
        item.file,
        { title: item.title, tags: sharedRef.current.tags, description: sharedRef.current.description },
        ({ loaded, total }) => update(item.key, { loaded, total }),
      );
      handles.current.set(item.key, handle);
      handle.promise.then(
        (asset) => update(item.key, { state: "done", asset, loaded: item.file.size, total: item.file.size }),
        (error: unknown) => {
          if (isAborted(error)) {
            update(item.key, { state: "cancelled" });
            return;
          }
          const existing =
            isApiError(error, "duplicate_asset") && typeof error.problem.asset_id === "string"
              ? error.problem.asset_id
              : undefined;
          update(item.key, {
            state: "failed",
            error: errorMessage(error),
            errorCode: isApiError(error) ? error.code : undefined,
            existingAssetId: existing,
          });
        },
      ).finally(() => handles.current.delete(item.key));
    },
    [update],
  );

  const cancel = useCallback((key: string) => handles.current.get(key)?.abort(), []);
  const remove = useCallback((key: string) => setItems((list) => list.filter((item) => item.key !== key)), []);
  const rename = useCallback((key: string, title: string) => update(key, { title }), [update]);

  return { items, add, start, cancel, remove, rename };
}

export function UploadItemView({
  item,
  onStart,
  onCancel,
  onRemove,
  onRename,
}: {
  item: UploadItem;
  onStart: () => void;
  onCancel: () => void;
  onRemove: () => void;
  onRename: (title: string) => void;
}) {
  const percent = item.total > 0 ? Math.round((item.loaded / item.total) * 100) : 0;
  const titleId = `upload-title-${item.key}`;
  const progressId = `upload-progress-${item.key}`;
  let status: string;
  switch (item.state) {
    case "pending":
      status = "Ready to upload";
      break;
    case "uploading":
      status = `Uploading: ${formatBytes(item.loaded)} of ${formatBytes(item.total)} (${percent}%)`;
      break;
    case "done":
      status = "Uploaded. Processing has started.";
      break;
    case "cancelled":
      status = "Cancelled";
      break;
    default:
      status = `Failed: ${item.error ?? "unknown error"}`;
  }
  return (
    <li className="card upload-item" aria-label={item.file.name}>
      <div className="spread">
        <h3>{item.file.name}</h3>
        <span className="muted small">{formatBytes(item.file.size)}</span>
      </div>
      {item.state === "pending" ? (
        <div className="field">
          <label htmlFor={titleId}>Title for {item.file.name}</label>
          <input id={titleId} type="text" maxLength={200} value={item.title} onChange={(e) => onRename(e.target.value)} />
        </div>
      ) : null}
      <label htmlFor={progressId} className="visually-hidden">
        Upload progress of {item.file.name}
      </label>
      <progress id={progressId} max={item.total || 1} value={item.state === "done" ? item.total || 1 : item.loaded}>
        {percent}%
      </progress>
      <p className={item.state === "failed" ? "failure small" : "small"} role="status" aria-live="polite">
        {status}
      </p>
      {item.existingAssetId ? (
        <p className="small">
          <Link to={`/assets/${item.existingAssetId}`}>Open the asset you uploaded before</Link>
        </p>
      ) : null}
      <div className="button-row">
        {item.state === "pending" ? (
          <button type="button" className="button secondary small" onClick={onRemove} aria-label={`Remove ${item.file.name}`}>
            Remove
          </button>
        ) : null}
        {item.state === "uploading" ? (
          <button type="button" className="button secondary small" onClick={onCancel} aria-label={`Cancel upload of ${item.file.name}`}>
            Cancel
          </button>
        ) : null}
        {(item.state === "failed" && item.errorCode !== "payload_too_large") || item.state === "cancelled" ? (
          <button type="button" className="button secondary small" onClick={onStart}>
            Retry
          </button>
        ) : null}
        {item.state === "done" && item.asset ? <Link to={`/assets/${item.asset.id}`}>View asset</Link> : null}
        {item.state !== "uploading" && item.state !== "pending" ? (
          <button type="button" className="button link small" onClick={onRemove}>
            Remove from list
          </button>
        ) : null}
      </div>
    </li>
  );
}
