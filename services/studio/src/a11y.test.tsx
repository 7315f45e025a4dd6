import { render, screen, waitFor } from "@testing-library/react";
import axe from "axe-core";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import { AuthProvider } from "./auth/AuthContext";
import { apiFixtures } from "./test/fixtures";
import { json, mockApi, problem } from "./test/utils";

// Structural accessibility of every page with realistic data (axe-core in jsdom). Colour
// contrast needs a real browser (layout and computed colours), so it is left to the
// browser tests; everything else axe checks at WCAG 2.1 A/AA and best practices.
const ROUTES: Array<[string, string | RegExp]> = [
  ["/dashboard", "My assets"],
  ["/upload", "Upload"],
  ["/assets/a-1", "Harbour at dusk"],
  ["/search?q=sea", "Search"],
  ["/creators/u-2", "Grace"],
  ["/me/profile", "My profile"],
  ["/moderation", "Moderation"],
  ["/billing", "Billing"],
  ["/campaigns", "Campaigns"],
  ["/campaigns/c-1", "Spring launch"],
  ["/apps", "Partner apps"],
  ["/admin", "Admin"],
  ["/no/such/page", "Page not found"],
];

async function check(path: string, heading: string | RegExp) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <App />
      </AuthProvider>
    </MemoryRouter>,
  );
  expect(await screen.findByRole("heading", { level: 1, name: heading }, { timeout: 3000 })).toBeInTheDocument();
  // Let the page's parallel requests settle: no loading indicator left.
  await waitFor(() => expect(document.querySelector(".state-loading")).toBeNull());
  expect(screen.getAllByRole("heading", { level: 1 })).toHaveLength(1);
  expect(screen.getByRole("main")).toBeInTheDocument();
  expect(screen.getByRole("banner")).toBeInTheDocument();
  expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
  expect(screen.getByRole("link", { name: "Skip to content" })).toHaveAttribute("href", "#main");
  const results = await axe.run(document.body, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    rules: { "color-contrast": { enabled: false } },
  });
  const violations = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(violations).toEqual([]);
}

describe("accessibility of every page", () => {
  for (const [path, heading] of ROUTES) {
    it(`${path} has landmarks, one h1 and no axe violations`, async () => {
      mockApi(apiFixtures);
      await check(path, heading);
    });
  }

  const signedOut: Array<[string, string]> = [
    ["/signin", "Sign in"],
    ["/signup", "Create account"],
    ["/reset-password", "Forgot your password?"],
    ["/reset-password?token=mqp_abc", "Choose a new password"],
    ["/verify-email?token=mqv_abc", "Verify your e-mail address"],
  ];
  for (const [path, heading] of signedOut) {
    it(`${path} (signed out) has no axe violations`, async () => {
      mockApi({
        "GET /api/v1/auth/me": problem(401, "token_missing", "no token"),
        "POST /api/v1/auth/browser/refresh": problem(401, "refresh_token_invalid", "no session"),
        "GET /api/v1/auth/providers": json({ providers: ["google"] }),
        "POST /api/v1/auth/email/verify": problem(400, "verification_token_invalid", "the link is invalid"),
      });
      await check(path, heading);
    });
  }
});
