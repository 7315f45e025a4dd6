/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The gateway to proxy to in development (and `vite preview`); `make run` serves it on 8080.
const gateway = process.env.MARQUEE_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: gateway, changeOrigin: false },
      "/.well-known": { target: gateway, changeOrigin: false },
      "/docs": { target: gateway, changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    // No inline module-preload polyfill script: the production CSP is `script-src 'self'`.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  test: {
    // Unit and component tests only; the Playwright browser tests in e2e/ have their own runner.
    include: ["src/**/*.test.{ts,tsx}"],
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
  },
});
