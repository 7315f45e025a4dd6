import { useState, type FormEvent } from "react";
import { TableWrap } from "../components/TableWrap";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { CopyButton } from "../components/CopyButton";
import { EmptyState, ErrorAlert, Loading } from "../components/StateViews";
import { formatDate, humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type Client = Schemas["OAuthClientBody"];
type Created = Schemas["CreatedOAuthClientBody"];

const SCOPES = ["assets:read", "assets:write", "campaigns:read", "campaigns:write", "billing:read", "tenant:read"] as const;
const TIERS = ["basic", "standard", "premium"] as const;

interface NewClient {
  name: string;
  scopes: string[];
  environment: "sandbox" | "live";
  rate_tier: string;
}

function createBody(input: NewClient) {
  return {
    name: input.name.trim(),
    scopes: input.scopes as Schemas["Scope"][],
    environment: input.environment,
    rate_tier: input.rate_tier as Schemas["RateTier"],
  };
}

export default function AppsPage() {
  usePageTitle("Partner apps");
  const clients = useAsync(() => unwrap(api.GET("/api/v1/admin/oauth-clients")), []);
  const [form, setForm] = useState<NewClient>({ name: "", scopes: ["assets:read"], environment: "sandbox", rate_tier: "standard" });
  const [formError, setFormError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ client: Created; note?: string } | null>(null);
  const [revoking, setRevoking] = useState<Client | null>(null);
  const [rotating, setRotating] = useState<Client | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");

  async function create(event: FormEvent) {
    event.preventDefault();
    if (!form.name.trim()) return setFormError("Give the app a name.");
    if (form.scopes.length === 0) return setFormError("Choose at least one scope.");
    setCreating(true);
    setFormError(null);
    try {
      const created = await unwrap(api.POST("/api/v1/admin/oauth-clients", { body: createBody(form) }));
      setSecret({ client: created });
      setForm({ ...form, name: "" });
      void clients.reload();
    } catch (e) {
      setFormError(errorMessage(e));
    } finally {
      setCreating(false);
    }
  }

  async function revoke(client: Client) {
    setBusy(true);
    setActionError(null);
    try {
      await unwrap(api.DELETE("/api/v1/admin/oauth-clients/{id}", { params: { path: { id: client.id } } }));
      setAnnouncement(`Revoked ${client.name}.`);
      setRevoking(null);
      void clients.reload();
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  // A new secret for the same client: its id, scopes, environment and tier stay. The old
  // secret stops getting tokens at once; tokens already issued work until they expire.
  async function rotate(client: Client) {
    setBusy(true);
    setActionError(null);
    try {
      const rotated = await unwrap(
        api.POST("/api/v1/admin/oauth-clients/{id}/rotate-secret", { params: { path: { id: client.id } } }),
      );
      setSecret({ client: rotated, note: "The old secret no longer gets tokens; tokens it already got work until they expire." });
      setAnnouncement(`Rotated the secret of ${client.name}.`);
      setRotating(null);
      void clients.reload();
    } catch (e) {
      // E.g. revoked meanwhile (409 client_revoked): say so next to the list, refreshed.
      setRotating(null);
      setActionError(errorMessage(e));
      void clients.reload();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <h1>Partner apps</h1>
      <p className="muted">OAuth2 client-credentials clients for partner integrations.</p>
      <p role="status" aria-live="polite" className="small">
        {announcement}
      </p>

      {secret ? (
        <section className="secret-panel" aria-labelledby="secret-heading">
          <h2 id="secret-heading">Copy the secret of {secret.client.name} now</h2>
          <p>This is the only time the secret is shown. Store it somewhere safe.</p>
          {secret.note ? <p>{secret.note}</p> : null}
          <dl className="meta">
            <dt>Client ID</dt>
            <dd>
              <code className="secret-value">{secret.client.client_id}</code>
              <CopyButton value={secret.client.client_id} label="Copy client ID" />
            </dd>
            <dt>Client secret</dt>
            <dd>
              <code className="secret-value">{secret.client.client_secret}</code>
              <CopyButton value={secret.client.client_secret} label="Copy secret" />
            </dd>
          </dl>
          <button type="button" className="button" onClick={() => setSecret(null)}>
            I have stored the secret
          </button>
        </section>
      ) : null}

      <section className="card" aria-labelledby="new-app-heading">
        <h2 id="new-app-heading">New app</h2>
        <form onSubmit={create} className="form">
          <div className="form-grid">
            <div className="field">
              <label htmlFor="app-name">Name</label>
              <input id="app-name" type="text" required maxLength={100} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor="app-tier">Rate tier</label>
              <select id="app-tier" value={form.rate_tier} onChange={(e) => setForm({ ...form, rate_tier: e.target.value })}>
                {TIERS.map((tier) => (
                  <option key={tier} value={tier}>
                    {humanize(tier)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <fieldset>
            <legend>Environment</legend>
            <div className="row">
              {(["sandbox", "live"] as const).map((env) => (
                <div key={env} className="field-inline">
                  <input
                    id={`env-${env}`}
                    type="radio"
                    name="environment"
                    value={env}
                    checked={form.environment === env}
                    onChange={() => setForm({ ...form, environment: env })}
                  />
                  <label htmlFor={`env-${env}`}>{humanize(env)}</label>
                </div>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>Scopes</legend>
            <div className="checkbox-grid">
              {SCOPES.map((scope) => (
                <div key={scope} className="field-inline">
                  <input
                    id={`scope-${scope}`}
                    type="checkbox"
                    checked={form.scopes.includes(scope)}
                    onChange={(e) =>
                      setForm({ ...form, scopes: e.target.checked ? [...form.scopes, scope] : form.scopes.filter((s) => s !== scope) })
                    }
                  />
                  <label htmlFor={`scope-${scope}`}>{scope}</label>
                </div>
              ))}
            </div>
          </fieldset>
          {formError ? (
            <p role="alert" className="failure">
              {formError}
            </p>
          ) : null}
          <div>
            <button type="submit" className="button" disabled={creating}>
              {creating ? "Creating…" : "Create app"}
            </button>
          </div>
        </form>
      </section>

      <section aria-labelledby="apps-heading">
        <h2 id="apps-heading">Apps</h2>
        {actionError ? (
          <p role="alert" className="failure">
            {actionError}
          </p>
        ) : null}
        {clients.loading && !clients.data ? <Loading label="Loading apps…" /> : null}
        <ErrorAlert error={clients.error} onRetry={clients.reload} title="Could not load apps" />
        {clients.data && clients.data.items.length === 0 ? <EmptyState title="No partner apps yet" /> : null}
        {clients.data && clients.data.items.length > 0 ? (
          <TableWrap label="Partner apps">
            <table>
              <caption className="visually-hidden">Partner apps</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Client ID</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Tier</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {clients.data.items.map((client) => (
                  <tr key={client.id}>
                    <td>{client.name}</td>
                    <td>
                      <code>{client.id}</code>
                    </td>
                    <td>{humanize(client.environment)}</td>
                    <td>{client.scopes.join(", ")}</td>
                    <td>{humanize(client.rate_tier)}</td>
                    <td>{formatDate(client.created_at)}</td>
                    <td>
                      {client.revoked_at ? (
                        <span className="badge bad">Revoked {formatDate(client.revoked_at)}</span>
                      ) : (
                        <div className="button-row">
                          <button type="button" className="button secondary small" onClick={() => setRotating(client)} aria-label={`Rotate secret of ${client.name}`}>
                            Rotate
                          </button>
                          <button type="button" className="button danger small" onClick={() => setRevoking(client)} aria-label={`Revoke ${client.name}`}>
                            Revoke
                          </button>
                        </div>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </section>

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke"
        danger
        busy={busy}
        onConfirm={() => revoking && revoke(revoking)}
        onCancel={() => setRevoking(null)}
      >
        <p>Its tokens stop working at once. This cannot be undone.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={rotating !== null}
        title={`Rotate the secret of ${rotating?.name ?? ""}?`}
        confirmLabel="Rotate secret"
        danger
        busy={busy}
        onConfirm={() => rotating && rotate(rotating)}
        onCancel={() => setRotating(null)}
      >
        <p>Apps using the old secret stop getting tokens.</p>
        <p>The client ID, scopes, environment and tier stay the same; the new secret is shown once.</p>
      </ConfirmDialog>
    </div>
  );
}
