import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, unwrap } from "./client";
import { ApiError } from "./errors";
import { onAuthLost, refreshSession } from "./session";

type Handler = (request: Request) => Response | Promise<Response>;

function json(status: number, body: unknown, contentType = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": contentType } });
}

function problem(status: number, code: string, detail: string): Response {
  return json(
    status,
    { type: `https://docs.marquee.dev/problems/${code}`, title: "Error", status, code, detail, request_id: "r1" },
    "application/problem+json",
  );
}

let requests: Request[];
function mockFetch(handler: Handler) {
  requests = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? new Request(input, init) : new Request(String(input), init);
    requests.push(request);
    return handler(request);
  });
  vi.stubGlobal("fetch", fn);
  return fn;
}

const path = (r: Request) => new URL(r.url).pathname;

beforeEach(() => {
  document.cookie = "mq_csrf=csrf-1; path=/";
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("CSRF header", () => {
  it("is sent on POST, PUT, PATCH and DELETE with the cookie's value", async () => {
    mockFetch(() => json(200, { ok: true }));
    await api.POST("/api/v1/assets/{id}/comments" as never, { params: { path: { id: "a1" } }, body: { body: "hi" } } as never);
    await api.PUT("/api/v1/assets/{id}/tags" as never, { params: { path: { id: "a1" } }, body: { tags: [] } } as never);
    await api.PATCH("/api/v1/assets/{id}" as never, { params: { path: { id: "a1" } }, body: { title: "t" } } as never);
    await api.DELETE("/api/v1/assets/{id}" as never, { params: { path: { id: "a1" } } } as never);
    expect(requests.map((r) => [r.method, r.headers.get("X-CSRF-Token")])).toEqual([
      ["POST", "csrf-1"],
      ["PUT", "csrf-1"],
      ["PATCH", "csrf-1"],
      ["DELETE", "csrf-1"],
    ]);
    expect(requests.every((r) => r.credentials === "same-origin")).toBe(true);
  });

  it("is not sent on GET", async () => {
    mockFetch(() => json(200, { items: [], next_cursor: null }));
    await api.GET("/api/v1/assets" as never);
    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe("GET");
    expect(requests[0].headers.has("X-CSRF-Token")).toBe(false);
  });

  it("uses the rotated cookie value after a refresh", async () => {
    let calls = 0;
    mockFetch((r) => {
      if (path(r) === "/api/v1/auth/browser/refresh") {
        document.cookie = "mq_csrf=csrf-2; path=/";
        return json(200, { user: {}, csrf_token: "csrf-2", expires_in: 900 });
      }
      calls += 1;
      return calls === 1 ? problem(401, "token_expired", "expired") : json(200, { ok: true });
    });
    await unwrap(api.POST("/api/v1/campaigns" as never, { body: { name: "x" } } as never));
    const posts = requests.filter((r) => path(r) === "/api/v1/campaigns");
    expect(posts.map((r) => r.headers.get("X-CSRF-Token"))).toEqual(["csrf-1", "csrf-2"]);
    const refresh = requests.find((r) => path(r) === "/api/v1/auth/browser/refresh")!;
    expect(refresh.method).toBe("POST");
    expect(refresh.headers.get("X-CSRF-Token")).toBe("csrf-1");
  });
});

describe("refresh on 401", () => {
  it("shares one refresh between concurrent 401s and retries each request once", async () => {
    let refreshed = false;
    let releaseRefresh!: () => void;
    const refreshGate = new Promise<void>((resolve) => (releaseRefresh = resolve));
    const fetchMock = mockFetch(async (r) => {
      if (path(r) === "/api/v1/auth/browser/refresh") {
        await refreshGate;
        refreshed = true;
        return json(200, { user: { id: "u1" }, csrf_token: "csrf-1", expires_in: 900 });
      }
      if (!refreshed) return problem(401, "token_expired", "the access token has expired");
      return json(200, { path: path(r) });
    });

    const calls = [
      unwrap(api.GET("/api/v1/assets" as never)),
      unwrap(api.GET("/api/v1/auth/me" as never)),
      unwrap(api.GET("/api/v1/billing/usage" as never)),
    ];
    // Let all three 401s arrive before the refresh answers.
    await vi.waitFor(() => expect(requests.filter((r) => path(r) === "/api/v1/auth/browser/refresh")).toHaveLength(1));
    releaseRefresh();
    const results = await Promise.all(calls);

    expect(results).toEqual([{ path: "/api/v1/assets" }, { path: "/api/v1/auth/me" }, { path: "/api/v1/billing/usage" }]);
    expect(requests.filter((r) => path(r) === "/api/v1/auth/browser/refresh")).toHaveLength(1);
    for (const p of ["/api/v1/assets", "/api/v1/auth/me", "/api/v1/billing/usage"]) {
      expect(requests.filter((r) => path(r) === p)).toHaveLength(2);
    }
    expect(fetchMock).toHaveBeenCalledTimes(7);
  });

  it("retries the body of an unsafe request", async () => {
    let first = true;
    mockFetch(async (r) => {
      if (path(r) === "/api/v1/auth/browser/refresh") return json(200, { csrf_token: "csrf-1" });
      if (first) {
        first = false;
        return problem(401, "token_expired", "expired");
      }
      return json(201, { echoed: await r.json() });
    });
    const data = await unwrap(api.POST("/api/v1/campaigns" as never, { body: { name: "Spring" } } as never));
    expect(data).toEqual({ echoed: { name: "Spring" } });
  });

  it("gives up after one retry and tells the app the session is lost when refresh fails", async () => {
    const lost = vi.fn();
    const off = onAuthLost(lost);
    mockFetch((r) =>
      path(r) === "/api/v1/auth/browser/refresh"
        ? problem(401, "refresh_token_invalid", "unknown refresh token")
        : problem(401, "token_expired", "expired"),
    );
    const error = await unwrap(api.GET("/api/v1/assets" as never)).catch((e: unknown) => e);
    off();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).code).toBe("token_expired");
    expect(lost).toHaveBeenCalledTimes(1);
    expect(requests.filter((r) => path(r) === "/api/v1/assets")).toHaveLength(1);
  });

  it("does not refresh for the sign-in routes (a 401 there means wrong credentials)", async () => {
    mockFetch(() => problem(401, "invalid_credentials", "email or password is wrong"));
    const error = await unwrap(
      api.POST("/api/v1/auth/browser/login" as never, { body: { email: "a@b.co", password: "x" } } as never),
    ).catch((e: unknown) => e);
    expect((error as ApiError).code).toBe("invalid_credentials");
    expect(requests).toHaveLength(1);
  });

  it("refreshSession is single-flight on its own", async () => {
    mockFetch(() => json(200, { csrf_token: "c" }));
    const [a, b] = await Promise.all([refreshSession(), refreshSession()]);
    expect(a && b).toBe(true);
    expect(requests).toHaveLength(1);
  });
});

describe("problem+json mapping", () => {
  it("maps status, code and detail", async () => {
    mockFetch(() => problem(409, "duplicate_asset", "you have already uploaded these bytes"));
    const error = (await unwrap(api.GET("/api/v1/assets" as never)).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(409);
    expect(error.code).toBe("duplicate_asset");
    expect(error.detail).toBe("you have already uploaded these bytes");
    expect(error.message).toBe("you have already uploaded these bytes");
    expect(error.problem.request_id).toBe("r1");
  });

  it("keeps extension members", async () => {
    mockFetch(() =>
      json(409, { status: 409, code: "duplicate_asset", detail: "dup", asset_id: "a9" }, "application/problem+json"),
    );
    const error = (await unwrap(api.GET("/api/v1/assets" as never)).catch((e: unknown) => e)) as ApiError;
    expect(error.problem.asset_id).toBe("a9");
  });

  it("falls back to a readable message for non-problem errors", async () => {
    mockFetch(() => new Response("<html>bad gateway</html>", { status: 502 }));
    const error = (await unwrap(api.GET("/api/v1/assets" as never)).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.code).toBe("http_502");
    expect(error.detail).toMatch(/server had a problem/i);
  });

  it("maps network failures to status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const error = (await unwrap(api.GET("/api/v1/assets" as never)).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
    expect(error.detail).toMatch(/could not reach/i);
  });
});
