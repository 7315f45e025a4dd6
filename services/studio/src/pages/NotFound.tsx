import { Link } from "react-router";
import { usePageTitle } from "../lib/usePageTitle";

export function NotFound() {
  usePageTitle("Page not found");
  return (
    <section className="narrow">
      <h1>Page not found</h1>
      <p>There is nothing at this address. It may have moved, or the link may be wrong.</p>
      <p>
        <Link to="/dashboard">Go to your dashboard</Link>
      </p>
    </section>
  );
}
