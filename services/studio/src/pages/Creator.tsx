import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { AssetCard, contentUrl } from "../components/AssetViews";
import { FollowButton } from "../components/FollowButton";
import { EmptyState, ErrorAlert, Loading } from "../components/StateViews";
import { formatDate } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type FollowEntry = Schemas["FollowEntryBody"];

export function CreatorPage() {
  const { id = "" } = useParams();
  const { user } = useAuth();
  // Profile, their assets and their followers load in parallel.
  const creator = useAsync(() => unwrap(api.GET("/api/v1/creators/{id}", { params: { path: { id } } })), [id]);
  const assets = useAsync(
    () => unwrap(api.GET("/api/v1/assets", { params: { query: { owner: id, status: "ready", limit: 24 } } })),
    [id],
  );
  const followers = useAsync(
    () => unwrap(api.GET("/api/v1/creators/{id}/followers", { params: { path: { id }, query: { limit: 50 } } })),
    [id],
  );
  const [moreFollowers, setMoreFollowers] = useState<{ items: FollowEntry[]; cursor: string | null } | null>(null);
  const [followersError, setFollowersError] = useState<string | null>(null);
  usePageTitle(creator.data?.display_name ?? "Creator");

  if (creator.loading && !creator.data) return <Loading label="Loading creator…" />;
  if (creator.error || !creator.data) {
    return (
      <section>
        <h1>Creator</h1>
        <ErrorAlert error={creator.error} onRetry={creator.reload} title="Could not load this creator" />
      </section>
    );
  }
  const c = creator.data;
  const isSelf = c.id === user?.id;
  const followerItems = [...(followers.data?.items ?? []), ...(moreFollowers?.items ?? [])];
  const followersNext = moreFollowers ? moreFollowers.cursor : (followers.data?.next_cursor ?? null);

  async function loadMoreFollowers() {
    if (!followersNext) return;
    try {
      const page = await unwrap(
        api.GET("/api/v1/creators/{id}/followers", { params: { path: { id }, query: { limit: 50, cursor: followersNext } } }),
      );
      setMoreFollowers((prev) => ({ items: [...(prev?.items ?? []), ...page.items], cursor: page.next_cursor ?? null }));
    } catch (e) {
      setFollowersError(errorMessage(e));
    }
  }

  return (
    <div className="stack">
      <section className="card">
        <div className="spread">
          <div className="row">
            {c.avatar_asset_id ? (
              <img className="avatar" src={contentUrl(c.avatar_asset_id, "thumbnail")} alt="" width={64} height={64} />
            ) : null}
            <div>
              <h1>{c.display_name || "Unnamed creator"}</h1>
              <p className="muted">
                <span>{c.followers} followers</span> · <span>{c.following} following</span>
              </p>
            </div>
          </div>
          {isSelf ? (
            <Link to="/me/profile" className="button secondary">
              Edit profile
            </Link>
          ) : (
            <FollowButton
              creatorId={c.id}
              creatorName={c.display_name || "this creator"}
              following={c.followed_by_me}
              onChange={(state) => {
                creator.setData((prev) => ({ ...prev!, followed_by_me: state.following, followers: state.followers }));
                void followers.reload();
              }}
            />
          )}
        </div>
        {c.bio ? <p className="comment-body">{c.bio}</p> : <p className="muted">No bio yet.</p>}
      </section>

      <div className="two-col">
        <section aria-labelledby="creator-assets">
          <h2 id="creator-assets">Assets</h2>
          {assets.loading && !assets.data ? <Loading label="Loading assets…" /> : null}
          <ErrorAlert error={assets.error} onRetry={assets.reload} />
          {assets.data && assets.data.items.length === 0 ? <EmptyState title="No published assets yet" /> : null}
          {assets.data && assets.data.items.length > 0 ? (
            <ul className="grid" aria-label="Creator's assets">
              {assets.data.items.map((asset) => (
                <li key={asset.id}>
                  <AssetCard asset={asset} />
                </li>
              ))}
            </ul>
          ) : null}
        </section>
        <section aria-labelledby="creator-followers" className="card">
          <h2 id="creator-followers">Followers</h2>
          {followers.loading && !followers.data ? <Loading label="Loading followers…" /> : null}
          <ErrorAlert error={followers.error} onRetry={followers.reload} />
          {followers.data && followerItems.length === 0 ? <EmptyState title="No followers yet" /> : null}
          {followerItems.length > 0 ? (
            <ul className="list">
              {followerItems.map((entry) => (
                <li key={entry.user_id}>
                  <Link to={`/creators/${entry.user_id}`}>
                    {entry.user_id === user?.id ? "You" : `Creator ${entry.user_id.slice(0, 8)}`}
                  </Link>{" "}
                  <span className="muted small">since {formatDate(entry.since)}</span>
                </li>
              ))}
            </ul>
          ) : null}
          {followersError ? (
            <p role="alert" className="failure">
              {followersError}
            </p>
          ) : null}
          {followersNext ? (
            <button type="button" className="button secondary small" onClick={loadMoreFollowers}>
              More followers
            </button>
          ) : null}
        </section>
      </div>
    </div>
  );
}
