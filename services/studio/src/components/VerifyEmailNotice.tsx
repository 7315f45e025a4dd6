import { useState } from "react";
import { api, unwrapVoid } from "../api/client";
import { errorMessage, isApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";

/** Shown to a signed-in user whose address is not verified yet, with a resend button. */
export function VerifyEmailNotice() {
  const { user } = useAuth();
  const [state, setState] = useState<"idle" | "sending" | "sent">("idle");
  const [error, setError] = useState<string | null>(null);
  if (!user || user.email_verified !== false) return null;

  async function resend() {
    setState("sending");
    setError(null);
    try {
      await unwrapVoid(api.POST("/api/v1/auth/email/verification"));
      setState("sent");
    } catch (e) {
      setState("idle");
      setError(
        isApiError(e, "mail_recently_sent")
          ? "A link was sent moments ago. Check your mail, or try again in a minute."
          : errorMessage(e),
      );
    }
  }

  return (
    <div className="alert alert-info" role="status">
      <p>
        Please verify your e-mail address: we sent a link to {user.email}.{" "}
        {state === "sent" ? (
          "A new link is on its way."
        ) : (
          <button type="button" className="button secondary" onClick={resend} disabled={state === "sending"}>
            {state === "sending" ? "Sending…" : "Send a new link"}
          </button>
        )}
      </p>
      {error ? <p>{error}</p> : null}
    </div>
  );
}
