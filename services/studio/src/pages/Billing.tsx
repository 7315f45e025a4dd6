import { useState } from "react";
import { TableWrap } from "../components/TableWrap";
import { useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { errorMessage, isApiError } from "../api/errors";
import { formatLimitValue, limitLabel, QuotaBars } from "../components/Quota";
import { EmptyState, ErrorAlert, Loading, Notice } from "../components/StateViews";
import { formatDate, formatMoney, humanize } from "../lib/format";
import { idempotencyKey } from "../lib/idempotency";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type Plan = Schemas["PlanBody"];

export default function BillingPage() {
  usePageTitle("Billing");
  const [params] = useSearchParams();
  // The plan is the whole tenant's: only its owners and billing admins change it.
  const { managesBilling } = useAuth();
  const checkoutResult = params.get("checkout");
  // Everything on the page is independent: load it all at once.
  const plans = useAsync(() => unwrap(api.GET("/api/v1/billing/plans")), []);
  const subscription = useAsync(() => unwrap(api.GET("/api/v1/billing/subscription")), []);
  const usage = useAsync(() => unwrap(api.GET("/api/v1/billing/usage")), []);
  const invoices = useAsync(() => unwrap(api.GET("/api/v1/billing/invoices")), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function subscribe(plan: Plan) {
    setBusy(plan.id);
    setError(null);
    setMessage(null);
    try {
      const origin = window.location.origin;
      const result = await unwrap(
        api.POST("/api/v1/billing/checkout", {
          params: { header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            plan: plan.id as Schemas["PlanName"],
            success_url: `${origin}/billing?checkout=success`,
            cancel_url: `${origin}/billing?checkout=cancelled`,
          },
        }),
      );
      if (result.url) {
        window.location.assign(result.url);
        return;
      }
      if (result.subscription) subscription.setData(result.subscription);
      setMessage(`You are now on the ${plan.name} plan.`);
      void usage.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function openPortal() {
    setBusy("portal");
    setError(null);
    try {
      const result = await unwrap(
        api.POST("/api/v1/billing/portal", { body: { return_url: `${window.location.origin}/billing` } }),
      );
      window.location.assign(result.url);
    } catch (e) {
      setError(
        isApiError(e, "stripe_not_configured")
          ? "The billing portal is not available: this server does not use Stripe. Plan changes apply immediately instead."
          : errorMessage(e),
      );
    } finally {
      setBusy(null);
    }
  }

  const current = subscription.data?.plan;

  return (
    <div className="stack">
      <div className="page-header">
        <h1>Billing</h1>
        {managesBilling ? (
          <button type="button" className="button secondary" onClick={openPortal} disabled={busy === "portal"}>
            {busy === "portal" ? "Opening…" : "Open billing portal"}
          </button>
        ) : null}
      </div>
      {managesBilling ? null : (
        <Notice tone="info">
          This plan is shared by everyone in your workspace. Only its owners and billing admins can change it.
        </Notice>
      )}
      {checkoutResult === "success" ? <Notice>Thanks! Your payment went through; your plan updates in a moment.</Notice> : null}
      {checkoutResult === "cancelled" ? <Notice tone="info">Checkout was cancelled. Nothing was charged.</Notice> : null}
      {message ? <Notice>{message}</Notice> : null}
      {error ? (
        <div className="alert alert-error" role="alert">
          <p>{error}</p>
        </div>
      ) : null}

      <div className="two-col">
        <section aria-labelledby="subscription-heading" className="card">
          <h2 id="subscription-heading">Current subscription</h2>
          {subscription.loading && !subscription.data ? <Loading label="Loading subscription…" /> : null}
          <ErrorAlert error={subscription.error} onRetry={subscription.reload} />
          {subscription.data ? (
            <dl className="meta">
              <dt>Plan</dt>
              <dd>{plans.data?.items.find((p) => p.id === subscription.data!.plan)?.name ?? subscription.data.plan}</dd>
              {subscription.data.subscribed_plan !== subscription.data.plan ? (
                <>
                  <dt>Bought</dt>
                  <dd>{subscription.data.subscribed_plan} (limits reduced while payment is past due)</dd>
                </>
              ) : null}
              <dt>Status</dt>
              <dd>{humanize(subscription.data.status)}</dd>
              <dt>Renews</dt>
              <dd>
                {formatDate(subscription.data.current_period_end)}
                {subscription.data.cancel_at_period_end ? " (cancels then)" : ""}
              </dd>
              {subscription.data.past_due_since ? (
                <>
                  <dt>Past due since</dt>
                  <dd className="failure">{formatDate(subscription.data.past_due_since)}</dd>
                </>
              ) : null}
              <dt>Provider</dt>
              <dd>{subscription.data.provider === "local" ? "Local (no payments)" : "Stripe"}</dd>
            </dl>
          ) : null}
        </section>
        <section aria-labelledby="usage-heading" className="card">
          <h2 id="usage-heading">Usage this period</h2>
          {usage.loading && !usage.data ? <Loading label="Loading usage…" /> : null}
          <ErrorAlert error={usage.error} onRetry={usage.reload} />
          {usage.data ? <QuotaBars limits={usage.data.limits} /> : null}
        </section>
      </div>

      <section aria-labelledby="plans-heading">
        <h2 id="plans-heading">Plans</h2>
        {plans.loading && !plans.data ? <Loading label="Loading plans…" /> : null}
        <ErrorAlert error={plans.error} onRetry={plans.reload} />
        {plans.data && plans.data.items.length === 0 ? <EmptyState title="No plans are offered" /> : null}
        {plans.data && plans.data.items.length > 0 ? (
          <ul className="plans">
            {plans.data.items.map((plan) => {
              const isCurrent = plan.id === current;
              return (
                <li key={plan.id} className={`card plan ${isCurrent ? "current" : ""}`}>
                  <h3>{plan.name}</h3>
                  {isCurrent ? <p className="badge ok">Current plan</p> : null}
                  <ul className="small">
                    {plan.limits.map((limit) => (
                      <li key={`${limit.name}-${limit.period}`}>
                        {limitLabel(limit.name)}: {limit.value ? formatLimitValue(limit.name, limit.value) : "unlimited"}
                        {limit.period === "month" ? " a month" : ""}
                      </li>
                    ))}
                  </ul>
                  {managesBilling && plan.purchasable && !isCurrent ? (
                    <button
                      type="button"
                      className="button"
                      onClick={() => subscribe(plan)}
                      disabled={busy !== null}
                      aria-label={`Subscribe to ${plan.name}`}
                    >
                      {busy === plan.id ? "Starting checkout…" : "Subscribe"}
                    </button>
                  ) : null}
                </li>
              );
            })}
          </ul>
        ) : null}
      </section>

      <section aria-labelledby="invoices-heading">
        <h2 id="invoices-heading">Invoices</h2>
        {invoices.loading && !invoices.data ? <Loading label="Loading invoices…" /> : null}
        <ErrorAlert error={invoices.error} onRetry={invoices.reload} />
        {invoices.data && invoices.data.items.length === 0 ? <EmptyState title="No invoices yet" /> : null}
        {invoices.data && invoices.data.items.length > 0 ? (
          <TableWrap label="Invoices">
            <table>
              <caption className="visually-hidden">Invoices, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Number</th>
                  <th scope="col">Date</th>
                  <th scope="col">Status</th>
                  <th scope="col">Amount due</th>
                  <th scope="col">Paid</th>
                  <th scope="col">Invoice</th>
                </tr>
              </thead>
              <tbody>
                {invoices.data.items.map((invoice) => (
                  <tr key={invoice.id}>
                    <td>{invoice.number || invoice.id}</td>
                    <td>{formatDate(invoice.created)}</td>
                    <td>{humanize(invoice.status)}</td>
                    <td>{formatMoney(invoice.amount_due, invoice.currency)}</td>
                    <td>{formatMoney(invoice.amount_paid, invoice.currency)}</td>
                    <td>
                      {invoice.hosted_invoice_url ? (
                        <a href={invoice.hosted_invoice_url} rel="noopener noreferrer" target="_blank">
                          View invoice {invoice.number}
                          <span className="visually-hidden"> (opens in a new tab)</span>
                        </a>
                      ) : (
                        "—"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </section>
    </div>
  );
}
