import { useId, useMemo, useState, type FormEvent } from "react";
import { api, unwrap } from "../../api/client";
import { errorMessage, isApiError } from "../../api/errors";
import { useAuth } from "../../auth/AuthContext";
import { PLATFORM_INFO, PLATFORMS } from "../../lib/social/platforms";
import { useAsync } from "../../lib/useAsync";

export const CAMPAIGN_TYPES = ["product", "service", "brand", "event"] as const;

export interface Brief {
  name: string;
  objective: string;
  campaign_type: string;
  business_description: string;
  urls: string[];
  asset_ids: string[];
  target_audience: string;
  platforms: string[];
  creativity: number;
  post_count: number;
  time_zone: string;
}

export function defaultBrief(): Brief {
  return {
    name: "",
    objective: "",
    campaign_type: "product",
    business_description: "",
    urls: [],
    asset_ids: [],
    target_audience: "",
    platforms: ["x", "linkedin", "instagram"],
    creativity: 5,
    post_count: 9,
    time_zone: browserTimeZone(),
  };
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function timeZones(current: string): string[] {
  let zones: string[] = [];
  try {
    zones = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  } catch {
    zones = [];
  }
  const set = new Set(["UTC", ...zones, current]);
  return [...set].sort();
}

const FIELD_BY_CODE: Record<string, keyof Brief> = {
  invalid_name: "name",
  invalid_objective: "objective",
  invalid_business_description: "business_description",
  brief_required: "business_description",
  invalid_target_audience: "target_audience",
  invalid_campaign_type: "campaign_type",
  too_many_urls: "urls",
  invalid_url: "urls",
  too_many_assets: "asset_ids",
  platforms_required: "platforms",
  invalid_platform: "platforms",
  invalid_creativity: "creativity",
  invalid_post_count: "post_count",
  invalid_time_zone: "time_zone",
};

/** The campaign brief: used to create a campaign and to edit one. */
export function BriefForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: Brief;
  submitLabel: string;
  onSubmit: (brief: Brief) => Promise<void>;
  onCancel?: () => void;
}) {
  const { user } = useAuth();
  const prefix = useId();
  const [brief, setBrief] = useState<Brief>(initial);
  const [urlsText, setUrlsText] = useState(initial.urls.join("\n"));
  const [error, setError] = useState<{ field?: keyof Brief; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(() => timeZones(initial.time_zone), [initial.time_zone]);
  const assets = useAsync(
    () => unwrap(api.GET("/api/v1/assets", { params: { query: { owner: user?.id ?? "", status: "ready", limit: 50 } } })),
    [user?.id],
  );

  const set = <K extends keyof Brief>(key: K, value: Brief[K]) => setBrief((b) => ({ ...b, [key]: value }));
  const id = (name: string) => `${prefix}-${name}`;
  const invalid = (field: keyof Brief) => (error?.field === field ? true : undefined);
  const described = (field: keyof Brief, hint?: string) =>
    [hint, error?.field === field ? id("error") : undefined].filter(Boolean).join(" ") || undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const urls = urlsText
      .split(/\s+/)
      .map((u) => u.trim())
      .filter(Boolean);
    const next = { ...brief, urls };
    if (!next.name.trim()) return setError({ field: "name", text: "Give the campaign a name." });
    if (!next.business_description.trim() && urls.length === 0) {
      return setError({ field: "business_description", text: "Describe the business or give at least one website." });
    }
    if (urls.length > 3) return setError({ field: "urls", text: "At most 3 websites." });
    if (next.platforms.length === 0) return setError({ field: "platforms", text: "Choose at least one platform." });
    if (next.asset_ids.length > 10) return setError({ field: "asset_ids", text: "Attach at most 10 assets." });
    setBusy(true);
    setError(null);
    try {
      await onSubmit(next);
    } catch (e) {
      setError({ field: isApiError(e) ? FIELD_BY_CODE[e.code] : undefined, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="form" noValidate>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={id("name")}>Campaign name</label>
          <input
            id={id("name")}
            type="text"
            required
            maxLength={120}
            value={brief.name}
            aria-invalid={invalid("name")}
            aria-describedby={described("name")}
            onChange={(e) => set("name", e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={id("type")}>Campaign type</label>
          <select id={id("type")} value={brief.campaign_type} onChange={(e) => set("campaign_type", e.target.value)}>
            {CAMPAIGN_TYPES.map((type) => (
              <option key={type} value={type}>
                {type.charAt(0).toUpperCase() + type.slice(1)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor={id("objective")}>Objective</label>
        <textarea
          id={id("objective")}
          maxLength={1000}
          value={brief.objective}
          aria-invalid={invalid("objective")}
          aria-describedby={described("objective")}
          onChange={(e) => set("objective", e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={id("business")}>Business description</label>
        <textarea
          id={id("business")}
          maxLength={10000}
          value={brief.business_description}
          aria-invalid={invalid("business_description")}
          aria-describedby={described("business_description", id("business-hint"))}
          onChange={(e) => set("business_description", e.target.value)}
        />
        <p id={id("business-hint")} className="hint">
          What the business does and sells. Needed unless you give a website.
        </p>
      </div>
      <div className="field">
        <label htmlFor={id("urls")}>Websites (up to 3, one a line)</label>
        <textarea
          id={id("urls")}
          className="short"
          value={urlsText}
          aria-invalid={invalid("urls")}
          aria-describedby={described("urls")}
          onChange={(e) => setUrlsText(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={id("audience")}>Target audience</label>
        <textarea
          id={id("audience")}
          className="short"
          maxLength={1000}
          value={brief.target_audience}
          aria-invalid={invalid("target_audience")}
          onChange={(e) => set("target_audience", e.target.value)}
        />
      </div>
      <fieldset aria-describedby={described("platforms")}>
        <legend>Platforms</legend>
        <div className="checkbox-grid">
          {PLATFORMS.map((platform) => (
            <div key={platform} className="field-inline">
              <input
                id={id(`platform-${platform}`)}
                type="checkbox"
                checked={brief.platforms.includes(platform)}
                onChange={(e) =>
                  set(
                    "platforms",
                    e.target.checked ? [...brief.platforms, platform] : brief.platforms.filter((p) => p !== platform),
                  )
                }
              />
              <label htmlFor={id(`platform-${platform}`)}>{PLATFORM_INFO[platform].label}</label>
            </div>
          ))}
        </div>
      </fieldset>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={id("creativity")}>Creativity (1–10)</label>
          <input
            id={id("creativity")}
            type="number"
            min={1}
            max={10}
            value={brief.creativity}
            aria-invalid={invalid("creativity")}
            onChange={(e) => set("creativity", Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor={id("count")}>Number of posts (3–15)</label>
          <input
            id={id("count")}
            type="number"
            min={3}
            max={15}
            value={brief.post_count}
            aria-invalid={invalid("post_count")}
            onChange={(e) => set("post_count", Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor={id("tz")}>Time zone</label>
          <select id={id("tz")} value={brief.time_zone} aria-invalid={invalid("time_zone")} onChange={(e) => set("time_zone", e.target.value)}>
            {zones.map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
        </div>
      </div>
      <fieldset aria-describedby={described("asset_ids")}>
        <legend>Attach assets (optional, up to 10)</legend>
        {assets.loading && !assets.data ? <p className="muted small">Loading your assets…</p> : null}
        {assets.error ? <p className="failure small">Could not load your assets: {errorMessage(assets.error)}</p> : null}
        {assets.data && assets.data.items.length === 0 ? <p className="muted small">You have no published assets yet.</p> : null}
        <div className="checkbox-grid">
          {(assets.data?.items ?? []).map((asset) => (
            <div key={asset.id} className="field-inline">
              <input
                id={id(`asset-${asset.id}`)}
                type="checkbox"
                checked={brief.asset_ids.includes(asset.id)}
                onChange={(e) =>
                  set(
                    "asset_ids",
                    e.target.checked ? [...brief.asset_ids, asset.id] : brief.asset_ids.filter((a) => a !== asset.id),
                  )
                }
              />
              <label htmlFor={id(`asset-${asset.id}`)}>{asset.title || asset.filename}</label>
            </div>
          ))}
        </div>
      </fieldset>
      {error ? (
        <p id={id("error")} role="alert" className="failure">
          {error.text}
        </p>
      ) : null}
      <div className="button-row">
        <button type="submit" className="button" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
        {onCancel ? (
          <button type="button" className="button secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
