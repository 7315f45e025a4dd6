import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { isApiError } from "../api/errors";
import { onAuthLost, rememberCsrfToken } from "../api/session";

export type User = Schemas["UserBody"];

/** What register, login and refresh answer in the browser flow (tokens stay in cookies). */
interface BrowserSession {
  user: User;
  csrf_token: string;
  expires_in: number;
}

type Status = "loading" | "signed-in" | "signed-out";

interface AuthValue {
  status: Status;
  user: User | null;
  isModerator: boolean;
  isAdmin: boolean;
  /** Owners, billing admins and admins change the tenant's plan (checkout, portal). */
  managesBilling: boolean;
  signIn: (email: string, password: string) => Promise<User>;
  signUp: (email: string, password: string, displayName?: string, invitation?: string) => Promise<User>;
  signOut: () => Promise<void>;
  reloadUser: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

export function hasRole(user: User | null, role: "creator" | "moderator" | "admin"): boolean {
  if (!user) return false;
  const roles = user.roles ?? [];
  if (roles.includes("admin")) return true; // admins pass moderator routes
  return roles.includes(role);
}

/** Whether the user may change what the whole tenant pays (the gateway's rule:
 * `billing_admin`, or a role that grants it, `owner` or `admin`). */
export function managesBilling(user: User | null): boolean {
  const roles = user?.roles ?? [];
  return ["billing_admin", "owner", "admin"].some((role) => roles.includes(role));
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [status, setStatus] = useState<Status>("loading");

  const accept = useCallback((session: BrowserSession) => {
    rememberCsrfToken(session.csrf_token);
    setUser(session.user);
    setStatus("signed-in");
    return session.user;
  }, []);

  const reloadUser = useCallback(async () => {
    try {
      const me = await unwrap(api.GET("/api/v1/auth/me"));
      setUser(me);
      setStatus("signed-in");
    } catch (error) {
      if (!isApiError(error) || error.status === 401 || error.status === 403) {
        setUser(null);
        setStatus("signed-out");
      } else {
        // The gateway is down or failing: treat as signed out, pages will show errors.
        setUser(null);
        setStatus("signed-out");
      }
    }
  }, []);

  useEffect(() => {
    void reloadUser();
    return onAuthLost(() => {
      setUser(null);
      setStatus("signed-out");
    });
  }, [reloadUser]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const session = await unwrap(api.POST("/api/v1/auth/browser/login", { body: { email, password } }));
      return accept(session as BrowserSession);
    },
    [accept],
  );

  const signUp = useCallback(
    async (email: string, password: string, displayName?: string, invitation?: string) => {
      const body: { email: string; password: string; display_name?: string; invitation?: string } = {
        email,
        password,
      };
      if (displayName && displayName.trim() !== "") body.display_name = displayName.trim();
      if (invitation) body.invitation = invitation;
      const session = await unwrap(api.POST("/api/v1/auth/browser/register", { body }));
      return accept(session as BrowserSession);
    },
    [accept],
  );

  const signOut = useCallback(async () => {
    try {
      await unwrap(api.POST("/api/v1/auth/browser/logout"));
    } finally {
      setUser(null);
      setStatus("signed-out");
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({
      status,
      user,
      isModerator: hasRole(user, "moderator"),
      isAdmin: hasRole(user, "admin"),
      managesBilling: managesBilling(user),
      signIn,
      signUp,
      signOut,
      reloadUser,
    }),
    [status, user, signIn, signUp, signOut, reloadUser],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
