import { useCallback, useState } from "react";
import type { Job } from "../../api/jobs";

export interface TrackedJob {
  key: string;
  label: string;
  job: Job;
}

/** Jobs started from the studio, by key (one per kind of action, or per post). */
export function useJobs() {
  const [jobs, setJobs] = useState<Record<string, TrackedJob>>({});
  const track = useCallback((key: string, label: string, job: Job) => {
    setJobs((all) => ({ ...all, [key]: { key, label, job } }));
  }, []);
  const dismiss = useCallback((key: string) => {
    setJobs((all) => {
      const next = { ...all };
      delete next[key];
      return next;
    });
  }, []);
  return { jobs, track, dismiss };
}
