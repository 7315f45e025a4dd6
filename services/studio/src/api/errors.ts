/**
 * Errors from the API are RFC 9457 `application/problem+json` documents with a stable
 * `code` (for programs) and a `detail` (for people). Everything that goes wrong in a
 * request (a problem, a non-problem error body, a network failure) becomes an
 * {@link ApiError} so pages can show `detail` and branch on `code`.
 */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  request_id?: string;
  [extension: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    const detail =
      nonEmpty(problem.detail) ?? nonEmpty(problem.title) ?? fallbackDetail(status);
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = nonEmpty(problem.code) ?? (status === 0 ? "network_error" : `http_${status}`);
    this.detail = detail;
    this.problem = problem;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function fallbackDetail(status: number): string {
  if (status === 0) return "Could not reach the server. Check your connection and try again.";
  if (status === 401) return "Your session has ended. Please sign in again.";
  if (status === 403) return "You do not have permission to do that.";
  if (status === 404) return "Not found.";
  if (status === 429) return "Too many requests. Please wait a moment and try again.";
  if (status >= 500) return "The server had a problem. Please try again shortly.";
  return `The request failed (HTTP ${status}).`;
}

/** Maps an error body (already parsed or raw text) and its response to an ApiError. */
export function toApiError(body: unknown, response: Pick<Response, "status">): ApiError {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    return new ApiError(response.status, body as Problem);
  }
  if (typeof body === "string" && body.trim() !== "") {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === "object") return new ApiError(response.status, parsed as Problem);
    } catch {
      // Not JSON: fall through to a generic problem.
    }
  }
  return new ApiError(response.status, { status: response.status });
}

/** An error thrown by fetch itself (offline, DNS, CORS…). */
export function networkError(cause: unknown): ApiError {
  const error = new ApiError(0, { status: 0 });
  (error as { cause?: unknown }).cause = cause;
  return error;
}

/** The text to show a person for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}
