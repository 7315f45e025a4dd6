import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { errorMessage, isApiError } from "../api/errors";
import { safeNext } from "../lib/safeNext";
import { usePageTitle } from "../lib/usePageTitle";
import { GoogleSignIn, googleErrorMessage, useProviders } from "./authShared";

export function SignIn() {
  usePageTitle("Sign in");
  const { signIn, status } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const oauthError = params.get("error");
  const providers = useProviders();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (status === "signed-in") return <Navigate to={next} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      navigate(next, { replace: true });
    } catch (e) {
      if (isApiError(e, "too_many_attempts")) {
        setError("Too many sign-in attempts. Wait a few minutes, then try again.");
      } else {
        setError(errorMessage(e));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="auth-card">
      <h1>Sign in</h1>
      {oauthError ? (
        <div className="alert alert-error" role="alert">
          <p>{googleErrorMessage(oauthError)}</p>
        </div>
      ) : null}
      <form onSubmit={submit} noValidate={false} className="form">
        <div className="field">
          <label htmlFor="signin-email">Email</label>
          <input
            id="signin-email"
            type="email"
            autoComplete="email"
            required
            maxLength={254}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="signin-password">Password</label>
          <input
            id="signin-password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={256}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {error ? (
          <div className="alert alert-error" role="alert">
            <p>{error}</p>
          </div>
        ) : null}
        <button type="submit" className="button" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="auth-forgot">
          <Link to="/reset-password">Forgot password?</Link>
        </p>
      </form>
      {providers.includes("google") ? <GoogleSignIn returnTo={next} label="Sign in with Google" /> : null}
      <p className="auth-switch">
        New to Marquee? <Link to="/signup">Create an account</Link>
      </p>
    </section>
  );
}
