import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { AuthProvider } from "../auth/AuthContext";
import { json, mockApi, problem, USER } from "../test/utils";
import { ResetPassword } from "./ResetPassword";
import { SignIn } from "./SignIn";
import { VerifyEmail } from "./VerifyEmail";
import { VerifyEmailNotice } from "../components/VerifyEmailNotice";

function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <Routes>
          <Route path="/signin" element={<SignIn />} />
          <Route path="/verify-email" element={<VerifyEmail />} />
          <Route path="/reset-password" element={<ResetPassword />} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

const signedOut = {
  "GET /api/v1/auth/me": problem(401, "token_missing", "no token"),
  "POST /api/v1/auth/browser/refresh": problem(401, "refresh_token_invalid", "no session"),
  "GET /api/v1/auth/providers": json({ providers: [] }),
};

describe("accounts", () => {
  it("links the sign-in page to the forgotten-password form", async () => {
    mockApi(signedOut);
    const user = userEvent.setup();
    renderAt("/signin");
    await user.click(await screen.findByRole("link", { name: "Forgot password?" }));
    expect(await screen.findByRole("heading", { name: "Forgot your password?" })).toBeInTheDocument();
  });

  it("asks for a reset link and says the same whatever the address", async () => {
    const { requests } = mockApi({
      ...signedOut,
      "POST /api/v1/auth/password/forgot": new Response(null, { status: 202 }),
    });
    const user = userEvent.setup();
    renderAt("/reset-password");
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(await screen.findByRole("status")).toHaveTextContent(/if an account exists for ada@example.com/i);
    const forgot = requests.find((r) => r.url.endsWith("/api/v1/auth/password/forgot"))!;
    expect(await forgot.json()).toEqual({ email: "ada@example.com" });
  });

  it("sets a new password with the link's token", async () => {
    const { requests } = mockApi({
      ...signedOut,
      "POST /api/v1/auth/password/reset": new Response(null, { status: 204 }),
    });
    const user = userEvent.setup();
    renderAt("/reset-password?token=mqp_abc");
    await user.type(await screen.findByLabelText("New password"), "a brand new passphrase");
    await user.type(screen.getByLabelText("Repeat the new password"), "a brand new passphrase");
    await user.click(screen.getByRole("button", { name: "Set the new password" }));
    expect(await screen.findByRole("heading", { name: "Password changed" })).toBeInTheDocument();
    const reset = requests.find((r) => r.url.endsWith("/api/v1/auth/password/reset"))!;
    expect(await reset.json()).toEqual({ token: "mqp_abc", password: "a brand new passphrase" });
  });

  it("explains a used or expired reset link", async () => {
    mockApi({
      ...signedOut,
      "POST /api/v1/auth/password/reset": problem(400, "reset_token_invalid", "the link is invalid"),
    });
    const user = userEvent.setup();
    renderAt("/reset-password?token=mqp_used");
    await user.type(await screen.findByLabelText("New password"), "a brand new passphrase");
    await user.type(screen.getByLabelText("Repeat the new password"), "a brand new passphrase");
    await user.click(screen.getByRole("button", { name: "Set the new password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/ask for a new one/i);
  });

  it("verifies the address once from the link", async () => {
    const { requests } = mockApi({
      ...signedOut,
      "POST /api/v1/auth/email/verify": json({ ...USER, email_verified: true }),
    });
    renderAt("/verify-email?token=mqv_abc");
    expect(await screen.findByText(/your e-mail address is verified/i)).toBeInTheDocument();
    const verifies = requests.filter((r) => r.url.endsWith("/api/v1/auth/email/verify"));
    expect(verifies).toHaveLength(1);
    expect(await verifies[0].json()).toEqual({ token: "mqv_abc" });
  });

  it("explains an invalid verification link", async () => {
    mockApi({
      ...signedOut,
      "POST /api/v1/auth/email/verify": problem(400, "verification_token_invalid", "the link is invalid"),
    });
    renderAt("/verify-email?token=mqv_used");
    expect(await screen.findByRole("alert")).toHaveTextContent(/invalid, has expired or was used/i);
  });

  it("offers an unverified user a new link, and says when one went out moments ago", async () => {
    const { requests } = mockApi({
      "GET /api/v1/auth/me": json({ ...USER, email_verified: false }),
      "POST /api/v1/auth/email/verification": problem(429, "mail_recently_sent", "sent moments ago"),
    });
    const user = userEvent.setup();
    render(
      <MemoryRouter>
        <AuthProvider>
          <VerifyEmailNotice />
        </AuthProvider>
      </MemoryRouter>,
    );
    await user.click(await screen.findByRole("button", { name: "Send a new link" }));
    expect(await screen.findByText(/a link was sent moments ago/i)).toBeInTheDocument();
    expect(requests.filter((r) => r.url.endsWith("/api/v1/auth/email/verification"))).toHaveLength(1);
  });
});
