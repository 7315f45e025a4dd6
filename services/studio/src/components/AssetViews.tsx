import { Link } from "react-router";
import type { Schemas } from "../api/client";
import { formatBytes, humanize } from "../lib/format";

type Asset = Schemas["AssetBody"];

const STATUS_TONE: Record<string, string> = {
  ready: "ok",
  processing: "info",
  pending_review: "warn",
  rejected: "bad",
  failed: "bad",
};

const STATUS_TEXT: Record<string, string> = {
  ready: "Published",
  processing: "Processing",
  pending_review: "Awaiting moderation",
  rejected: "Rejected by moderation",
  failed: "Processing failed",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${STATUS_TONE[status] ?? ""}`}>{STATUS_TEXT[status] ?? humanize(status)}</span>;
}

export function contentUrl(id: string, variant?: "thumbnail" | "published" | "original"): string {
  const base = `/api/v1/assets/${encodeURIComponent(id)}/content`;
  return variant ? `${base}?variant=${variant}` : base;
}

export function Thumbnail({ id, title, kind, hasThumbnail, url }: { id: string; title: string; kind: string; hasThumbnail: boolean; url?: string | null }) {
  const src = url ?? (hasThumbnail ? contentUrl(id, "thumbnail") : null);
  return (
    <div className="thumb">
      {src ? <img src={src} alt={title ? `Thumbnail of ${title}` : "Thumbnail"} loading="lazy" /> : <span>{humanize(kind)}</span>}
    </div>
  );
}

export function TagList({ tags, label = "Tags" }: { tags: readonly string[]; label?: string }) {
  if (tags.length === 0) return null;
  return (
    <ul className="tags" aria-label={label}>
      {tags.map((tag) => (
        <li key={tag} className="tag">
          {tag}
        </li>
      ))}
    </ul>
  );
}

export function AssetCard({ asset, headingLevel = 3 }: { asset: Asset; headingLevel?: 2 | 3 }) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const failed = asset.status === "failed" || asset.status === "rejected";
  return (
    <article className="card asset-card">
      <Thumbnail id={asset.id} title={asset.title} kind={asset.kind} hasThumbnail={asset.has_thumbnail} />
      <Heading className="asset-title">
        <Link to={`/assets/${asset.id}`}>{asset.title || asset.filename || "Untitled"}</Link>
      </Heading>
      <div className="row">
        <StatusBadge status={asset.status} />
        <span className="muted small">
          {humanize(asset.kind)} · {formatBytes(asset.size_bytes)}
        </span>
      </div>
      {failed && asset.status_reason ? <p className="failure small">Reason: {asset.status_reason}</p> : null}
      {asset.flags.length > 0 ? <p className="small muted">Flags: {asset.flags.join(", ")}</p> : null}
      <TagList tags={asset.tags} label={`Tags of ${asset.title || "asset"}`} />
    </article>
  );
}
