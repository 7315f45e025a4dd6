/**
 * Browser session plumbing shared by every way the studio talks to the gateway
 * (the generated fetch client, the XHR upload and EventSource):
 *
 * - the CSRF token: the gateway sets a readable `mq_csrf` cookie; its value goes in the
 *   `X-CSRF-Token` header of every POST/PUT/PATCH/DELETE (never on safe methods);
 * - refresh-on-401: a 401 triggers ONE `POST /auth/browser/refresh` shared by every
 *   request that failed meanwhile (single flight), then each such request is retried once;
 * - auth-lost notifications when the refresh fails, so the app can go to sign-in.
 */

export const API_PREFIX = "/api/v1";
export const REFRESH_PATH = "/api/v1/auth/browser/refresh";
export const CSRF_COOKIE = "mq_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function isUnsafeMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method.toUpperCase());
}

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}

/** The token from the last auth answer, for when the cookie cannot be read yet. */
let lastCsrfToken: string | null = null;

export function rememberCsrfToken(token: string | null | undefined): void {
  if (typeof token === "string" && token !== "") lastCsrfToken = token;
}

export function csrfToken(): string | null {
  return readCookie(CSRF_COOKIE) ?? lastCsrfToken;
}

/** Adds `X-CSRF-Token` to a request with an unsafe method; safe methods are left alone. */
export function applyCsrf(headers: Headers, method: string): void {
  if (!isUnsafeMethod(method)) return;
  const token = csrfToken();
  if (token) headers.set(CSRF_HEADER, token);
}

/** Auth routes whose 401 means "wrong credentials", not "session expired". */
export function isAuthEndpoint(url: string): boolean {
  const path = url.startsWith("http") ? new URL(url).pathname : url.split("?")[0];
  return path.startsWith(`${API_PREFIX}/auth/browser/`) || path === `${API_PREFIX}/auth/providers`;
}

type Listener = () => void;
const authLostListeners = new Set<Listener>();

/** Called when the session cannot be refreshed: the user must sign in again. */
export function onAuthLost(listener: Listener): () => void {
  authLostListeners.add(listener);
  return () => authLostListeners.delete(listener);
}

export function emitAuthLost(): void {
  for (const listener of [...authLostListeners]) listener();
}

/** Bumped by each successful refresh, so a 401 for a request sent before it just retries. */
let generation = 0;
let inFlight: Promise<boolean> | null = null;

export function sessionGeneration(): number {
  return generation;
}

/**
 * Refreshes the session once for everyone waiting: concurrent callers share one request.
 * Resolves `true` when the gateway rotated the cookies.
 */
export function refreshSession(): Promise<boolean> {
  if (inFlight) return inFlight;
  inFlight = (async () => {
    try {
      const headers = new Headers({ Accept: "application/json" });
      applyCsrf(headers, "POST");
      const response = await fetch(absolute(REFRESH_PATH), {
        method: "POST",
        credentials: "same-origin",
        headers,
      });
      if (!response.ok) return false;
      const body: unknown = await response.json().catch(() => null);
      if (body && typeof body === "object" && "csrf_token" in body) {
        rememberCsrfToken((body as { csrf_token?: string }).csrf_token);
      }
      generation += 1;
      return true;
    } catch {
      return false;
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}

/** `path` resolved against the page's origin (Request needs absolute URLs outside browsers). */
export function absolute(path: string): string {
  if (typeof window === "undefined" || /^https?:/.test(path)) return path;
  return new URL(path, window.location.origin).toString();
}

/**
 * `fetch` with the browser-session rules: same-origin credentials, CSRF on unsafe
 * methods, and on a 401 one shared refresh then one retry. When the refresh fails the
 * original 401 is returned and {@link onAuthLost} listeners are told.
 */
export async function sessionFetch(input: Request): Promise<Response> {
  const retry = input.clone();
  const sentAt = generation;
  const response = await fetch(prepare(input));
  if (response.status !== 401 || isAuthEndpoint(input.url)) return response;
  // Another request already refreshed after this one left: just retry.
  const refreshed = sentAt !== generation || (await refreshSession());
  if (!refreshed) {
    emitAuthLost();
    return response;
  }
  const second = await fetch(prepare(retry));
  if (second.status === 401) emitAuthLost();
  return second;
}

function prepare(request: Request): Request {
  const headers = new Headers(request.headers);
  applyCsrf(headers, request.method);
  return new Request(request, { headers, credentials: "same-origin" });
}
