import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { UploadPage } from "./Upload";

class MockXHR {
  static instances: MockXHR[] = [];
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  responseText = "";
  responseType = "";
  withCredentials = false;
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: FormData | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name.toLowerCase()] = value;
  }
  send(body: FormData) {
    this.body = body;
    MockXHR.instances.push(this);
  }
  abort = vi.fn(() => {
    this.onabort?.();
  });
  progress(loaded: number, total: number) {
    act(() => this.upload.onprogress?.({ loaded, total, lengthComputable: true }));
  }
  async respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    await act(async () => this.onload?.());
  }
}

function file(name: string, size: number, type = "image/png"): File {
  return new File([new Uint8Array(size)], name, { type });
}

function renderUpload() {
  return render(
    <MemoryRouter>
      <UploadPage />
    </MemoryRouter>,
  );
}

beforeEach(() => {
  MockXHR.instances = [];
  vi.stubGlobal("XMLHttpRequest", MockXHR);
  document.cookie = "mq_csrf=tok-42; path=/";
});

describe("upload page", () => {
  it("shows an empty state before files are chosen", () => {
    renderUpload();
    expect(screen.getByRole("heading", { level: 1, name: "Upload" })).toBeInTheDocument();
    expect(screen.getByText("No files chosen yet")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Upload" })).toBeDisabled();
  });

  it("uploads several files with real per-file progress, metadata first and the CSRF header", async () => {
    const user = userEvent.setup();
    renderUpload();
    await user.type(screen.getByLabelText("Tags for all files (optional)"), "sea,sunset");
    await user.upload(screen.getByLabelText("Choose files"), [file("sunset.png", 1000), file("harbour.png", 4000)]);
    await user.clear(screen.getByLabelText("Title for sunset.png"));
    await user.type(screen.getByLabelText("Title for sunset.png"), "Sunset");
    await user.click(screen.getByRole("button", { name: "Upload" }));

    expect(MockXHR.instances).toHaveLength(2);
    const [first, second] = MockXHR.instances;
    expect(first.method).toBe("POST");
    expect(first.url).toBe("/api/v1/assets");
    expect(first.headers["x-csrf-token"]).toBe("tok-42");
    expect([...first.body!.keys()]).toEqual(["title", "tags", "file"]);
    expect(first.body!.get("title")).toBe("Sunset");
    expect(first.body!.get("tags")).toBe("sea,sunset");
    expect((first.body!.get("file") as File).name).toBe("sunset.png");

    first.progress(500, 1000);
    second.progress(1000, 4000);
    const sunset = screen.getByRole("listitem", { name: "sunset.png" });
    const harbour = screen.getByRole("listitem", { name: "harbour.png" });
    expect(within(sunset).getByLabelText("Upload progress of sunset.png")).toHaveAttribute("value", "500");
    expect(within(sunset).getByLabelText("Upload progress of sunset.png")).toHaveAttribute("max", "1000");
    expect(within(sunset).getByRole("status")).toHaveTextContent("(50%)");
    expect(within(harbour).getByRole("status")).toHaveTextContent("(25%)");

    await first.respond(201, { id: "asset-1", title: "Sunset", status: "processing" });
    expect(within(sunset).getByRole("status")).toHaveTextContent("Uploaded");
    expect(within(sunset).getByRole("link", { name: "View asset" })).toHaveAttribute("href", "/assets/asset-1");
    expect(within(harbour).getByRole("status")).toHaveTextContent("Uploading");
  });

  it("cancels one file with xhr.abort and lets it be retried", async () => {
    const user = userEvent.setup();
    renderUpload();
    await user.upload(screen.getByLabelText("Choose files"), [file("clip.mp4", 2048, "video/mp4")]);
    await user.click(screen.getByRole("button", { name: "Upload" }));
    const xhr = MockXHR.instances[0];
    xhr.progress(1024, 2048);

    await user.click(screen.getByRole("button", { name: "Cancel upload of clip.mp4" }));
    expect(xhr.abort).toHaveBeenCalledTimes(1);
    const item = screen.getByRole("listitem", { name: "clip.mp4" });
    expect(within(item).getByRole("status")).toHaveTextContent("Cancelled");
    await user.click(within(item).getByRole("button", { name: "Retry" }));
    expect(MockXHR.instances).toHaveLength(2);
  });

  it("shows the problem detail and links the existing asset on a duplicate", async () => {
    const user = userEvent.setup();
    renderUpload();
    await user.upload(screen.getByLabelText("Choose files"), [file("again.png", 10)]);
    await user.click(screen.getByRole("button", { name: "Upload" }));
    await MockXHR.instances[0].respond(409, {
      status: 409,
      code: "duplicate_asset",
      detail: "you have already uploaded these bytes as asset a-9",
      asset_id: "a-9",
    });
    const item = screen.getByRole("listitem", { name: "again.png" });
    expect(within(item).getByRole("status")).toHaveTextContent("Failed: you have already uploaded these bytes as asset a-9");
    expect(within(item).getByRole("link", { name: "Open the asset you uploaded before" })).toHaveAttribute("href", "/assets/a-9");
  });

  it("refreshes the session once on a 401 and sends the file again", async () => {
    const refresh = vi.fn(async () => new Response(JSON.stringify({ csrf_token: "tok-43" }), { status: 200 }));
    vi.stubGlobal("fetch", refresh);
    const user = userEvent.setup();
    renderUpload();
    await user.upload(screen.getByLabelText("Choose files"), [file("late.png", 10)]);
    await user.click(screen.getByRole("button", { name: "Upload" }));
    await MockXHR.instances[0].respond(401, { status: 401, code: "token_expired", detail: "expired" });
    await vi.waitFor(() => expect(MockXHR.instances).toHaveLength(2));
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(String((refresh.mock.calls[0] as unknown[])[0])).toContain("/api/v1/auth/browser/refresh");
    await MockXHR.instances[1].respond(201, { id: "asset-2" });
    expect(within(screen.getByRole("listitem", { name: "late.png" })).getByRole("status")).toHaveTextContent("Uploaded");
  });
});
