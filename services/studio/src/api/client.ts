/**
 * The typed API client, generated from the gateway's OpenAPI document
 * (`npm run gen:api` turns `openapi.json` into `schema.d.ts`). Every call in the studio
 * goes through {@link api} (the one exception is the upload, see `upload.ts`).
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError, networkError, toApiError } from "./errors";
import { sessionFetch } from "./session";

export type { paths, components };
export type Schemas = components["schemas"];

function origin(): string {
  return typeof window === "undefined" ? "" : window.location.origin;
}

export const api = createClient<paths>({
  baseUrl: origin(),
  credentials: "same-origin",
  headers: { Accept: "application/json" },
  fetch: (request: Request) => sessionFetch(request),
});

type Result = { data?: unknown; error?: unknown; response: Response };

/**
 * Awaits an openapi-fetch call and returns its data, throwing an {@link ApiError} for an
 * error response (problem+json mapped to status/code/detail) or a network failure.
 */
export async function unwrap<R extends Result>(call: Promise<R>): Promise<Exclude<R["data"], undefined>> {
  let result: R;
  try {
    result = await call;
  } catch (cause) {
    if (cause instanceof ApiError) throw cause;
    throw networkError(cause);
  }
  if (!result.response.ok) throw toApiError(result.error, result.response);
  return result.data as Exclude<R["data"], undefined>;
}

/** Like {@link unwrap} for calls whose success has no body (204). */
export async function unwrapVoid(call: Promise<Result>): Promise<void> {
  await unwrap(call);
}
