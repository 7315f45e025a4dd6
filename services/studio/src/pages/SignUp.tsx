import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { errorMessage, isApiError } from "../api/errors";
import { usePageTitle } from "../lib/usePageTitle";
import { GoogleSignIn, useProviders } from "./authShared";

const FIELD_CODES: Record<string, "email" | "password" | "display_name"> = {
  invalid_email: "email",
  email_taken: "email",
  weak_password: "password",
  invalid_display_name: "display_name",
};

export function SignUp() {
  usePageTitle("Create account");
  const { signUp, status } = useAuth();
  const navigate = useNavigate();
  const providers = useProviders();
  // An invitation link (`/signup?invitation=mqi_…`) joins the inviting tenant.
  const [params] = useSearchParams();
  const invitation = params.get("invitation") ?? undefined;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  if (status === "signed-in") return <Navigate to="/dashboard" replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (password.length < 10) {
      setError({ field: "password", message: "Use at least 10 characters for your password." });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signUp(email.trim(), password, displayName, invitation);
      navigate("/dashboard", { replace: true });
    } catch (e) {
      const field = isApiError(e) ? FIELD_CODES[e.code] : undefined;
      setError({ field, message: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  const invalid = (field: string) => (error?.field === field ? true : undefined);
  const describedBy = (field: string, hint?: string) =>
    [hint, error?.field === field ? "signup-error" : undefined].filter(Boolean).join(" ") || undefined;

  return (
    <section className="auth-card">
      <h1>Create account</h1>
      {invitation ? (
        <p className="hint">You were invited: use the email address the invitation was sent to.</p>
      ) : null}
      <form onSubmit={submit} className="form">
        <div className="field">
          <label htmlFor="signup-name">Display name (optional)</label>
          <input
            id="signup-name"
            type="text"
            autoComplete="nickname"
            maxLength={100}
            value={displayName}
            aria-invalid={invalid("display_name")}
            aria-describedby={describedBy("display_name")}
            onChange={(e) => setDisplayName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="signup-email">Email</label>
          <input
            id="signup-email"
            type="email"
            autoComplete="email"
            required
            maxLength={254}
            value={email}
            aria-invalid={invalid("email")}
            aria-describedby={describedBy("email")}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="signup-password">Password</label>
          <input
            id="signup-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={10}
            maxLength={256}
            value={password}
            aria-invalid={invalid("password")}
            aria-describedby={describedBy("password", "signup-password-hint")}
            onChange={(e) => setPassword(e.target.value)}
          />
          <p id="signup-password-hint" className="hint">
            At least 10 characters, and not your email address.
          </p>
        </div>
        {error ? (
          <div className="alert alert-error" role="alert" id="signup-error">
            <p>{error.message}</p>
          </div>
        ) : null}
        <button type="submit" className="button" disabled={busy}>
          {busy ? "Creating account…" : "Create account"}
        </button>
      </form>
      {providers.includes("google") ? <GoogleSignIn returnTo="/dashboard" label="Sign up with Google" /> : null}
      <p className="auth-switch">
        Already have an account? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}
