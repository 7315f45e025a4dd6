import { useState } from "react";
import { api, unwrap } from "../api/client";
import { errorMessage } from "../api/errors";

/** Follow / Unfollow a creator; `aria-pressed` tells the current state. */
export function FollowButton({
  creatorId,
  creatorName,
  following,
  onChange,
}: {
  creatorId: string;
  creatorName: string;
  following: boolean;
  onChange: (state: { following: boolean; followers: number }) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      const params = { params: { path: { id: creatorId } } };
      const state = following
        ? await unwrap(api.DELETE("/api/v1/creators/{id}/follow", params))
        : await unwrap(api.POST("/api/v1/creators/{id}/follow", params));
      onChange({ following: state.following, followers: state.followers });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="row">
      <button
        type="button"
        className={`button ${following ? "secondary" : ""}`}
        onClick={toggle}
        disabled={busy}
        aria-label={`${following ? "Unfollow" : "Follow"} ${creatorName}`}
      >
        {following ? "Unfollow" : "Follow"}
      </button>
      {error ? (
        <span role="alert" className="failure small">
          {error}
        </span>
      ) : null}
    </span>
  );
}
