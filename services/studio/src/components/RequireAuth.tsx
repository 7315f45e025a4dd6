import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { Loading } from "./StateViews";

export function RequireAuth({ children, role }: { children: ReactNode; role?: "moderator" | "admin" }) {
  const { status, isModerator, isAdmin } = useAuth();
  const location = useLocation();
  if (status === "loading") return <Loading label="Checking your session…" />;
  if (status === "signed-out") {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/signin?next=${encodeURIComponent(next)}`} replace />;
  }
  if ((role === "moderator" && !isModerator) || (role === "admin" && !isAdmin)) {
    return (
      <section>
        <h1>Not allowed</h1>
        <p>This page needs the {role} role. Ask an administrator if you need access.</p>
      </section>
    );
  }
  return <>{children}</>;
}
