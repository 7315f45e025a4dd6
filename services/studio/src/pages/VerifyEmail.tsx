import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import { errorMessage, isApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { usePageTitle } from "../lib/usePageTitle";

type State = { kind: "verifying" } | { kind: "verified" } | { kind: "failed"; message: string };

/** Where the link mailed at registration lands: `/verify-email?token=mqv_…`. */
export function VerifyEmail() {
  usePageTitle("Verify e-mail");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { status, reloadUser } = useAuth();
  const [state, setState] = useState<State>(
    token ? { kind: "verifying" } : { kind: "failed", message: "This link has no token. Open the link from the e-mail again." },
  );
  // A token is single use: send it once, even when effects run twice (StrictMode).
  const sent = useRef(false);

  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    // Keep the token out of the history and of any Referer.
    window.history.replaceState(null, "", "/verify-email");
    unwrap(api.POST("/api/v1/auth/email/verify", { body: { token } }))
      .then(() => setState({ kind: "verified" }))
      .catch((error: unknown) =>
        setState({
          kind: "failed",
          message: isApiError(error, "verification_token_invalid")
            ? "This link is invalid, has expired or was used already. Sign in and ask for a new one from the dashboard."
            : errorMessage(error),
        }),
      );
  }, [token]);

  useEffect(() => {
    if (state.kind === "verified" && status === "signed-in") void reloadUser();
    // Only when the verification finishes (the user then shows as verified).
  }, [state.kind, status, reloadUser]);

  return (
    <section className="auth-card">
      <h1>Verify your e-mail address</h1>
      {state.kind === "verifying" ? <p role="status">Verifying…</p> : null}
      {state.kind === "verified" ? (
        <div className="alert alert-success" role="status">
          <p>Your e-mail address is verified. Thank you!</p>
        </div>
      ) : null}
      {state.kind === "failed" ? (
        <div className="alert alert-error" role="alert">
          <p>{state.message}</p>
        </div>
      ) : null}
      <p className="auth-switch">
        {status === "signed-in" ? <Link to="/dashboard">Go to the dashboard</Link> : <Link to="/signin">Sign in</Link>}
      </p>
    </section>
  );
}
