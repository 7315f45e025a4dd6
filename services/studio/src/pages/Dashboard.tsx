import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type paths, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { AssetCard } from "../components/AssetViews";
import { QuotaBars } from "../components/Quota";
import { VerifyEmailNotice } from "../components/VerifyEmailNotice";
import { EmptyState, ErrorAlert, Loading } from "../components/StateViews";
import { formatDate, humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type Asset = Schemas["AssetBody"];

type AssetStatus = NonNullable<NonNullable<paths["/api/v1/assets"]["get"]["parameters"]["query"]>["status"]>;
const STATUS_FILTERS: ReadonlyArray<AssetStatus | ""> = ["", "processing", "pending_review", "ready", "rejected", "failed"];

export function Dashboard() {
  usePageTitle("Dashboard");
  const { user } = useAuth();
  const ownerId = user?.id ?? "";
  const [status, setStatus] = useState<AssetStatus | "">("");
  const [more, setMore] = useState<{ items: Asset[]; cursor: string | null } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(undefined);

  // Independent requests start together (no waterfall): assets, usage, subscription, plans.
  const assets = useAsync(async () => {
    setMore(null);
    return unwrap(
      api.GET("/api/v1/assets", {
        params: { query: { owner: ownerId, limit: 24, ...(status ? { status } : {}) } },
      }),
    );
  }, [ownerId, status]);
  const usage = useAsync(() => unwrap(api.GET("/api/v1/billing/usage")), []);
  const subscription = useAsync(() => unwrap(api.GET("/api/v1/billing/subscription")), []);
  const plans = useAsync(() => unwrap(api.GET("/api/v1/billing/plans")), []);

  const items = [...(assets.data?.items ?? []), ...(more?.items ?? [])];
  const nextCursor = more ? more.cursor : (assets.data?.next_cursor ?? null);

  async function loadMore() {
    if (!nextCursor) return;
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const page = await unwrap(
        api.GET("/api/v1/assets", {
          params: {
            query: { owner: ownerId, limit: 24, cursor: nextCursor, ...(status ? { status } : {}) },
          },
        }),
      );
      setMore((previous) => ({ items: [...(previous?.items ?? []), ...page.items], cursor: page.next_cursor ?? null }));
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  }

  const planName =
    plans.data?.items.find((plan) => plan.id === subscription.data?.plan)?.name ?? subscription.data?.plan ?? usage.data?.plan;

  return (
    <div className="two-col">
      <section aria-labelledby="assets-heading">
        <div className="page-header">
          <h1 id="assets-heading">My assets</h1>
          <Link to="/upload" className="button">
            Upload
          </Link>
        </div>
        <VerifyEmailNotice />
        <div className="field-inline">
          <label htmlFor="status-filter">Show</label>
          <select id="status-filter" value={status} onChange={(e) => setStatus(e.target.value as AssetStatus | "")}>
            {STATUS_FILTERS.map((value) => (
              <option key={value} value={value}>
                {value ? humanize(value) : "All statuses"}
              </option>
            ))}
          </select>
        </div>
        {assets.loading && !assets.data ? <Loading label="Loading your assets…" /> : null}
        <ErrorAlert error={assets.error} onRetry={assets.reload} title="Could not load your assets" />
        {assets.data && items.length === 0 ? (
          <EmptyState title={status ? "No assets with this status" : "You have not uploaded anything yet"}>
            <p>
              <Link to="/upload">Upload your first asset</Link>
            </p>
          </EmptyState>
        ) : null}
        {items.length > 0 ? (
          <ul className="grid" aria-label="Assets">
            {items.map((asset) => (
              <li key={asset.id}>
                <AssetCard asset={asset} headingLevel={2} />
              </li>
            ))}
          </ul>
        ) : null}
        {moreError ? (
          <p role="alert" className="failure">
            {errorMessage(moreError)}
          </p>
        ) : null}
        {nextCursor ? (
          <div className="button-row">
            <button type="button" className="button secondary" onClick={loadMore} disabled={loadingMore}>
              {loadingMore ? "Loading…" : "Load more assets"}
            </button>
          </div>
        ) : null}
      </section>

      <aside aria-labelledby="usage-heading" className="stack">
        <section className="card">
          <h2 id="usage-heading">Plan and usage</h2>
          {subscription.loading && !subscription.data ? <Loading label="Loading plan…" /> : null}
          <ErrorAlert error={subscription.error} onRetry={subscription.reload} />
          {subscription.data ? (
            <p>
              Plan: <strong>{planName}</strong> <span className="badge">{humanize(subscription.data.status)}</span>
              {subscription.data.current_period_end ? (
                <span className="muted small"> · renews {formatDate(subscription.data.current_period_end)}</span>
              ) : null}
            </p>
          ) : null}
          {usage.loading && !usage.data ? <Loading label="Loading usage…" /> : null}
          <ErrorAlert error={usage.error} onRetry={usage.reload} title="Could not load usage" />
          {usage.data ? <QuotaBars limits={usage.data.limits} /> : null}
          <p className="small">
            <Link to="/billing">Manage billing</Link>
          </p>
        </section>
      </aside>
    </div>
  );
}
