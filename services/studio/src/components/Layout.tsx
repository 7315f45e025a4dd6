import { useEffect, useRef, useState } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useAuth } from "../auth/AuthContext";

interface NavItem {
  to: string;
  label: string;
}

export function Layout() {
  const { user, isModerator, isAdmin, signOut } = useAuth();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  // Route change: close the mobile menu and move focus to the new page's content so
  // keyboard and screen-reader users start at the top of what changed.
  useEffect(() => {
    setMenuOpen(false);
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    if (typeof window.scrollTo === "function" && !location.hash) {
      try {
        window.scrollTo(0, 0);
      } catch {
        // jsdom does not implement scrolling
      }
    }
    mainRef.current?.focus({ preventScroll: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [location.pathname]);

  const items: NavItem[] = user
    ? [
        { to: "/dashboard", label: "Dashboard" },
        { to: "/upload", label: "Upload" },
        { to: "/search", label: "Search" },
        { to: "/campaigns", label: "Campaigns" },
        { to: "/billing", label: "Billing" },
        { to: "/me/profile", label: "My profile" },
        ...(isModerator ? [{ to: "/moderation", label: "Moderation" }] : []),
        ...(isAdmin ? [{ to: "/apps", label: "Apps" }, { to: "/admin", label: "Admin" }] : []),
      ]
    : [
        { to: "/signin", label: "Sign in" },
        { to: "/signup", label: "Create account" },
      ];

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="header-inner">
          <NavLink to={user ? "/dashboard" : "/signin"} className="brand">
            <span className="brand-mark" aria-hidden="true">
              M
            </span>
            Marquee Studio
          </NavLink>
          <button
            type="button"
            className="menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="primary-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            Menu
          </button>
          <nav id="primary-nav" aria-label="Main" className={menuOpen ? "primary-nav open" : "primary-nav"}>
            <ul>
              {items.map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to}>{item.label}</NavLink>
                </li>
              ))}
            </ul>
            {user ? (
              <div className="account">
                <span className="account-name" title={user.email}>
                  {user.display_name || user.email}
                </span>
                <button
                  type="button"
                  className="button secondary small"
                  onClick={async () => {
                    try {
                      await signOut();
                    } finally {
                      navigate("/signin");
                    }
                  }}
                >
                  Sign out
                </button>
              </div>
            ) : null}
          </nav>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1} className="main">
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>Marquee Studio</p>
      </footer>
    </>
  );
}
