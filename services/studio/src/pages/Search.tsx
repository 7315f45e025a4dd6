import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { TagList, Thumbnail } from "../components/AssetViews";
import { EmptyState, ErrorAlert, Loading } from "../components/StateViews";
import { humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type Hit = Schemas["SearchHitBody"];
const KINDS = ["", "image", "video", "audio", "document"] as const;

export function SearchPage() {
  usePageTitle("Search");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const tags = params.get("tags") ?? "";
  const kind = params.get("kind") ?? "";
  const [draft, setDraft] = useState({ q, tags, kind });
  const [more, setMore] = useState<{ items: Hit[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(undefined);

  const query = () => ({
    ...(q ? { q } : {}),
    ...(tags ? { tags } : {}),
    ...(kind ? { kind: kind as "image" | "video" | "audio" | "document" } : {}),
    limit: 24,
  });

  const results = useAsync(async () => {
    setMore(null);
    return unwrap(api.GET("/api/v1/search", { params: { query: query() } }));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q, tags, kind]);

  const items = [...(results.data?.items ?? []), ...(more?.items ?? [])];
  const next = more ? more.cursor : (results.data?.next_cursor ?? null);

  function submit(event: FormEvent) {
    event.preventDefault();
    const nextParams = new URLSearchParams();
    if (draft.q.trim()) nextParams.set("q", draft.q.trim());
    if (draft.tags.trim()) nextParams.set("tags", draft.tags.trim());
    if (draft.kind) nextParams.set("kind", draft.kind);
    setParams(nextParams);
  }

  async function loadMore() {
    if (!next) return;
    setMoreError(undefined);
    try {
      const page = await unwrap(api.GET("/api/v1/search", { params: { query: { ...query(), cursor: next } } }));
      setMore((prev) => ({ items: [...(prev?.items ?? []), ...page.items], cursor: page.next_cursor ?? null }));
    } catch (e) {
      setMoreError(e);
    }
  }

  return (
    <section>
      <h1>Search</h1>
      <form role="search" onSubmit={submit} className="form-grid" aria-label="Search assets">
        <div className="field">
          <label htmlFor="search-q">Describe what you are looking for</label>
          <input
            id="search-q"
            type="search"
            maxLength={500}
            value={draft.q}
            onChange={(e) => setDraft({ ...draft, q: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="search-tags">Tags (comma-separated)</label>
          <input id="search-tags" type="text" maxLength={509} value={draft.tags} onChange={(e) => setDraft({ ...draft, tags: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="search-kind">Kind</label>
          <select id="search-kind" value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value })}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k ? humanize(k) : "Any kind"}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <span aria-hidden="true">&nbsp;</span>
          <button type="submit" className="button">
            Search
          </button>
        </div>
      </form>
      <div aria-live="polite" className="visually-hidden">
        {results.data ? `${results.data.items.length}${next ? "+" : ""} results` : ""}
      </div>
      {results.loading && !results.data ? <Loading label="Searching…" /> : null}
      <ErrorAlert error={results.error} onRetry={results.reload} title="Search failed" />
      {results.data && items.length === 0 ? (
        <EmptyState title="No matching assets">
          <p>Try other words, fewer tags, or any kind.</p>
        </EmptyState>
      ) : null}
      {items.length > 0 ? (
        <>
          <h2>{q ? `Results for “${q}”` : "Newest assets"}</h2>
          <ul className="grid" aria-label="Search results">
            {items.map((hit) => (
              <li key={hit.asset_id}>
                <article className="card asset-card">
                  <Thumbnail id={hit.asset_id} title={hit.title} kind={hit.kind} hasThumbnail={false} url={hit.thumbnail_url} />
                  <h3>
                    <Link to={`/assets/${hit.asset_id}`}>{hit.title || "Untitled"}</Link>
                  </h3>
                  <p className="muted small">{humanize(hit.kind)}</p>
                  <TagList tags={hit.tags} label={`Tags of ${hit.title || "asset"}`} />
                </article>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {moreError ? (
        <p role="alert" className="failure">
          {errorMessage(moreError)}
        </p>
      ) : null}
      {next ? (
        <div className="button-row">
          <button type="button" className="button secondary" onClick={loadMore}>
            More results
          </button>
        </div>
      ) : null}
    </section>
  );
}
