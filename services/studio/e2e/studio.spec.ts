// The studio in a real browser (Debian's Chromium) against a real fleet: the journeys a
// creator, a moderator and a second user take, Google sign-in against a local OpenID
// provider, a campaign from brief to export; then every page at desktop and phone
// widths, checked with axe-core (WCAG 2.1 AA) and kept as screenshots.
import { expect, test, type Page } from "@playwright/test";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "./global-setup";
import { PASSWORD, base, expectAccessible, png, screenshot, signIn, signOut } from "./helpers";

test.describe.configure({ mode: "serial" });

const CREATOR = "ada@studio.test";
const FAN = "fan@studio.test";
let assetId = "";
let campaignId = "";
let creatorId = "";

test("sign up with the keyboard alone", async ({ page }) => {
  await page.goto(`${base()}/signup`);
  await expect(page.getByRole("heading", { level: 1, name: "Create account" })).toBeVisible();
  await expectAccessible(page, "/signup");
  // The first Tab reaches the skip link; the form is then walked with Tab alone.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: /skip to (main )?content/i })).toBeFocused();
  await page.getByLabel("Display name (optional)").focus();
  await page.keyboard.type("Ada");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Email")).toBeFocused();
  await page.keyboard.type(CREATOR);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/dashboard/);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  // The session is in HttpOnly cookies: the page's script sees only the CSRF token.
  const visible = await page.evaluate(() => document.cookie);
  expect(visible).toContain("mq_csrf=");
  expect(visible).not.toContain("mq_access");
  expect(visible).not.toContain("mq_refresh");
  const stored = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage));
  expect(stored).not.toMatch(/eyJ|mqr_/);
});

test("upload with a progress bar, then see it on the dashboard", async ({ page }) => {
  await signIn(page, CREATOR);
  await page.goto(`${base()}/upload`);
  await page.getByLabel("Choose files").setInputFiles([
    { name: "sunset.png", mimeType: "image/png", buffer: png(96) },
    { name: "dawn.png", mimeType: "image/png", buffer: png(48) },
  ]);
  await expect(page.getByLabel("Upload progress of sunset.png")).toBeVisible();
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  // Progress reaches the whole file (bytes sent, as the browser reports them).
  const progress = page.getByLabel("Upload progress of sunset.png");
  await expect(progress).toHaveAttribute("value", /\d+/);
  await expect(page.getByRole("link", { name: "View asset" }).first()).toBeVisible();
  await expect(page.getByRole("link", { name: "View asset" })).toHaveCount(2);
  const max = Number(await progress.getAttribute("max"));
  expect(max).toBeGreaterThan(0);
  expect(Number(await progress.getAttribute("value"))).toBe(max);
  await expectAccessible(page, "/upload after uploads");
  await page.getByRole("link", { name: "View asset" }).first().click();
  await expect(page).toHaveURL(/\/assets\//);
  assetId = page.url().split("/assets/")[1].split(/[?#]/)[0];
  await page.goto(`${base()}/dashboard`);
  await expect(page.getByRole("link", { name: "sunset", exact: true })).toBeVisible();
  await expect(page.getByText("Awaiting moderation").first()).toBeVisible();
  const me = await page.evaluate(async () => (await fetch("/api/v1/auth/me")).json());
  creatorId = me.id;
});

test("a moderator approves the upload", async ({ page }) => {
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${base()}/moderation`);
  await expect(page.getByRole("heading", { level: 1, name: "Moderation" })).toBeVisible();
  // Processing may still be finishing: the queue fills once the asset is processed.
  const approve = page.getByRole("button", { name: /^Approve .*sunset/ }).first();
  await expect(async () => {
    await page.reload();
    await expect(approve).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await expectAccessible(page, "/moderation");
  await approve.click();
  await expect(page.getByText(/Approved/).first()).toBeVisible();
});

test("a second user comments on the asset and follows its creator", async ({ page }) => {
  await page.goto(`${base()}/signup`);
  await page.getByLabel("Display name (optional)").fill("Fan");
  await page.getByLabel("Email").fill(FAN);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard/);
  await page.goto(`${base()}/assets/${assetId}`);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  // By keyboard: focus the comment box, type, submit with the button reached by Tab.
  await page.getByLabel("Your comment").focus();
  await page.keyboard.type("Lovely colours!");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Post comment" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByText("Lovely colours!")).toBeVisible();
  await page.getByRole("button", { name: /^Follow / }).click();
  await expect(page.getByRole("button", { name: /^Unfollow / })).toBeVisible();
  await expectAccessible(page, "/assets/:id");
});

test("checkout of a plan on the local provider", async ({ page }) => {
  // The plan is the whole tenant's: a plain creator sees it but cannot change it.
  await signIn(page, CREATOR);
  await page.goto(`${base()}/billing`);
  await expect(page.getByRole("heading", { level: 1, name: "Billing" })).toBeVisible();
  await expect(page.getByText(/Only its owners and billing admins can change it/)).toBeVisible();
  await expect(page.getByRole("button", { name: /^Subscribe to / })).toHaveCount(0);
  await signOut(page);
  // The admin (like a tenant's owner or billing admin) can.
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${base()}/billing`);
  await expect(page.getByRole("heading", { level: 1, name: "Billing" })).toBeVisible();
  await expectAccessible(page, "/billing");
  const subscribe = page.getByRole("button", { name: /^Subscribe to / }).first();
  const plan = (await subscribe.getAttribute("aria-label"))!.replace("Subscribe to ", "");
  await subscribe.click();
  // The local provider applies the plan at once (Stripe would send the browser to
  // Checkout and back).
  await page.goto(`${base()}/billing`);
  await expect(page.getByRole("region", { name: "Current subscription" })).toContainText(plan);
});

test("Google sign-in against the local OpenID provider", async ({ page }) => {
  await page.goto(`${base()}/signin`);
  await page.getByRole("link", { name: /google/i }).click();
  // Provider → callback → the studio, signed in as the provider's person.
  await expect(page).toHaveURL(/\/dashboard/);
  const me = await page.evaluate(async () => (await fetch("/api/v1/auth/me")).json());
  expect(me.email).toBe("grace@example.com");
  await signOut(page);
  // A callback that did not start in this browser is refused (login CSRF).
  await page.goto(`${base()}/api/v1/auth/google/callback?code=stolen&state=forged`);
  await expect(page).toHaveURL(/\/signin\?error=state_mismatch/);
  await expect(page.getByRole("alert")).toBeVisible();
});

test("a campaign from brief to export", async ({ page }) => {
  await signIn(page, CREATOR);
  await page.goto(`${base()}/campaigns`);
  await expect(page.getByText("No campaigns yet")).toBeVisible();
  await page.getByRole("button", { name: "New campaign" }).click();
  await page.getByLabel("Campaign name").fill("Spring launch");
  await page.getByLabel("Objective").fill("More visitors to the bakery's new spring menu");
  await page
    .getByLabel("Business description")
    .fill("Rosa's Bakery bakes sourdough and seasonal pastries in Lisbon, with a new spring menu of rhubarb tarts.");
  await page.getByLabel("Target audience").fill("Food lovers in Lisbon");
  await page.getByRole("button", { name: /create campaign/i }).click();
  await expect(page).toHaveURL(/\/campaigns\/[^/]+$/);
  campaignId = page.url().split("/campaigns/")[1];

  await page.getByRole("button", { name: "Run analysis" }).click();
  await expect(page.getByRole("button", { name: "Run analysis again" })).toBeVisible({ timeout: 60_000 });
  await page.getByRole("button", { name: "Generate posts" }).click();
  const edit = page.getByRole("button", { name: /^Edit .* post 1$/ }).first();
  await expect(edit).toBeVisible({ timeout: 90_000 });

  // Edit a post: the counter follows as you type, and the text saves.
  await edit.click();
  const editor = page.getByRole("textbox", { name: /^Text of / }).first();
  const counter = page.getByTestId("char-counter").first();
  await editor.fill("Rhubarb season at Rosa's Bakery!");
  await expect(counter).toContainText(/^32 \//);
  await editor.fill("Rhubarb season at Rosa's Bakery! Come taste it.");
  await expect(counter).toContainText(/^47 \//);
  await page.getByRole("button", { name: "Save post", exact: true }).click();
  await expect(page.getByText("Post saved.")).toBeVisible();

  // A visual, followed live over server-sent events: the job's progress bar fills and
  // the picture appears on the post.
  await page.getByRole("button", { name: /^Create image for .* post 1$/ }).first().click();
  await expect(page.getByRole("progressbar", { name: /^Making an image for / }).first()).toBeVisible();
  await expect(page.getByRole("img", { name: /./ }).locator("xpath=ancestor::*[contains(@class,'post-media')]").first()).toBeVisible({
    timeout: 60_000,
  });

  await page.getByRole("checkbox", { name: /^Select .* for the calendar/ }).first().check();
  await expect(page.getByRole("button", { name: "Schedule selected posts" })).toBeEnabled();
  await page.getByRole("button", { name: "Schedule selected posts" }).click();
  await expect(page.getByRole("table", { name: /scheduled posts/i })).toBeVisible({ timeout: 30_000 });
  await expectAccessible(page, "/campaigns/:id");

  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export JSON" }).click();
  const file = await download;
  const exported = JSON.parse(await (await file.createReadStream()).toArray().then((c) => Buffer.concat(c).toString()));
  expect(exported.id).toBe(campaignId);
  expect(exported.brief.name).toBe("Spring launch");
  // The edited text is what was exported, and the post is on the calendar.
  const edited = exported.posts.find((p: { content: string }) => p.content === "Rhubarb season at Rosa's Bakery! Come taste it.");
  expect(edited).toBeTruthy();
  expect(exported.posts.some((p: { scheduled_at?: string }) => p.scheduled_at)).toBe(true);
});

const PAGES: Array<{ name: string; path: () => string; heading?: RegExp }> = [
  { name: "signin", path: () => "/signin" },
  { name: "signup", path: () => "/signup" },
  { name: "dashboard", path: () => "/dashboard" },
  { name: "upload", path: () => "/upload" },
  { name: "asset", path: () => `/assets/${assetId}` },
  { name: "search", path: () => "/search?q=sunset" },
  { name: "creator", path: () => `/creators/${creatorId}` },
  { name: "profile", path: () => "/me/profile" },
  { name: "moderation", path: () => "/moderation" },
  { name: "billing", path: () => "/billing" },
  { name: "campaigns", path: () => "/campaigns" },
  { name: "campaign-studio", path: () => `/campaigns/${campaignId}` },
  { name: "apps", path: () => "/apps" },
  { name: "admin", path: () => "/admin" },
  { name: "not-found", path: () => "/no-such-page" },
];

async function visitEveryPage(page: Page, width: number): Promise<void> {
  await page.setViewportSize({ width, height: width < 500 ? 812 : 800 });
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  for (const entry of PAGES) {
    await page.goto(`${base()}${entry.path()}`);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    // Loaded: no spinner left.
    await expect(page.getByRole("status", { name: /loading/i })).toHaveCount(0, { timeout: 20_000 });
    await expectAccessible(page, `${entry.name} at ${width}px`);
    // Nothing wider than the screen (no sideways scrolling on a phone).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${entry.name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
    await screenshot(page, entry.name);
  }
}

test("every page at desktop width: accessible, screenshotted", async ({ page }) => {
  await visitEveryPage(page, 1280);
});

test("every page at phone width (375 px): accessible, no sideways scroll", async ({ page }) => {
  await visitEveryPage(page, 375);
});
