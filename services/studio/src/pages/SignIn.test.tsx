import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { AuthProvider } from "../auth/AuthContext";
import { json, mockApi, problem, USER } from "../test/utils";
import { SignIn } from "./SignIn";
import { SignUp } from "./SignUp";

function renderAuth(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <Routes>
          <Route path="/signin" element={<SignIn />} />
          <Route path="/signup" element={<SignUp />} />
          <Route path="/dashboard" element={<h1>Dashboard page</h1>} />
          <Route path="/upload" element={<h1>Upload page</h1>} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

const signedOut = {
  "GET /api/v1/auth/me": problem(401, "token_missing", "no token"),
  "POST /api/v1/auth/browser/refresh": problem(401, "refresh_token_invalid", "no session"),
};

describe("sign in", () => {
  it("offers Google only when the provider is configured, returning to the page asked for", async () => {
    mockApi({ ...signedOut, "GET /api/v1/auth/providers": json({ providers: ["google"] }) });
    renderAuth("/signin?next=%2Fupload");
    const google = await screen.findByRole("link", { name: /sign in with google/i });
    expect(google).toHaveAttribute("href", "/api/v1/auth/google/start?return_to=%2Fupload");
  });

  it("hides Google when no provider is listed", async () => {
    const { fetchMock } = mockApi({ ...signedOut, "GET /api/v1/auth/providers": json({ providers: [] }) });
    renderAuth("/signin");
    await screen.findByRole("button", { name: "Sign in" });
    await vi.waitFor(() => expect(fetchMock.mock.calls.length).toBeGreaterThanOrEqual(3));
    expect(screen.queryByRole("link", { name: /google/i })).not.toBeInTheDocument();
  });

  it("explains a failed Google sign-in", async () => {
    mockApi({ ...signedOut, "GET /api/v1/auth/providers": json({ providers: ["google"] }) });
    renderAuth("/signin?error=google_declined");
    expect(await screen.findByRole("alert")).toHaveTextContent(/google sign-in was cancelled/i);
  });

  it("signs in with the browser route and goes to the next page", async () => {
    const { requests } = mockApi({
      ...signedOut,
      "GET /api/v1/auth/providers": json({ providers: [] }),
      "POST /api/v1/auth/browser/login": json({ user: USER, csrf_token: "c1", expires_in: 900 }),
    });
    const user = userEvent.setup();
    renderAuth("/signin?next=%2Fupload");
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Upload page" })).toBeInTheDocument();
    const login = requests.find((r) => r.url.endsWith("/api/v1/auth/browser/login"))!;
    expect(await login.json()).toEqual({ email: "ada@example.com", password: "correct horse battery" });
  });

  it("shows the API's detail on wrong credentials", async () => {
    mockApi({
      ...signedOut,
      "GET /api/v1/auth/providers": json({ providers: [] }),
      "POST /api/v1/auth/browser/login": problem(401, "invalid_credentials", "email or password is wrong"),
    });
    const user = userEvent.setup();
    renderAuth("/signin");
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "nope");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("email or password is wrong");
  });
});

describe("sign up", () => {
  it("creates an account and marks the field the API refused", async () => {
    mockApi({
      ...signedOut,
      "GET /api/v1/auth/providers": json({ providers: [] }),
      "POST /api/v1/auth/browser/register": problem(409, "email_taken", "an account with this email already exists"),
    });
    const user = userEvent.setup();
    renderAuth("/signup");
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("an account with this email already exists");
    expect(screen.getByLabelText("Email")).toHaveAttribute("aria-invalid", "true");
  });

  it("refuses a short password before calling the API", async () => {
    const { requests } = mockApi({ ...signedOut, "GET /api/v1/auth/providers": json({ providers: [] }) });
    const user = userEvent.setup();
    renderAuth("/signup");
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "short");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("at least 10 characters");
    expect(requests.some((r) => r.url.includes("/register"))).toBe(false);
  });
});
