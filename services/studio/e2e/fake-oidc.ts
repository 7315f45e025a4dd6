// A local OpenID Connect provider speaking Google's wire format, for the browser tests:
// discovery document, JWKS (RS256), an authorization endpoint that signs the person in at
// once (302 back with `code` and `state`), and a token endpoint that checks the PKCE
// verifier and returns an ID token carrying the nonce it was given.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface OidcPerson {
  sub: string;
  email: string;
  name: string;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  nonce: string;
  challenge: string;
  person: OidcPerson;
}

export class FakeOidcProvider {
  readonly clientId = "studio-e2e-client";
  readonly clientSecret = "studio-e2e-secret";
  /** Who the next authorization signs in as. */
  person: OidcPerson = { sub: "google-oauth2|1001", email: "grace@example.com", name: "Grace Hopper" };
  private server?: Server;
  private readonly codes = new Map<string, PendingCode>();
  private readonly privateKey: KeyObject;
  private readonly jwk: Record<string, unknown>;
  private readonly kid = "studio-e2e-key";
  issuer = "";

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.jwk = { ...publicKey.export({ format: "jwk" }), kid: this.kid, alg: "RS256", use: "sig" };
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", this.issuer);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === "/.well-known/openid-configuration") {
        return json(200, {
          issuer: this.issuer,
          authorization_endpoint: `${this.issuer}/authorize`,
          token_endpoint: `${this.issuer}/token`,
          jwks_uri: `${this.issuer}/jwks`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          code_challenge_methods_supported: ["S256"],
        });
      }
      if (url.pathname === "/jwks") return json(200, { keys: [this.jwk] });
      if (url.pathname === "/authorize") {
        const q = url.searchParams;
        if (q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256") {
          return json(400, { error: "invalid_request" });
        }
        const code = randomBytes(16).toString("hex");
        this.codes.set(code, {
          clientId: q.get("client_id") ?? "",
          redirectUri: q.get("redirect_uri") ?? "",
          nonce: q.get("nonce") ?? "",
          challenge: q.get("code_challenge") ?? "",
          person: this.person,
        });
        const back = new URL(q.get("redirect_uri") ?? "");
        back.searchParams.set("code", code);
        back.searchParams.set("state", q.get("state") ?? "");
        res.writeHead(302, { location: back.toString() });
        return res.end();
      }
      if (url.pathname === "/token" && req.method === "POST") {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
          const form = new URLSearchParams(body);
          const pending = this.codes.get(form.get("code") ?? "");
          this.codes.delete(form.get("code") ?? "");
          const verifier = form.get("code_verifier") ?? "";
          const challenge = createHash("sha256").update(verifier).digest("base64url");
          if (
            !pending ||
            form.get("grant_type") !== "authorization_code" ||
            form.get("client_id") !== this.clientId ||
            form.get("client_secret") !== this.clientSecret ||
            form.get("redirect_uri") !== pending.redirectUri ||
            challenge !== pending.challenge
          ) {
            return json(400, { error: "invalid_grant" });
          }
          return json(200, {
            access_token: randomBytes(16).toString("hex"),
            token_type: "Bearer",
            expires_in: 3600,
            id_token: this.idToken(pending),
          });
        });
        return;
      }
      json(404, { error: "not_found" });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.issuer = `http://127.0.0.1:${port}`;
    return this.issuer;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private idToken(pending: PendingCode): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", kid: this.kid };
    const claims = {
      iss: this.issuer,
      aud: pending.clientId,
      azp: pending.clientId,
      sub: pending.person.sub,
      email: pending.person.email,
      email_verified: true,
      name: pending.person.name,
      nonce: pending.nonce,
      iat: now,
      exp: now + 3600,
    };
    const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString("base64url");
    const input = `${encode(header)}.${encode(claims)}`;
    const signature = sign("sha256", Buffer.from(input), this.privateKey).toString("base64url");
    return `${input}.${signature}`;
  }
}
