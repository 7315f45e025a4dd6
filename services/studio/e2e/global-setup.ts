// Starts what the browser tests drive: a local OpenID Connect provider (as Google) and a
// fresh embedded fleet (`marquee up`, SQLite in a temp dir) serving the built studio.
// The tests read where everything is from the environment set here.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeOidcProvider } from "./fake-oidc";

const HERE = dirname(fileURLToPath(import.meta.url));

export const ADMIN_EMAIL = "studio-admin@marquee.test";
export const ADMIN_PASSWORD = "studio admin password";

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function waitReady(url: string, fleet: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (fleet.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the fleet did not become ready at ${url}:\n${readFileSync(log, "utf8").slice(-4000)}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const bin = process.env.MARQUEE_BIN;
  if (!bin) throw new Error("MARQUEE_BIN must name the marquee binary (scripts/studio.sh sets it)");
  const oidc = new FakeOidcProvider();
  const issuer = await oidc.start();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const data = mkdtempSync(join(tmpdir(), "marquee-studio-e2e-"));
  const log = join(data, "fleet.log");
  const root = resolve(HERE, "../../..");
  const fleet = spawn(bin, ["up"], {
    cwd: root,
    stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
    env: {
      ...process.env,
      MARQUEE_DATA_DIR: data,
      MARQUEE_GATEWAY_ADDR: `127.0.0.1:${port}`,
      MARQUEE_GATEWAY_STUDIO_DIR: resolve(HERE, "../dist"),
      MARQUEE_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      MARQUEE_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MARQUEE_OIDC_GOOGLE_CLIENT_ID: oidc.clientId,
      MARQUEE_OIDC_GOOGLE_CLIENT_SECRET: oidc.clientSecret,
      MARQUEE_OIDC_GOOGLE_ISSUER: issuer,
      MARQUEE_OIDC_GOOGLE_REDIRECT_URIS: `${base}/api/v1/auth/google/callback`,
      // The campaign journey checks the studio, not a model: the rules composer writes.
      MARQUEE_CAMPAIGN_PROVIDER: "rules",
      // Every visitor of the suite signs up and in from 127.0.0.1: the per-IP budget of
      // anonymous routes (60/min, burst 20) is for one client, and a fast run of the whole
      // journey spent it (429 on the creator's third sign-in). The limiter has its own tests.
      MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_PER_MINUTE: "600",
      MARQUEE_GATEWAY_RATE_LIMIT__ANONYMOUS_BURST: "200",
      MARQUEE_LOG__FILTER: process.env.MARQUEE_LOG__FILTER ?? "warn",
    },
  });
  try {
    await waitReady(base, fleet, log);
  } catch (error) {
    fleet.kill("SIGTERM");
    await oidc.stop();
    throw error;
  }
  process.env.STUDIO_BASE_URL = base;
  process.env.STUDIO_FLEET_LOG = log;
  return async () => {
    fleet.kill("SIGTERM");
    await new Promise((r) => (fleet.exitCode !== null ? r(null) : fleet.once("exit", r)));
    await oidc.stop();
    if (!process.env.STUDIO_KEEP_DATA) rmSync(data, { recursive: true, force: true });
  };
}
