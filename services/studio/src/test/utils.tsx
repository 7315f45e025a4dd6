import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";
import { AuthProvider } from "../auth/AuthContext";

export const USER = {
  id: "u-1",
  tenant_id: "t-1",
  email: "ada@example.com",
  display_name: "Ada",
  roles: ["creator"],
  created_at: "2026-01-01T00:00:00Z",
};

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export function problem(status: number, code: string, detail: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title: "Error", status, code, detail }), {
    status,
    headers: { "Content-Type": "application/problem+json" },
  });
}

type Handler = (request: Request, url: URL) => Response | Promise<Response>;

/**
 * Replaces fetch with a route table keyed by "METHOD /path" (query ignored). Unknown
 * routes answer 404 route_not_found. Returns the list of requests made.
 */
export function mockApi(routes: Record<string, Handler | Response | (() => Promise<Response>)>) {
  const requests: Request[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    requests.push(request.clone());
    const url = new URL(request.url);
    const route = routes[`${request.method} ${url.pathname}`];
    if (!route) return problem(404, "route_not_found", `no route ${request.method} ${url.pathname}`);
    if (route instanceof Response) return route.clone();
    return (route as Handler)(request, url);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { requests, fetchMock };
}

/** Renders `ui` at `path` (matching `pattern`) inside the router and the auth provider. */
export function renderPage(ui: ReactElement, { path = "/", pattern = "*" }: { path?: string; pattern?: string } = {}) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <Routes>
          <Route path={pattern} element={ui} />
          <Route path="/signin" element={<p>Sign-in page</p>} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

/** A promise you resolve later, to hold a response while asserting a loading state. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
