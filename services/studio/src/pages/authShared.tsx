import { api, unwrap } from "../api/client";
import { useAsync } from "../lib/useAsync";

/** Sign-in providers configured on the gateway (`["google"]`, or none). */
export function useProviders(): string[] {
  const { data } = useAsync(async () => {
    const body = await unwrap(api.GET("/api/v1/auth/providers"));
    return (body as { providers?: string[] }).providers ?? [];
  }, []);
  return data ?? [];
}

export function GoogleSignIn({ returnTo, label }: { returnTo: string; label: string }) {
  const href = `/api/v1/auth/google/start?return_to=${encodeURIComponent(returnTo)}`;
  return (
    <div className="oauth">
      <p className="divider">
        <span>or</span>
      </p>
      {/* A real navigation: the gateway redirects to Google and back, then sets cookies. */}
      <a className="button google" href={href}>
        <span aria-hidden="true" className="google-g">
          G
        </span>
        {label}
      </a>
    </div>
  );
}

const GOOGLE_ERRORS: Record<string, string> = {
  google_declined: "Google sign-in was cancelled. You can try again or use your email and password.",
  google_incomplete: "Google did not finish the sign-in. Please try again.",
  state_mismatch: "The Google sign-in took too long or was started in another tab or browser. Please try again.",
  email_not_verified: "Your Google account's email address is not verified. Verify it with Google, then try again.",
  email_taken: "An account with this email already exists. Sign in with your password instead.",
  unavailable: "Sign-in is unavailable right now. Please try again in a moment.",
  provider_not_configured: "Google sign-in is not available on this server.",
  sign_in_failed: "Signing in with Google did not work. Please try again.",
};

export function googleErrorMessage(code: string): string {
  return GOOGLE_ERRORS[code] ?? "Signing in with Google did not work. Please try again, or use your email and password.";
}
