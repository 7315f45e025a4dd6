import { useEffect, useRef, useState } from "react";
import { api, unwrap } from "../api/client";
import { errorMessage, type ApiError } from "../api/errors";
import { isFinished, watchJob, type Job } from "../api/jobs";
import { humanize } from "../lib/format";

/**
 * Live progress of one job (SSE), announced politely to screen readers. Calls
 * `onFinished` once with the final job.
 */
export function JobProgress({
  job: initial,
  label,
  onFinished,
}: {
  job: Job;
  label: string;
  onFinished?: (job: Job) => void;
}) {
  const [job, setJob] = useState<Job>(initial);
  const [error, setError] = useState<ApiError | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const finishedRef = useRef(false);
  const onFinishedRef = useRef(onFinished);
  onFinishedRef.current = onFinished;

  useEffect(() => {
    finishedRef.current = false;
    const finish = (final: Job) => {
      if (finishedRef.current) return;
      finishedRef.current = true;
      onFinishedRef.current?.(final);
    };
    if (isFinished(initial)) {
      finish(initial);
      return;
    }
    return watchJob(initial.id, {
      onJob: (next) => {
        setJob(next);
        if (isFinished(next)) finish(next);
      },
      onError: (e) => setError(e),
    });
  }, [initial]);

  const finished = isFinished(job);
  const percent = Math.max(0, Math.min(100, job.progress ?? 0));

  return (
    <div className="job card" data-state={job.state}>
      <div className="spread">
        <p className="label" id={`job-${job.id}-label`}>
          {label}
        </p>
        <span className={`badge ${job.state === "succeeded" ? "ok" : job.state === "failed" ? "bad" : "info"}`}>
          {humanize(job.state)}
        </span>
      </div>
      <progress max={100} value={percent} aria-labelledby={`job-${job.id}-label`}>
        {percent}%
      </progress>
      <p role="status" aria-live="polite" className="small">
        {job.state === "failed"
          ? `Failed: ${job.error || job.message || "unknown error"}`
          : `${percent}%${job.message ? ` — ${job.message}` : ""}`}
      </p>
      {error ? (
        <p role="alert" className="failure small">
          Lost track of this job: {errorMessage(error)}
        </p>
      ) : null}
      {!finished ? (
        <div>
          <button
            type="button"
            className="button secondary small"
            disabled={cancelling}
            onClick={async () => {
              setCancelling(true);
              try {
                const next = await unwrap(api.POST("/api/v1/jobs/{id}/cancel", { params: { path: { id: job.id } } }));
                setJob(next);
              } catch (e) {
                setError(e as ApiError);
              } finally {
                setCancelling(false);
              }
            }}
          >
            Cancel job
          </button>
        </div>
      ) : null}
    </div>
  );
}
