// The studio's performance figures (scripts/bench-studio.sh runs this against a fleet):
// initial JavaScript gzipped (what index.html loads before any route's chunk), first
// contentful paint of a cold load on loopback (median of RUNS, cache disabled), and the
// dashboard's API requests with their start and end times (no waterfall: every request
// starts before the first answer arrives). Prints JSON.
import { chromium } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const base = process.env.STUDIO_BASE_URL;
const runs = Number(process.env.RUNS ?? 7);
const dist = join(process.cwd(), "dist");

// Initial JS: the entry script and every modulepreload in index.html.
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const initialJsGzip = scripts.reduce(
  (sum, path) => sum + gzipSync(readFileSync(join(dist, path)), { level: 9 }).length,
  0,
);
const css = [...html.matchAll(/href="(\/assets\/[^"]+\.css)"/g)].map((m) => m[1]);
const initialCssGzip = css.reduce((sum, path) => sum + gzipSync(readFileSync(join(dist, path)), { level: 9 }).length, 0);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
const paints = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await page.goto(`${base}/signin`, { waitUntil: "load" });
  await page.getByRole("heading", { level: 1 }).waitFor();
  const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
  paints.push(fcp);
  await context.close();
}
paints.sort((a, b) => a - b);

// The dashboard, signed in: which API calls, and when each started and ended.
const context = await browser.newContext();
const page = await context.newPage();
const email = `bench-${Date.now()}@studio.test`;
await page.goto(`${base}/signup`);
await page.getByLabel("Email").fill(email);
await page.getByLabel("Password").fill("a long benchmark password");
await page.getByRole("button", { name: "Create account" }).click();
await page.waitForURL(/\/dashboard/);
await page.reload({ waitUntil: "networkidle" });
const calls = await page.evaluate(() =>
  performance
    .getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname.startsWith("/api/"))
    .map((e) => ({ path: new URL(e.name).pathname, start: Math.round(e.startTime), end: Math.round(e.responseEnd) })),
);
await browser.close();
// The session check (`/auth/me`, made by every page before its own data) comes first;
// the waterfall question is whether the dashboard's own calls wait on each other.
const own = calls.filter((c) => c.path !== "/api/v1/auth/me");
const firstEnd = Math.min(...own.map((c) => c.end));
console.log(
  JSON.stringify(
    {
      initial_js_gzip_bytes: initialJsGzip,
      initial_css_gzip_bytes: initialCssGzip,
      initial_scripts: scripts,
      fcp_ms: { runs, median: paints[Math.floor(paints.length / 2)], min: paints[0], max: paints[paints.length - 1] },
      dashboard_api_calls: calls,
      dashboard_waterfall: own.some((c) => c.start >= firstEnd),
    },
    null,
    2,
  ),
);
