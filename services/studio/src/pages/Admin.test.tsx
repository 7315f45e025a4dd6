import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, mockApi, problem, renderPage, USER } from "../test/utils";
import AdminPage from "./Admin";

const ADMIN = { ...USER, roles: ["admin"] };
const TARGET = { ...USER, id: "u-lost-laptop", email: "lost@example.com", disabled: false };

function adminRoutes() {
  return {
    "GET /api/v1/auth/me": json(ADMIN),
    "GET /api/v1/admin/tenants": json({ items: [], next_cursor: null }),
    "GET /api/v1/admin/audit": json({ items: [], next_cursor: null }),
  };
}

function writes(requests: Request[]) {
  return requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${new URL(r.url).pathname}`);
}

describe("user access", () => {
  it("disables a user only after confirming, then ends their sessions", async () => {
    const { requests } = mockApi({
      ...adminRoutes(),
      "POST /api/v1/admin/users/u-lost-laptop/disable": json({ ...TARGET, disabled: true }),
      "POST /api/v1/admin/users/u-lost-laptop/revoke-sessions": json({ refresh_tokens_revoked: 3 }),
    });
    const user = userEvent.setup();
    renderPage(<AdminPage />, { path: "/admin" });

    const section = await screen.findByRole("region", { name: "User access" });
    const disable = within(section).getByRole("button", { name: "Disable user" });
    expect(disable).toBeDisabled();
    await user.type(within(section).getByLabelText("User id"), "u-lost-laptop");

    await user.click(disable);
    const dialog = screen.getByRole("dialog", { name: "Disable this user?" });
    expect(dialog).toHaveTextContent("every session they have ends within seconds");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(writes(requests)).toEqual([]);

    await user.click(disable);
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Disable user" }));
    expect(await within(section).findByText("lost@example.com is now disabled.")).toBeInTheDocument();

    await user.click(within(section).getByRole("button", { name: "End all sessions" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "End all sessions" }));
    expect(await within(section).findByText(/Ended every session of u-lost-laptop \(3 signed-in devices\)/)).toBeInTheDocument();

    expect(writes(requests)).toEqual([
      "POST /api/v1/admin/users/u-lost-laptop/disable",
      "POST /api/v1/admin/users/u-lost-laptop/revoke-sessions",
    ]);
  });

  it("says why a change was refused", async () => {
    mockApi({
      ...adminRoutes(),
      "POST /api/v1/admin/users/u-self/disable": problem(400, "cannot_disable_self", "an admin cannot disable themselves"),
    });
    const user = userEvent.setup();
    renderPage(<AdminPage />, { path: "/admin" });

    const section = await screen.findByRole("region", { name: "User access" });
    await user.type(within(section).getByLabelText("User id"), "u-self");
    await user.click(within(section).getByRole("button", { name: "Disable user" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Disable user" }));
    expect(await within(section).findByRole("alert")).toHaveTextContent("an admin cannot disable themselves");
  });
});
