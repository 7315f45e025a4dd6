// Browser tests: Playwright's runner driving Debian's Chromium (/usr/bin/chromium;
// browser downloads are not possible here) against a fleet started by e2e/global-setup.ts.
// Screenshots of every page at desktop and phone widths land in test-results/screenshots
// (linked from docs/studio.md).
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/global-setup.ts",
  // One fleet, journeys that build on each other's data: one worker, in file order.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results/artifacts",
  use: {
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    headless: true,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    viewport: { width: 1280, height: 800 },
  },
});
