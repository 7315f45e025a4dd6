/**
 * The asset upload: `POST /api/v1/assets` as `multipart/form-data` with the text fields
 * (`title`, `description`, `tags`) BEFORE `file` (the gateway streams the file through and
 * reads metadata first). This is the one call not made through the generated fetch client:
 * fetch cannot report upload progress, XMLHttpRequest can (`xhr.upload.onprogress`).
 * Same session rules as every call: CSRF header, same-origin cookies, one refresh on 401.
 */
import type { paths } from "./schema";
import type { Schemas } from "./client";
import { ApiError, networkError, toApiError } from "./errors";
import { applyCsrf, emitAuthLost, refreshSession } from "./session";

export const UPLOAD_PATH = "/api/v1/assets" satisfies keyof paths;

/** The gateway's default upload limit (`MARQUEE_GATEWAY_UPLOAD_LIMIT_BYTES`); a 413 is authoritative. */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;

export const ACCEPTED_TYPES = "image/*,video/*,audio/*,application/pdf,text/plain,.mp4,.mov,.m4a,.pdf,.txt";

export type Asset = Schemas["AssetBody"];

export interface UploadFields {
  title?: string;
  description?: string;
  /** Comma-separated, at most 20 tags of at most 50 characters. */
  tags?: string;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadHandle {
  promise: Promise<Asset>;
  abort: () => void;
}

export class UploadAborted extends Error {
  constructor() {
    super("The upload was cancelled.");
    this.name = "UploadAborted";
  }
}

export function buildUploadForm(file: File, fields: UploadFields): FormData {
  const form = new FormData();
  // Metadata first, then the file.
  if (fields.title?.trim()) form.append("title", fields.title.trim());
  if (fields.description?.trim()) form.append("description", fields.description);
  if (fields.tags?.trim()) form.append("tags", fields.tags);
  form.append("file", file, file.name);
  return form;
}

export function uploadAsset(
  file: File,
  fields: UploadFields,
  onProgress: (progress: UploadProgress) => void,
): UploadHandle {
  let current: XMLHttpRequest | null = null;
  let aborted = false;

  const attempt = (retried: boolean): Promise<Asset> =>
    new Promise<Asset>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      current = xhr;
      xhr.open("POST", UPLOAD_PATH);
      xhr.withCredentials = true;
      xhr.responseType = "text";
      const headers = new Headers({ Accept: "application/json" });
      applyCsrf(headers, "POST");
      headers.forEach((value, name) => xhr.setRequestHeader(name, value));

      xhr.upload.onprogress = (event) => {
        onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
      };
      xhr.onload = () => {
        const body = parse(xhr.responseText);
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress({ loaded: file.size, total: file.size });
          resolve(body as Asset);
          return;
        }
        if (xhr.status === 401 && !retried) {
          refreshSession().then((ok) => {
            if (!ok || aborted) {
              if (!ok) emitAuthLost();
              reject(aborted ? new UploadAborted() : toApiError(body, { status: 401 }));
              return;
            }
            onProgress({ loaded: 0, total: file.size });
            attempt(true).then(resolve, reject);
          }, reject);
          return;
        }
        reject(toApiError(body, { status: xhr.status }));
      };
      xhr.onerror = () => reject(networkError(new Error("upload failed")));
      xhr.onabort = () => reject(new UploadAborted());
      xhr.send(buildUploadForm(file, fields));
    });

  return {
    promise: attempt(false),
    abort: () => {
      aborted = true;
      current?.abort();
    },
  };
}

function parse(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function isAborted(error: unknown): boolean {
  return error instanceof UploadAborted;
}

export { ApiError };
