/**
 * Following a campaign-studio job (analysis, writing, chat, media) live over Server-Sent
 * Events: `GET /api/v1/jobs/{id}/events` sends one `event: job` per change (data = the
 * job) and ends after the final state; a failure after the stream started is an
 * `event: error` carrying a problem. EventSource is same-origin, so the session cookies
 * go along. When the stream cannot be opened (e.g. the access cookie expired: EventSource
 * cannot see the 401), the session is refreshed and the stream reopened; as a last resort
 * the job is polled through the API client.
 */
import { api, unwrap, type paths, type Schemas } from "./client";
import { ApiError, toApiError } from "./errors";
import { refreshSession } from "./session";

export type Job = Schemas["JobBody"];

export const JOB_EVENTS_PATH = "/api/v1/jobs/{id}/events" satisfies keyof paths;

export function isFinished(job: Pick<Job, "state">): boolean {
  return job.state === "succeeded" || job.state === "failed" || job.state === "cancelled";
}

export function jobEventsUrl(id: string): string {
  return JOB_EVENTS_PATH.replace("{id}", encodeURIComponent(id));
}

export interface JobWatch {
  onJob: (job: Job) => void;
  onError: (error: ApiError) => void;
}

const MAX_REOPENS = 2;
const POLL_MS = 2000;

/** Follows job `id` until it finishes; returns a function that stops watching. */
export function watchJob(id: string, { onJob, onError }: JobWatch): () => void {
  let stopped = false;
  let source: EventSource | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let reopens = 0;

  const stop = () => {
    stopped = true;
    source?.close();
    source = null;
    if (pollTimer) clearTimeout(pollTimer);
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const job = await unwrap(api.GET("/api/v1/jobs/{id}", { params: { path: { id } } }));
      if (stopped) return;
      onJob(job);
      if (isFinished(job)) stop();
      else pollTimer = setTimeout(poll, POLL_MS);
    } catch (error) {
      if (!stopped) onError(error instanceof ApiError ? error : toApiError(null, { status: 0 }));
      stop();
    }
  };

  const open = () => {
    if (stopped) return;
    if (typeof EventSource === "undefined") {
      void poll();
      return;
    }
    const es = new EventSource(jobEventsUrl(id));
    source = es;
    es.addEventListener("job", (event) => {
      let job: Job;
      try {
        job = JSON.parse((event as MessageEvent<string>).data) as Job;
      } catch {
        return;
      }
      reopens = 0;
      onJob(job);
      if (isFinished(job)) stop();
    });
    es.addEventListener("error", (event) => {
      if (stopped) return;
      const data = event instanceof MessageEvent ? (event.data as unknown) : undefined;
      if (typeof data === "string" && data !== "") {
        // `event: error` from the server: a problem document.
        let problem: unknown = data;
        try {
          problem = JSON.parse(data);
        } catch {
          // keep the text
        }
        const status = typeof problem === "object" && problem && "status" in problem ? Number(problem.status) : 500;
        onError(toApiError(problem, { status }));
        stop();
        return;
      }
      if (es.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      es.close();
      if (reopens >= MAX_REOPENS) {
        void poll();
        return;
      }
      reopens += 1;
      void refreshSession().then(() => open());
    });
  };

  open();
  return stop;
}
