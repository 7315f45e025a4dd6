import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { RequireAuth } from "../components/RequireAuth";
import { deferred, json, mockApi, problem, renderPage, USER } from "../test/utils";
import { Dashboard } from "./Dashboard";

const usage = {
  plan: "free",
  provider: "local",
  period_start: null,
  period_end: null,
  limits: [
    { limit: "storage_bytes", used: 512 * 1024 * 1024, reserved: 0, limit_value: 1024 * 1024 * 1024, period: "total" },
    { limit: "assets", used: 100, reserved: 0, limit_value: 100, period: "total" },
  ],
};
const subscription = {
  tenant_id: "t-1",
  plan: "free",
  subscribed_plan: "free",
  status: "active",
  provider: "local",
  current_period_end: null,
  past_due_since: null,
  cancel_at_period_end: false,
};
const plans = { items: [{ id: "free", name: "Free", limits: [], purchasable: false }], next_cursor: null };

function asset(overrides: Record<string, unknown>) {
  return {
    id: "a-1",
    tenant_id: "t-1",
    owner_id: USER.id,
    title: "Sunset",
    description: "",
    tags: ["sea"],
    filename: "sunset.png",
    content_type: "image/png",
    kind: "image",
    size_bytes: 2048,
    sha256: "x",
    status: "ready",
    status_reason: "",
    width: 10,
    height: 10,
    duration_ms: null,
    page_count: null,
    text_excerpt: null,
    has_thumbnail: true,
    flags: [],
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

function renderDashboard() {
  return renderPage(
    <RequireAuth>
      <Dashboard />
    </RequireAuth>,
    { path: "/dashboard" },
  );
}

describe("dashboard", () => {
  it("starts the independent requests in parallel and shows a loading state, then the empty state", async () => {
    const assets = deferred<Response>();
    const { requests } = mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/assets": () => assets.promise,
      "GET /api/v1/billing/usage": json(usage),
      "GET /api/v1/billing/subscription": json(subscription),
      "GET /api/v1/billing/plans": json(plans),
    });
    renderDashboard();
    expect(await screen.findByText("Loading your assets…")).toBeInTheDocument();
    // Usage, subscription and plans did not wait for the assets.
    await waitFor(() => {
      const paths = requests.map((r) => new URL(r.url).pathname);
      expect(paths).toEqual(
        expect.arrayContaining(["/api/v1/assets", "/api/v1/billing/usage", "/api/v1/billing/subscription", "/api/v1/billing/plans"]),
      );
    });
    // The quota bars render while the assets are still loading.
    expect(await screen.findByRole("progressbar", { name: "Storage" })).toBeInTheDocument();
    expect(screen.getByText("Loading your assets…")).toBeInTheDocument();
    const assetsRequest = requests.find((r) => new URL(r.url).pathname === "/api/v1/assets")!;
    expect(new URL(assetsRequest.url).searchParams.get("owner")).toBe(USER.id);

    assets.resolve(json({ items: [], next_cursor: null }));
    expect(await screen.findByText("You have not uploaded anything yet")).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 1, name: "My assets" })).toBeInTheDocument();
  });

  it("shows assets with status, failure reasons, tags and quota bars", async () => {
    mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/assets": json({
        items: [
          asset({}),
          asset({ id: "a-2", title: "Broken", status: "failed", status_reason: "the file is not a valid PNG", tags: [] }),
          asset({ id: "a-3", title: "Waiting", status: "pending_review" }),
        ],
        next_cursor: null,
      }),
      "GET /api/v1/billing/usage": json(usage),
      "GET /api/v1/billing/subscription": json(subscription),
      "GET /api/v1/billing/plans": json(plans),
    });
    renderDashboard();
    expect(await screen.findByRole("link", { name: "Sunset" })).toHaveAttribute("href", "/assets/a-1");
    expect(screen.getByText("Processing failed")).toBeInTheDocument();
    expect(screen.getByText("Reason: the file is not a valid PNG")).toBeInTheDocument();
    expect(screen.getByText("Awaiting moderation")).toBeInTheDocument();
    expect(screen.getByRole("list", { name: "Tags of Sunset" })).toHaveTextContent("sea");
    // Quota bars: storage at 50 %, assets at the limit.
    const storage = await screen.findByRole("progressbar", { name: "Storage" });
    expect(storage).toHaveAttribute("value", "50");
    expect(screen.getByText(/100 of 100 — limit reached/)).toBeInTheDocument();
    expect(screen.getByText("Free")).toBeInTheDocument();
  });

  it("shows the API's error detail and retries", async () => {
    let calls = 0;
    mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/assets": () => {
        calls += 1;
        return calls === 1
          ? problem(503, "unavailable", "The content service is unavailable; retry shortly.")
          : json({ items: [asset({})], next_cursor: null });
      },
      "GET /api/v1/billing/usage": json(usage),
      "GET /api/v1/billing/subscription": json(subscription),
      "GET /api/v1/billing/plans": json(plans),
    });
    renderDashboard();
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not load your assets");
    expect(alert).toHaveTextContent("The content service is unavailable; retry shortly.");
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("link", { name: "Sunset" })).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("sends a signed-out visitor to sign-in", async () => {
    mockApi({
      "GET /api/v1/auth/me": problem(401, "token_missing", "no token"),
      "POST /api/v1/auth/browser/refresh": problem(401, "refresh_token_invalid", "no session"),
    });
    renderDashboard();
    expect(await screen.findByText("Sign-in page")).toBeInTheDocument();
  });
});
