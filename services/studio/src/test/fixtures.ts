import { json } from "./utils";

export const ADMIN = {
  id: "u-1",
  tenant_id: "t-1",
  email: "ada@example.com",
  display_name: "Ada",
  roles: ["creator", "admin"],
  created_at: "2026-01-01T00:00:00Z",
};

export const asset = (overrides: Record<string, unknown> = {}) => ({
  id: "a-1",
  tenant_id: "t-1",
  owner_id: "u-2",
  title: "Harbour at dusk",
  description: "Boats in the harbour",
  tags: ["sea", "boats"],
  filename: "harbour.jpg",
  content_type: "image/jpeg",
  kind: "image",
  size_bytes: 123456,
  sha256: "abc",
  status: "ready",
  status_reason: "",
  width: 800,
  height: 600,
  duration_ms: null,
  page_count: null,
  text_excerpt: null,
  has_thumbnail: true,
  flags: [],
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...overrides,
});

const post = (id: string, platform: string, content: string, extra: Record<string, unknown> = {}) => ({
  id,
  platform,
  kind: "text_image",
  content,
  hashtags: ["coffee"],
  selected: true,
  provider: "rules",
  ai_generated: true,
  media_prompt: "A cup of coffee",
  asset_id: null,
  media_provider: null,
  scheduled_at: null,
  status: "draft",
  engagement: { score: 70, reasons: ["a question"] },
  theme: "Behind the roaster",
  provenance: [],
  repairs: [],
  failure_reason: null,
  published_at: null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...extra,
});

export const campaign = {
  id: "c-1",
  name: "Spring launch",
  objective: "Fill the tasting room",
  campaign_type: "product",
  business_description: "Acme Coffee roasts beans in Lyon.",
  urls: ["https://acme.example"],
  asset_ids: [],
  target_audience: "Coffee lovers",
  platforms: ["x", "bluesky", "linkedin"],
  creativity: 5,
  post_count: 9,
  time_zone: "Europe/Paris",
  status: "ready",
  analysis: {
    company_name: "Acme Coffee",
    industry: "Coffee",
    target_audience: "Coffee lovers",
    value_propositions: ["Fresh beans"],
    brand_voice: "Warm",
    competitive_advantages: ["Local"],
    key_messages: ["Taste it where it is roasted"],
    product_context: "Single-origin beans",
    provider: "rules",
    sources: [],
    created_at: "2026-01-01T00:00:00Z",
  },
  themes: [{ name: "Behind the roaster", description: "How a batch is roasted", selected: true }],
  tags: [{ name: "coffee", selected: true, source: "analysis" }],
  guidance: "Warm and concrete.",
  template_id: null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  chat: [
    { role: "user", text: "Less formal", at: "2026-01-01T00:00:00Z", provider: "" },
    { role: "assistant", text: "Done: friendlier tone.", at: "2026-01-01T00:00:01Z", provider: "rules" },
  ],
  posts: [
    post("p-1", "x", "Our spring roast lands Saturday ☕ https://acme.example #coffee", { scheduled_at: "2026-06-01T09:00:00Z" }),
    post("p-2", "bluesky", "Taste it where it was roasted. #coffee", { asset_id: "a-9" }),
    post("p-3", "linkedin", "Behind every cup is a roaster at 5 am. #coffee", { selected: false }),
  ],
};

const usage = {
  plan: "pro",
  provider: "local",
  period_start: null,
  period_end: null,
  limits: [
    { limit: "storage_bytes", used: 1024, reserved: 0, limit_value: 1073741824, period: "total" },
    { limit: "ai_text_generations", used: 3, reserved: 0, limit_value: 100, period: "month" },
  ],
};

/** Every GET the studio's pages make, answered with plausible data. */
export const apiFixtures = {
  "GET /api/v1/auth/me": () => json(ADMIN),
  "GET /api/v1/auth/providers": () => json({ providers: ["google"] }),
  "GET /api/v1/assets": () => json({ items: [asset(), asset({ id: "a-2", title: "Broken", status: "failed", status_reason: "not a JPEG" })], next_cursor: null }),
  "GET /api/v1/assets/a-1": () => json(asset()),
  "GET /api/v1/assets/a-1/tags": () =>
    json({
      asset_id: "a-1",
      tags: [{ name: "sea", confidence: 0.9, source: "ai", provider: "minilm-zero-shot" }],
      state: "tagged",
      failure_reason: null,
      palette: ["#112233"],
      orientation: "landscape",
      size_class: "medium",
      tagged_at: "2026-01-01T00:00:00Z",
    }),
  "GET /api/v1/assets/a-1/comments": () =>
    json({
      items: [{ id: "cm-1", asset_id: "a-1", author_id: "u-3", body: "Lovely", status: "visible", created_at: "2026-01-01T00:00:00Z" }],
      next_cursor: null,
    }),
  "GET /api/v1/assets/a-1/similar": () =>
    json({ items: [{ asset_id: "a-3", score: 0.8, title: "Boats", kind: "image", tags: ["sea"], thumbnail_url: null }], next_cursor: null }),
  "GET /api/v1/creators/u-2": () =>
    json({ id: "u-2", tenant_id: "t-1", display_name: "Grace", bio: "Photographer", avatar_asset_id: null, followers: 3, following: 1, followed_by_me: false, updated_at: null }),
  "GET /api/v1/creators/me": () =>
    json({ id: "u-1", tenant_id: "t-1", display_name: "Ada", bio: "", avatar_asset_id: null, followers: 0, following: 2, followed_by_me: false, updated_at: null }),
  "GET /api/v1/creators/u-2/followers": () => json({ items: [{ user_id: "u-1", since: "2026-01-01T00:00:00Z" }], next_cursor: null }),
  "GET /api/v1/search": () =>
    json({ items: [{ asset_id: "a-1", score: 0.9, title: "Harbour at dusk", kind: "image", tags: ["sea"], thumbnail_url: "/api/v1/assets/a-1/content?variant=thumbnail" }], next_cursor: null }),
  "GET /api/v1/moderation/assets": () => json({ items: [asset({ id: "a-5", title: "To review", status: "pending_review", flags: ["blocked_term:scam"] })], next_cursor: null }),
  "GET /api/v1/moderation/comments": () =>
    json({ items: [{ id: "cm-2", asset_id: "a-1", author_id: "u-3", body: "Spam", status: "hidden", reports: 3, created_at: "2026-01-01T00:00:00Z" }], next_cursor: null }),
  "GET /api/v1/billing/plans": () =>
    json({
      items: [
        { id: "free", name: "Free", limits: [{ name: "assets", value: 100, period: "total" }], purchasable: true },
        { id: "pro", name: "Pro", limits: [{ name: "assets", value: 10000, period: "total" }], purchasable: true },
      ],
      next_cursor: null,
    }),
  "GET /api/v1/billing/subscription": () =>
    json({ tenant_id: "t-1", plan: "pro", subscribed_plan: "pro", status: "active", provider: "local", current_period_end: null, past_due_since: null, cancel_at_period_end: false }),
  "GET /api/v1/billing/usage": () => json(usage),
  "GET /api/v1/billing/invoices": () =>
    json({ items: [{ id: "in-1", number: "A-1", status: "paid", amount_due: 1900, amount_paid: 1900, currency: "usd", hosted_invoice_url: "https://invoice.example/1", created: "2026-01-01T00:00:00Z" }], next_cursor: null }),
  "GET /api/v1/campaigns": () => json({ items: [campaign], next_cursor: null }),
  "GET /api/v1/campaigns/c-1": () => json(campaign),
  "GET /api/v1/admin/oauth-clients": () =>
    json({
      items: [{ id: "oc-1", tenant_id: "t-1", name: "Acme sync", scopes: ["assets:read"], environment: "live", rate_tier: "standard", created_at: "2026-01-01T00:00:00Z", revoked_at: null }],
      next_cursor: null,
    }),
  "GET /api/v1/admin/tenants": () =>
    json({ items: [{ id: "t-1", name: "Default", slug: "default", sandbox: false, created_at: "2026-01-01T00:00:00Z" }], next_cursor: null }),
  "GET /api/v1/admin/tenants/t-1/flags": () => json({ tenant_id: "t-1", flags: { campaign_video: true, theme: "dark" } }),
  "GET /api/v1/admin/audit": () =>
    json({
      items: [{ id: "au-1", tenant_id: "t-1", actor_id: "u-1", action: "login", outcome: "success", ip: "127.0.0.1", user_agent: "x", detail: "", occurred_at: "2026-01-01T00:00:00Z" }],
      next_cursor: null,
    }),
};
