import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Job } from "../api/jobs";
import { json, mockApi } from "../test/utils";
import { JobProgress } from "./JobProgress";

class MockEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static instances: MockEventSource[] = [];
  readyState = 0;
  listeners: Record<string, Array<(event: Event) => void>> = {};
  constructor(public url: string) {
    MockEventSource.instances.push(this);
  }
  addEventListener(type: string, listener: (event: Event) => void) {
    (this.listeners[type] ??= []).push(listener);
  }
  close = vi.fn(() => {
    this.readyState = 2;
  });
  emit(type: string, data: unknown) {
    act(() => {
      for (const listener of this.listeners[type] ?? []) listener(new MessageEvent(type, { data: JSON.stringify(data) }));
    });
  }
  failConnection() {
    this.readyState = 2;
    act(() => {
      for (const listener of this.listeners.error ?? []) listener(new Event("error"));
    });
  }
}

const job = (overrides: Partial<Job> = {}): Job =>
  ({
    id: "job-1",
    campaign_id: "c-1",
    kind: "analysis",
    state: "queued",
    progress: 0,
    message: "",
    error: null,
    post_id: null,
    asset_id: null,
    provider: "rules",
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    finished_at: null,
    ...overrides,
  }) as Job;

beforeEach(() => {
  MockEventSource.instances = [];
  vi.stubGlobal("EventSource", MockEventSource);
});

describe("job progress over SSE", () => {
  it("follows the job's events live and reports the final job once", () => {
    const onFinished = vi.fn();
    render(<JobProgress job={job()} label="Analysing the business" onFinished={onFinished} />);
    const source = MockEventSource.instances[0];
    expect(source.url).toBe("/api/v1/jobs/job-1/events");

    source.emit("job", job({ state: "running", progress: 40, message: "Reading the website" }));
    expect(screen.getByRole("progressbar", { name: "Analysing the business" })).toHaveAttribute("value", "40");
    expect(screen.getByRole("status")).toHaveTextContent("40% — Reading the website");
    expect(screen.getByRole("status")).toHaveAttribute("aria-live", "polite");

    source.emit("job", job({ state: "succeeded", progress: 100 }));
    expect(screen.getByText("Succeeded")).toBeInTheDocument();
    expect(onFinished).toHaveBeenCalledTimes(1);
    expect(onFinished).toHaveBeenCalledWith(expect.objectContaining({ state: "succeeded" }));
    expect(source.close).toHaveBeenCalled();
    expect(screen.queryByRole("button", { name: "Cancel job" })).not.toBeInTheDocument();
  });

  it("shows a failed job's error", () => {
    const onFinished = vi.fn();
    render(<JobProgress job={job()} label="Writing" onFinished={onFinished} />);
    MockEventSource.instances[0].emit("job", job({ state: "failed", progress: 30, error: "the AI provider timed out" }));
    expect(screen.getByRole("status")).toHaveTextContent("Failed: the AI provider timed out");
    expect(onFinished).toHaveBeenCalledWith(expect.objectContaining({ state: "failed" }));
  });

  it("shows a problem sent as `event: error`", () => {
    render(<JobProgress job={job()} label="Writing" />);
    MockEventSource.instances[0].emit("error", { status: 503, code: "unavailable", detail: "campaign service unavailable" });
    expect(screen.getByRole("alert")).toHaveTextContent("campaign service unavailable");
  });

  it("refreshes the session and reopens the stream when it cannot connect", async () => {
    const { requests } = mockApi({ "POST /api/v1/auth/browser/refresh": json({ csrf_token: "c" }) });
    render(<JobProgress job={job()} label="Writing" />);
    MockEventSource.instances[0].failConnection();
    await vi.waitFor(() => expect(MockEventSource.instances).toHaveLength(2));
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual(["/api/v1/auth/browser/refresh"]);
  });

  it("cancels a running job", async () => {
    const { requests } = mockApi({ "POST /api/v1/jobs/job-1/cancel": json(job({ state: "cancelled" })) });
    document.cookie = "mq_csrf=c9; path=/";
    render(<JobProgress job={job({ state: "running", progress: 10 })} label="Writing" />);
    await userEvent.click(screen.getByRole("button", { name: "Cancel job" }));
    expect(await screen.findByText("Cancelled")).toBeInTheDocument();
    expect(requests[0].headers.get("X-CSRF-Token")).toBe("c9");
  });
});
