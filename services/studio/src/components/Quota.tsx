import { useId } from "react";
import type { Schemas } from "../api/client";
import { formatBytes, formatNumber, humanize } from "../lib/format";

type LimitUsage = Schemas["LimitUsageBody"];

const LIMIT_LABELS: Record<string, string> = {
  storage_bytes: "Storage",
  assets: "Assets",
  ai_text_generations: "AI text generations",
  ai_image_generations: "AI images",
  ai_video_generations: "AI videos",
  campaigns: "Campaigns",
};

export function limitLabel(name: string): string {
  return LIMIT_LABELS[name] ?? humanize(name);
}

export function formatLimitValue(name: string, value: number): string {
  return name.endsWith("_bytes") ? formatBytes(value) : formatNumber(value);
}

export function QuotaBar({ usage }: { usage: LimitUsage }) {
  const id = useId();
  const used = usage.used + (usage.reserved ?? 0);
  const max = usage.limit_value;
  const unlimited = !max;
  const over = !unlimited && used >= max;
  const percent = unlimited ? 0 : Math.min(100, Math.round((used / max) * 100));
  return (
    <div className={`quota ${over ? "over" : ""}`}>
      <div className="quota-head">
        <span id={id}>
          {limitLabel(usage.limit)}
          {usage.period === "month" ? " (this month)" : ""}
        </span>
        <span>
          {formatLimitValue(usage.limit, used)} of {unlimited ? "unlimited" : formatLimitValue(usage.limit, max)}
          {over ? " — limit reached" : ""}
        </span>
      </div>
      {unlimited ? null : (
        <progress max={100} value={percent} aria-labelledby={id} aria-valuetext={`${percent}% used`}>
          {percent}%
        </progress>
      )}
    </div>
  );
}

export function QuotaBars({ limits }: { limits: LimitUsage[] }) {
  if (limits.length === 0) return <p className="muted">Your plan has no usage limits.</p>;
  return (
    <div className="stack">
      {limits.map((limit) => (
        <QuotaBar key={`${limit.limit}-${limit.period}`} usage={limit} />
      ))}
    </div>
  );
}
