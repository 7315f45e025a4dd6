import { useState, type FormEvent } from "react";
import { TableWrap } from "../components/TableWrap";
import { api, unwrap, type Schemas } from "../api/client";
import { errorMessage } from "../api/errors";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EmptyState, ErrorAlert, Loading, Notice } from "../components/StateViews";
import { formatDate, humanize } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { usePageTitle } from "../lib/usePageTitle";

type Tenant = Schemas["TenantBody"];

export default function AdminPage() {
  usePageTitle("Admin");
  const tenants = useAsync(() => unwrap(api.GET("/api/v1/admin/tenants")), []);
  const [selected, setSelected] = useState<string>("");
  const tenantId = selected || tenants.data?.items[0]?.id || "";

  return (
    <div className="stack">
      <h1>Admin</h1>
      <div className="two-col">
        <TenantsSection tenants={tenants} onCreated={(t) => setSelected(t.id)} />
        <KeysSection />
      </div>
      <FlagsSection tenants={tenants.data?.items ?? []} tenantId={tenantId} onSelect={setSelected} />
      <UserAccessSection />
      <AuditSection />
    </div>
  );
}

function TenantsSection({
  tenants,
  onCreated,
}: {
  tenants: ReturnType<typeof useAsync<Schemas["TenantPageBody"]>>;
  onCreated: (tenant: Tenant) => void;
}) {
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [sandbox, setSandbox] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const tenant = await unwrap(api.POST("/api/v1/admin/tenants", { body: { name: name.trim(), slug: slug.trim(), sandbox } }));
      tenants.setData((page) => ({ ...page!, items: [...(page?.items ?? []), tenant] }));
      onCreated(tenant);
      setName("");
      setSlug("");
      setSandbox(false);
      setStatus(`Tenant ${tenant.name} created.`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="tenants-heading">
      <h2 id="tenants-heading">Tenants</h2>
      {tenants.loading && !tenants.data ? <Loading label="Loading tenants…" /> : null}
      <ErrorAlert error={tenants.error} onRetry={tenants.reload} title="Could not load tenants" />
      {tenants.data && tenants.data.items.length === 0 ? <EmptyState title="No tenants" /> : null}
      {tenants.data && tenants.data.items.length > 0 ? (
        <TableWrap label="Tenants">
          <table>
            <caption className="visually-hidden">Tenants</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Slug</th>
                <th scope="col">Sandbox</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {tenants.data.items.map((tenant) => (
                <tr key={tenant.id}>
                  <td>{tenant.name}</td>
                  <td>
                    <code>{tenant.slug}</code>
                  </td>
                  <td>{tenant.sandbox ? "Yes" : "No"}</td>
                  <td>{formatDate(tenant.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <h3>New tenant</h3>
      <form onSubmit={create} className="form">
        <div className="form-grid">
          <div className="field">
            <label htmlFor="tenant-name">Name</label>
            <input id="tenant-name" type="text" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="tenant-slug">Slug</label>
            <input
              id="tenant-slug"
              type="text"
              required
              minLength={3}
              maxLength={40}
              pattern="[a-z0-9][a-z0-9\-]{1,38}[a-z0-9]"
              aria-describedby="tenant-slug-hint"
              value={slug}
              onChange={(e) => setSlug(e.target.value)}
            />
            <p id="tenant-slug-hint" className="hint">
              3 to 40 of a–z, 0–9 and hyphens, no hyphen at either end.
            </p>
          </div>
        </div>
        <div className="field-inline">
          <input id="tenant-sandbox" type="checkbox" checked={sandbox} onChange={(e) => setSandbox(e.target.checked)} />
          <label htmlFor="tenant-sandbox">Sandbox tenant</label>
        </div>
        {error ? (
          <p role="alert" className="failure">
            {error}
          </p>
        ) : null}
        <p role="status" className="small">
          {status}
        </p>
        <div>
          <button type="submit" className="button" disabled={busy}>
            Create tenant
          </button>
        </div>
      </form>
    </section>
  );
}

interface FlagRow {
  key: number;
  name: string;
  kind: "bool" | "string";
  value: string | boolean;
}

let rowKey = 0;

function FlagsSection({ tenants, tenantId, onSelect }: { tenants: Tenant[]; tenantId: string; onSelect: (id: string) => void }) {
  const [rows, setRows] = useState<FlagRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const flags = useAsync(async () => {
    if (!tenantId) return null;
    const body = await unwrap(api.GET("/api/v1/admin/tenants/{id}/flags", { params: { path: { id: tenantId } } }));
    setRows(
      Object.entries(body.flags as Record<string, string | boolean>).map(([name, value]) => ({
        key: ++rowKey,
        name,
        kind: typeof value === "boolean" ? "bool" : "string",
        value,
      })),
    );
    setStatus(null);
    setError(null);
    return body;
  }, [tenantId]);

  const update = (key: number, patch: Partial<FlagRow>) => setRows(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  async function save(event: FormEvent) {
    event.preventDefault();
    const names = rows.map((r) => r.name.trim());
    if (names.some((n) => !/^[a-z0-9_.-]{1,64}$/.test(n))) {
      setError("Flag names are 1 to 64 of a–z, 0–9, _, . and -.");
      return;
    }
    if (new Set(names).size !== names.length) {
      setError("Two flags have the same name.");
      return;
    }
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const body = Object.fromEntries(rows.map((r) => [r.name.trim(), r.kind === "bool" ? Boolean(r.value) : String(r.value)]));
      await unwrap(api.PUT("/api/v1/admin/tenants/{id}/flags", { params: { path: { id: tenantId } }, body: { flags: body } }));
      setStatus("Flags saved.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="flags-heading">
      <h2 id="flags-heading">Feature flags</h2>
      <div className="field-inline">
        <label htmlFor="flags-tenant">Tenant</label>
        <select id="flags-tenant" value={tenantId} onChange={(e) => onSelect(e.target.value)}>
          {tenants.map((tenant) => (
            <option key={tenant.id} value={tenant.id}>
              {tenant.name} ({tenant.slug})
            </option>
          ))}
        </select>
      </div>
      {!tenantId ? <p className="muted">No tenant to show.</p> : null}
      {flags.loading && tenantId ? <Loading label="Loading flags…" /> : null}
      <ErrorAlert error={flags.error} onRetry={flags.reload} title="Could not load flags" />
      {flags.data ? (
        <form onSubmit={save} className="form">
          {rows.length === 0 ? <p className="muted">This tenant has no flags.</p> : null}
          <ul className="list">
            {rows.map((row, index) => (
              <li key={row.key} className="row">
                <label htmlFor={`flag-name-${row.key}`} className="visually-hidden">
                  Name of flag {index + 1}
                </label>
                <input
                  id={`flag-name-${row.key}`}
                  type="text"
                  className="flag-name"
                  maxLength={64}
                  value={row.name}
                  placeholder="flag_name"
                  onChange={(e) => update(row.key, { name: e.target.value })}
                />
                <label htmlFor={`flag-kind-${row.key}`} className="visually-hidden">
                  Type of flag {index + 1}
                </label>
                <select
                  id={`flag-kind-${row.key}`}
                  value={row.kind}
                  onChange={(e) => {
                    const kind = e.target.value as FlagRow["kind"];
                    update(row.key, { kind, value: kind === "bool" ? true : "" });
                  }}
                >
                  <option value="bool">On/off</option>
                  <option value="string">Text</option>
                </select>
                {row.kind === "bool" ? (
                  <span className="field-inline">
                    <input
                      id={`flag-value-${row.key}`}
                      type="checkbox"
                      checked={Boolean(row.value)}
                      onChange={(e) => update(row.key, { value: e.target.checked })}
                    />
                    <label htmlFor={`flag-value-${row.key}`}>On</label>
                  </span>
                ) : (
                  <>
                    <label htmlFor={`flag-value-${row.key}`} className="visually-hidden">
                      Value of flag {index + 1}
                    </label>
                    <input
                      id={`flag-value-${row.key}`}
                      type="text"
                      maxLength={256}
                      value={String(row.value)}
                      onChange={(e) => update(row.key, { value: e.target.value })}
                    />
                  </>
                )}
                <button
                  type="button"
                  className="button secondary small"
                  onClick={() => setRows(rows.filter((r) => r.key !== row.key))}
                  aria-label={`Remove flag ${row.name || index + 1}`}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
          <div className="button-row">
            <button
              type="button"
              className="button secondary"
              onClick={() => setRows([...rows, { key: ++rowKey, name: "", kind: "bool", value: true }])}
              disabled={rows.length >= 100}
            >
              Add flag
            </button>
            <button type="submit" className="button" disabled={busy}>
              Save flags
            </button>
          </div>
          {error ? (
            <p role="alert" className="failure">
              {error}
            </p>
          ) : null}
          <p role="status" className="small">
            {status}
          </p>
        </form>
      ) : null}
    </section>
  );
}

function KeysSection() {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Schemas["RotatedKeysBody"] | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function rotate() {
    setBusy(true);
    setError(null);
    try {
      setResult(await unwrap(api.POST("/api/v1/admin/keys/rotate")));
      setConfirming(false);
    } catch (e) {
      setError(errorMessage(e));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">Signing keys</h2>
      <p>
        Rotating makes auth sign new tokens with a fresh Ed25519 key at once. The previous key stays published, so tokens already
        issued keep working until they expire.
      </p>
      <button type="button" className="button danger" onClick={() => setConfirming(true)}>
        Rotate signing key
      </button>
      {result ? (
        <Notice>
          New key <code>{result.kid}</code>. Published: {result.published_kids.join(", ")}.
        </Notice>
      ) : null}
      {error ? (
        <p role="alert" className="failure">
          {error}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title="Rotate the signing key?"
        confirmLabel="Rotate key"
        danger
        busy={busy}
        onConfirm={rotate}
        onCancel={() => setConfirming(false)}
      >
        <p>New tokens will be signed with a new key immediately.</p>
      </ConfirmDialog>
    </section>
  );
}

type UserAction = "disable" | "enable" | "revoke-sessions";

const USER_ACTIONS: Record<UserAction, { label: string; title: string; explain: string; danger: boolean }> = {
  disable: {
    label: "Disable user",
    title: "Disable this user?",
    explain: "They cannot sign in, and every session they have ends within seconds.",
    danger: true,
  },
  enable: {
    label: "Enable user",
    title: "Enable this user?",
    explain: "They may sign in again; the sessions that ended stay ended.",
    danger: false,
  },
  "revoke-sessions": {
    label: "End all sessions",
    title: "End every session of this user?",
    explain: "Every device they are signed in on is signed out within seconds. They may sign in again.",
    danger: true,
  },
};

/** Disable, enable, or sign out everywhere a user of the admin's tenant, by id. */
function UserAccessSection() {
  const [userId, setUserId] = useState("");
  const [pending, setPending] = useState<UserAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = userId.trim();

  async function run() {
    if (!pending) return;
    const action = pending;
    setBusy(true);
    setError(null);
    setResult(null);
    const params = { params: { path: { id } } };
    try {
      if (action === "revoke-sessions") {
        const ended = await unwrap(api.POST("/api/v1/admin/users/{id}/revoke-sessions", params));
        setResult(`Ended every session of ${id} (${ended.refresh_tokens_revoked} signed-in devices).`);
      } else {
        const user =
          action === "disable"
            ? await unwrap(api.POST("/api/v1/admin/users/{id}/disable", params))
            : await unwrap(api.POST("/api/v1/admin/users/{id}/enable", params));
        setResult(`${user.email} is now ${user.disabled ? "disabled" : "enabled"}.`);
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
      setPending(null);
    }
  }

  function ask(action: UserAction) {
    if (id) setPending(action);
  }

  const chosen = pending ? USER_ACTIONS[pending] : null;
  return (
    <section className="card" aria-labelledby="user-access-heading">
      <h2 id="user-access-heading">User access</h2>
      <p>
        For a lost laptop, a leaked token or an account that must stop: find the user&apos;s id in the audit log below (the actor of
        their sign-ins).
      </p>
      {/* No default action on Enter: each change is chosen by its button and confirmed. */}
      <form className="stack" onSubmit={(e) => e.preventDefault()}>
        <label>
          User id
          <input value={userId} onChange={(e) => setUserId(e.target.value)} autoComplete="off" spellCheck={false} required />
        </label>
        <div className="row">
          {(Object.keys(USER_ACTIONS) as UserAction[]).map((action) => (
            <button
              key={action}
              type="button"
              className={USER_ACTIONS[action].danger ? "button danger" : "button"}
              disabled={!id}
              onClick={() => ask(action)}
            >
              {USER_ACTIONS[action].label}
            </button>
          ))}
        </div>
      </form>
      {result ? <Notice>{result}</Notice> : null}
      {error ? (
        <p role="alert" className="failure">
          {error}
        </p>
      ) : null}
      <ConfirmDialog
        open={chosen !== null}
        title={chosen?.title ?? ""}
        confirmLabel={chosen?.label ?? ""}
        danger={chosen?.danger ?? false}
        busy={busy}
        onConfirm={run}
        onCancel={() => setPending(null)}
      >
        <p>{chosen?.explain}</p>
      </ConfirmDialog>
    </section>
  );
}

const ACTIONS = [
  "",
  "register",
  "login",
  "refresh",
  "refresh_reuse_detected",
  "logout",
  "access_denied",
  "key_rotated",
  "client_created",
  "client_revoked",
  "client_secret_rotated",
  "client_token_issued",
  "tenant_created",
  "flags_updated",
  "user_disabled",
  "user_enabled",
  "sessions_revoked",
];
const OUTCOMES = ["", "success", "failure", "denied"];

function AuditSection() {
  const [action, setAction] = useState("");
  const [outcome, setOutcome] = useState("");
  // Cursors of the pages before the current one, for "Previous page".
  const [cursors, setCursors] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const page = useAsync(
    () =>
      unwrap(
        api.GET("/api/v1/admin/audit", {
          params: {
            query: { limit: 25, ...(action ? { action } : {}), ...(outcome ? { outcome } : {}), ...(cursor ? { cursor } : {}) },
          },
        }),
      ),
    [action, outcome, cursor],
  );

  const resetPaging = () => {
    setCursors([]);
    setCursor(undefined);
  };

  return (
    <section className="card" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log</h2>
      <div className="row">
        <div className="field-inline">
          <label htmlFor="audit-action">Action</label>
          <select
            id="audit-action"
            value={action}
            onChange={(e) => {
              setAction(e.target.value);
              resetPaging();
            }}
          >
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a ? humanize(a) : "All actions"}
              </option>
            ))}
          </select>
        </div>
        <div className="field-inline">
          <label htmlFor="audit-outcome">Outcome</label>
          <select
            id="audit-outcome"
            value={outcome}
            onChange={(e) => {
              setOutcome(e.target.value);
              resetPaging();
            }}
          >
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o ? humanize(o) : "All outcomes"}
              </option>
            ))}
          </select>
        </div>
      </div>
      {page.loading ? <Loading label="Loading the audit log…" /> : null}
      <ErrorAlert error={page.error} onRetry={page.reload} title="Could not load the audit log" />
      {page.data && page.data.items.length === 0 ? <EmptyState title="No audit entries match" /> : null}
      {page.data && page.data.items.length > 0 ? (
        <TableWrap label="Audit entries">
          <table>
            <caption className="visually-hidden">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Actor</th>
                <th scope="col">IP</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((entry) => (
                <tr key={entry.id}>
                  <td>{formatDate(entry.occurred_at)}</td>
                  <td>{humanize(entry.action)}</td>
                  <td>{humanize(entry.outcome)}</td>
                  <td>
                    <code>{entry.actor_id ? entry.actor_id.slice(0, 8) : "—"}</code>
                  </td>
                  <td>{entry.ip || "—"}</td>
                  <td>{entry.detail || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <div className="button-row">
        <button
          type="button"
          className="button secondary small"
          disabled={cursors.length === 0 && cursor === undefined}
          onClick={() => {
            const previous = [...cursors];
            const last = previous.pop();
            setCursors(previous);
            setCursor(last);
          }}
        >
          Previous page
        </button>
        <button
          type="button"
          className="button secondary small"
          disabled={!page.data?.next_cursor}
          onClick={() => {
            if (!page.data?.next_cursor) return;
            setCursors(cursor === undefined ? [...cursors] : [...cursors, cursor]);
            setCursor(page.data.next_cursor);
          }}
        >
          Next page
        </button>
      </div>
    </section>
  );
}
