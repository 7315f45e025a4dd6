import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrapVoid } from "../api/client";
import { errorMessage, isApiError } from "../api/errors";
import { usePageTitle } from "../lib/usePageTitle";

/**
 * `/reset-password`: without a token, asks for the account's e-mail and mails a link;
 * with the link's `?token=mqp_…`, sets a new password (which signs out everywhere).
 */
export function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get("token");
  return token ? <ChooseNewPassword token={token} /> : <ForgotPassword />;
}

function ForgotPassword() {
  usePageTitle("Forgot password");
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unwrapVoid(api.POST("/api/v1/auth/password/forgot", { body: { email: email.trim() } }));
      setSent(true);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="auth-card">
      <h1>Forgot your password?</h1>
      {sent ? (
        <div className="alert alert-success" role="status">
          <p>
            If an account exists for {email.trim()}, we have sent it a link to choose a new password. The link
            expires in one hour.
          </p>
        </div>
      ) : (
        <form onSubmit={submit} className="form">
          <p>Enter your account's e-mail address and we will send you a link to choose a new password.</p>
          <div className="field">
            <label htmlFor="forgot-email">Email</label>
            <input
              id="forgot-email"
              type="email"
              autoComplete="email"
              required
              maxLength={254}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          {error ? (
            <div className="alert alert-error" role="alert">
              <p>{error}</p>
            </div>
          ) : null}
          <button type="submit" className="button" disabled={busy}>
            {busy ? "Sending…" : "Send the link"}
          </button>
        </form>
      )}
      <p className="auth-switch">
        Remembered it? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  usePageTitle("Choose a new password");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (password.length < 10) {
      setError("Use at least 10 characters for your password.");
      return;
    }
    if (password !== confirm) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await unwrapVoid(api.POST("/api/v1/auth/password/reset", { body: { token, password } }));
      setDone(true);
    } catch (e) {
      setError(
        isApiError(e, "reset_token_invalid")
          ? "This link is invalid, has expired or was used already. Ask for a new one."
          : errorMessage(e),
      );
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <section className="auth-card">
        <h1>Password changed</h1>
        <div className="alert alert-success" role="status">
          <p>Your password is changed and you are signed out everywhere.</p>
        </div>
        <p className="auth-switch">
          <Link to="/signin">Sign in with your new password</Link>
        </p>
      </section>
    );
  }

  return (
    <section className="auth-card">
      <h1>Choose a new password</h1>
      <form onSubmit={submit} className="form">
        <div className="field">
          <label htmlFor="reset-password">New password</label>
          <input
            id="reset-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={10}
            maxLength={256}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="reset-confirm">Repeat the new password</label>
          <input
            id="reset-confirm"
            type="password"
            autoComplete="new-password"
            required
            maxLength={256}
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
          />
        </div>
        {error ? (
          <div className="alert alert-error" role="alert">
            <p>{error}</p>
          </div>
        ) : null}
        <button type="submit" className="button" disabled={busy}>
          {busy ? "Saving…" : "Set the new password"}
        </button>
      </form>
      <p className="auth-switch">
        <Link to="/reset-password">Ask for a new link</Link>
      </p>
    </section>
  );
}
