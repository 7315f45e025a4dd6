import { useMemo, useState, type FormEvent } from "react";
import { TableWrap } from "../../components/TableWrap";
import { api, unwrap, type Schemas } from "../../api/client";
import { ErrorAlert, EmptyState } from "../../components/StateViews";
import { fromLocalInput, toLocalInput } from "../../lib/format";
import { platformLabel } from "../../lib/social/platforms";

type Campaign = Schemas["CampaignBody"];
type Post = Schemas["PostBody"];

/** "YYYY-MM-DD" of `date` in `timeZone`. */
export function dayKey(date: Date, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

function addDays(key: string, days: number): string {
  const date = new Date(`${key}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Monday of the week holding `key`. */
export function weekStart(key: string): string {
  const date = new Date(`${key}T00:00:00Z`);
  const weekday = (date.getUTCDay() + 6) % 7;
  return addDays(key, -weekday);
}

function dayLabel(key: string): string {
  return new Date(`${key}T12:00:00Z`).toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric", timeZone: "UTC" });
}

function timeIn(date: string, timeZone: string): string {
  try {
    return new Date(date).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", timeZone });
  } catch {
    return new Date(date).toLocaleTimeString();
  }
}

function excerpt(text: string, max = 60): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max).join("")}…` : text;
}

function defaultStart(): string {
  const date = new Date();
  date.setDate(date.getDate() + 1);
  date.setHours(9, 0, 0, 0);
  return toLocalInput(date);
}

export function ScheduleSection({ campaign, onChanged }: { campaign: Campaign; onChanged: (c: Campaign) => void }) {
  const [startAt, setStartAt] = useState(defaultStart);
  const [interval, setIntervalMinutes] = useState(1440);
  const [times, setTimes] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(undefined);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tz = campaign.time_zone || "UTC";

  const scheduled = useMemo(
    () =>
      campaign.posts
        .filter((p): p is Post & { scheduled_at: string } => Boolean(p.scheduled_at))
        .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at)),
    [campaign.posts],
  );
  const schedulable = campaign.posts.filter((p) => p.selected && p.status !== "published");
  const firstKey = scheduled.length ? dayKey(new Date(scheduled[0].scheduled_at), tz) : dayKey(new Date(), tz);
  const [week, setWeek] = useState<string | null>(null);
  const shownWeek = week ?? weekStart(firstKey);
  const days = Array.from({ length: 7 }, (_, i) => addDays(shownWeek, i));

  async function run(action: () => Promise<Campaign>, done: string) {
    setBusy(true);
    setError(undefined);
    setStatus(null);
    try {
      const next = await action();
      onChanged(next);
      setStatus(done);
      setWeek(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const scheduleEvery = (event: FormEvent) => {
    event.preventDefault();
    void run(
      () =>
        unwrap(
          api.POST("/api/v1/campaigns/{id}/schedule", {
            params: { path: { id: campaign.id } },
            body: { start_at: fromLocalInput(startAt), interval_minutes: interval },
          }),
        ),
      "Selected posts scheduled.",
    );
  };

  const scheduleTimes = (event: FormEvent) => {
    event.preventDefault();
    const entries = Object.entries(times).filter(([, at]) => at);
    if (entries.length === 0) {
      setError(new Error("Pick a time for at least one post."));
      return;
    }
    void run(
      () =>
        unwrap(
          api.POST("/api/v1/campaigns/{id}/schedule", {
            params: { path: { id: campaign.id } },
            body: { times: entries.map(([post_id, at]) => ({ post_id, at: fromLocalInput(at) })) },
          }),
        ),
      "Post times saved.",
    );
  };

  const unscheduleAll = () =>
    void run(
      () => unwrap(api.POST("/api/v1/campaigns/{id}/unschedule", { params: { path: { id: campaign.id } }, body: {} })),
      "All posts taken off the calendar.",
    );

  return (
    <section id="schedule" className="card studio-section" aria-labelledby="schedule-heading">
      <h2 id="schedule-heading">Schedule</h2>
      <p className="muted small">
        {schedulable.length} selected posts can be scheduled. Times you enter are in your browser's time zone; the calendar shows the
        campaign's time zone ({tz}).
      </p>
      <div className="form-grid">
        <form onSubmit={scheduleEvery} className="form" aria-labelledby="every-heading">
          <h3 id="every-heading">One after another</h3>
          <div className="field">
            <label htmlFor="schedule-start">First post at</label>
            <input id="schedule-start" type="datetime-local" required value={startAt} onChange={(e) => setStartAt(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="schedule-interval">Minutes between posts</label>
            <input
              id="schedule-interval"
              type="number"
              min={1}
              max={43200}
              required
              value={interval}
              onChange={(e) => setIntervalMinutes(Number(e.target.value))}
            />
          </div>
          <div>
            <button type="submit" className="button" disabled={busy || schedulable.length === 0}>
              Schedule selected posts
            </button>
          </div>
        </form>
        <form onSubmit={scheduleTimes} className="form" aria-labelledby="times-heading">
          <h3 id="times-heading">At chosen times</h3>
          {schedulable.length === 0 ? <p className="muted small">Select posts above first.</p> : null}
          {schedulable.map((post, index) => (
            <div className="field" key={post.id}>
              <label htmlFor={`time-${post.id}`}>
                {platformLabel(post.platform)} post {index + 1}: {excerpt(post.content, 40)}
              </label>
              <input
                id={`time-${post.id}`}
                type="datetime-local"
                value={times[post.id] ?? ""}
                onChange={(e) => setTimes({ ...times, [post.id]: e.target.value })}
              />
            </div>
          ))}
          <div>
            <button type="submit" className="button secondary" disabled={busy || schedulable.length === 0}>
              Save post times
            </button>
          </div>
        </form>
      </div>
      <ErrorAlert error={error} />
      <p role="status" className="small">
        {status}
      </p>

      <div className="spread">
        <h3>Calendar</h3>
        <div className="button-row">
          <button type="button" className="button secondary small" onClick={() => setWeek(addDays(shownWeek, -7))}>
            Previous week
          </button>
          <button type="button" className="button secondary small" onClick={() => setWeek(addDays(shownWeek, 7))}>
            Next week
          </button>
          {scheduled.length > 0 ? (
            <button type="button" className="button danger small" onClick={unscheduleAll} disabled={busy}>
              Unschedule all
            </button>
          ) : null}
        </div>
      </div>
      {scheduled.length === 0 ? (
        <EmptyState title="Nothing scheduled yet" />
      ) : (
        <>
          <ol className="calendar" aria-label={`Week of ${dayLabel(shownWeek)}`}>
            {days.map((key) => {
              const posts = scheduled.filter((p) => dayKey(new Date(p.scheduled_at), tz) === key);
              return (
                <li key={key} className="calendar-day">
                  <h4>{dayLabel(key)}</h4>
                  {posts.length === 0 ? (
                    <p className="muted small">No posts</p>
                  ) : (
                    <ul>
                      {posts.map((post) => (
                        <li key={post.id}>
                          <strong>{timeIn(post.scheduled_at, tz)}</strong> {platformLabel(post.platform)}: {excerpt(post.content, 40)}
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              );
            })}
          </ol>
          <h3>All scheduled posts</h3>
          <TableWrap label="Scheduled posts">
            <table>
              <caption className="visually-hidden">Scheduled posts in time order</caption>
              <thead>
                <tr>
                  <th scope="col">When ({tz})</th>
                  <th scope="col">Platform</th>
                  <th scope="col">Post</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {scheduled.map((post) => (
                  <tr key={post.id}>
                    <td>
                      {dayLabel(dayKey(new Date(post.scheduled_at), tz))} {timeIn(post.scheduled_at, tz)}
                    </td>
                    <td>{platformLabel(post.platform)}</td>
                    <td>{excerpt(post.content)}</td>
                    <td>{post.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      )}
    </section>
  );
}
