import { useCallback, useEffect, useRef, useState } from "react";

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Runs the loader again (keeps the current data while loading). */
  reload: () => Promise<void>;
  /** Replaces the data locally (after a mutation answered with the new value). */
  setData: (value: T | ((previous: T | undefined) => T)) => void;
}

/**
 * Runs `load` when `deps` change and tracks loading/error/data. A result that arrives
 * after the deps changed (or after unmount) is ignored.
 */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): AsyncState<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const run = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const execute = useCallback(async () => {
    const id = ++run.current;
    setLoading(true);
    setError(undefined);
    try {
      const value = await loadRef.current();
      if (id === run.current) setDataState(() => value);
    } catch (e) {
      if (id === run.current) setError(e);
    } finally {
      if (id === run.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void execute();
    return () => {
      run.current++;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const setData = useCallback((value: T | ((previous: T | undefined) => T)) => {
    setDataState((previous) => (typeof value === "function" ? (value as (p: T | undefined) => T)(previous) : value));
  }, []);

  return { data, error, loading, reload: execute, setData };
}
