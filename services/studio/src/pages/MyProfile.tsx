import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { errorMessage, isApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { ErrorAlert, Loading } from "../components/StateViews";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

export function MyProfile() {
  usePageTitle("My profile");
  const { user } = useAuth();
  const profile = useAsync(() => unwrap(api.GET("/api/v1/creators/me")), []);
  const images = useAsync(
    () =>
      unwrap(
        api.GET("/api/v1/assets", { params: { query: { owner: user?.id ?? "", kind: "image", status: "ready", limit: 100 } } }),
      ),
    [user?.id],
  );
  const [displayName, setDisplayName] = useState("");
  const [bio, setBio] = useState("");
  const [avatar, setAvatar] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<{ field?: string; text: string } | null>(null);

  useEffect(() => {
    if (profile.data) {
      setDisplayName(profile.data.display_name);
      setBio(profile.data.bio);
      setAvatar(profile.data.avatar_asset_id ?? "");
    }
  }, [profile.data]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const next = await unwrap(
        api.PUT("/api/v1/creators/me", { body: { display_name: displayName, bio, avatar_asset_id: avatar } }),
      );
      profile.setData(next);
      setMessage("Profile saved.");
    } catch (e) {
      const code = isApiError(e) ? e.code : "";
      const field = code === "display_name_invalid" ? "name" : code === "bio_too_long" ? "bio" : code === "invalid_avatar" ? "avatar" : undefined;
      setError({ field, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  if (profile.loading && !profile.data) return <Loading label="Loading your profile…" />;

  return (
    <section className="narrow">
      <h1>My profile</h1>
      <ErrorAlert error={profile.error} onRetry={profile.reload} title="Could not load your profile" />
      {profile.data ? (
        <>
          <p>
            {profile.data.followers} followers · {profile.data.following} following ·{" "}
            <Link to={`/creators/${profile.data.id}`}>View public profile</Link>
          </p>
          <form onSubmit={save} className="form">
            <div className="field">
              <label htmlFor="profile-name">Display name</label>
              <input
                id="profile-name"
                type="text"
                maxLength={80}
                value={displayName}
                aria-invalid={error?.field === "name" ? true : undefined}
                onChange={(e) => setDisplayName(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="profile-bio">Bio</label>
              <textarea
                id="profile-bio"
                maxLength={1000}
                value={bio}
                aria-invalid={error?.field === "bio" ? true : undefined}
                aria-describedby="profile-bio-hint"
                onChange={(e) => setBio(e.target.value)}
              />
              <p id="profile-bio-hint" className="hint">
                {bio.length} / 1000 characters
              </p>
            </div>
            <div className="field">
              <label htmlFor="profile-avatar">Avatar</label>
              <select
                id="profile-avatar"
                value={avatar}
                aria-invalid={error?.field === "avatar" ? true : undefined}
                onChange={(e) => setAvatar(e.target.value)}
              >
                <option value="">No avatar</option>
                {avatar && !images.data?.items.some((a) => a.id === avatar) ? <option value={avatar}>Current avatar</option> : null}
                {(images.data?.items ?? []).map((asset) => (
                  <option key={asset.id} value={asset.id}>
                    {asset.title || asset.filename}
                  </option>
                ))}
              </select>
              <p className="hint">One of your published images.</p>
            </div>
            {error ? (
              <p role="alert" className="failure">
                {error.text}
              </p>
            ) : null}
            <p role="status">{message}</p>
            <div>
              <button type="submit" className="button" disabled={busy}>
                {busy ? "Saving…" : "Save profile"}
              </button>
            </div>
          </form>
        </>
      ) : null}
    </section>
  );
}
