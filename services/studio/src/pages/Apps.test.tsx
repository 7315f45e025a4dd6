import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, mockApi, problem, renderPage, USER } from "../test/utils";
import AppsPage from "./Apps";

const ADMIN = { ...USER, roles: ["admin"] };
const client = {
  id: "oc-1",
  tenant_id: "t-1",
  name: "Acme sync",
  scopes: ["assets:read"],
  environment: "live",
  rate_tier: "standard",
  created_at: "2026-01-01T00:00:00Z",
};

describe("partner apps", () => {
  it("rotates a secret in place after confirming, and shows the new one once", async () => {
    const { requests } = mockApi({
      "GET /api/v1/auth/me": json(ADMIN),
      "GET /api/v1/admin/oauth-clients": json({ items: [client], next_cursor: null }),
      "POST /api/v1/admin/oauth-clients/oc-1/rotate-secret": json({ ...client, client_id: "oc-1", client_secret: "mqs_new" }),
    });
    const user = userEvent.setup();
    renderPage(<AppsPage />, { path: "/apps" });

    await user.click(await screen.findByRole("button", { name: "Rotate secret of Acme sync" }));
    const dialog = screen.getByRole("dialog", { name: "Rotate the secret of Acme sync?" });
    expect(dialog).toHaveTextContent("Apps using the old secret stop getting tokens.");
    // Cancelling sends nothing.
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(requests.some((r) => r.method === "POST")).toBe(false);

    await user.click(screen.getByRole("button", { name: "Rotate secret of Acme sync" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Rotate secret" }));
    const panel = await screen.findByRole("region", { name: "Copy the secret of Acme sync now" });
    expect(within(panel).getByText("mqs_new")).toBeInTheDocument();
    expect(within(panel).getByText("oc-1")).toBeInTheDocument();
    expect(panel).toHaveTextContent("The old secret no longer gets tokens");
    expect(screen.getByText("Rotated the secret of Acme sync.")).toHaveAttribute("role", "status");

    // One call to the rotate route: no replacement client, nothing revoked.
    const writes = requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${new URL(r.url).pathname}`);
    expect(writes).toEqual(["POST /api/v1/admin/oauth-clients/oc-1/rotate-secret"]);

    await user.click(within(panel).getByRole("button", { name: "I have stored the secret" }));
    expect(screen.queryByText("mqs_new")).not.toBeInTheDocument();
  });

  it("says why a rotation was refused", async () => {
    mockApi({
      "GET /api/v1/auth/me": json(ADMIN),
      "GET /api/v1/admin/oauth-clients": json({ items: [client], next_cursor: null }),
      "POST /api/v1/admin/oauth-clients/oc-1/rotate-secret": problem(409, "client_revoked", "the client is revoked; create a new one"),
    });
    const user = userEvent.setup();
    renderPage(<AppsPage />, { path: "/apps" });

    await user.click(await screen.findByRole("button", { name: "Rotate secret of Acme sync" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Rotate secret" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the client is revoked; create a new one");
    expect(screen.queryByRole("region", { name: /Copy the secret/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });
});
