import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { json, mockApi, problem } from "../../test/utils";
import { PostCard } from "./PostsSection";

function post(overrides: Record<string, unknown> = {}) {
  return {
    id: "p-1",
    platform: "x",
    kind: "text_url",
    content: "Spring roast lands Saturday",
    hashtags: [],
    selected: true,
    provider: "rules",
    ai_generated: false,
    media_prompt: "",
    asset_id: null,
    media_provider: null,
    scheduled_at: null,
    status: "draft",
    engagement: { score: 60, reasons: ["short"] },
    theme: "",
    provenance: [],
    repairs: [],
    failure_reason: null,
    published_at: null,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

function renderCard(p = post(), onSaved = vi.fn()) {
  render(
    <ul>
      <PostCard
        index={1}
        campaignId="c-1"
        post={p as never}
        handle="Acme"
        jobs={{}}
        track={vi.fn()}
        onSaved={onSaved}
        onReload={vi.fn()}
      />
    </ul>,
  );
  return { onSaved };
}

describe("post card", () => {
  it("counts live as X counts while editing: URLs are 23, emoji 2", async () => {
    const user = userEvent.setup();
    renderCard();
    await user.click(screen.getByRole("button", { name: "Edit X post 1" }));
    const box = screen.getByLabelText("Text of X post 1");
    expect(box).toHaveAccessibleDescription(/27 \/ 280/);
    await user.clear(box);
    await user.type(box, "Read https://example.com/a/very/long/path/that/is/long 🚀");
    expect(screen.getByTestId("char-counter")).toHaveTextContent("31 / 280"); // "Read " 5 + URL 23 + " " 1 + 🚀 2
    fireEvent.change(box, { target: { value: "a".repeat(281) } });
    expect(screen.getByTestId("char-counter")).toHaveTextContent("281 / 280");
    expect(screen.getByTestId("char-counter")).toHaveTextContent("too long");
    expect(box).toHaveAttribute("aria-invalid", "true");
  });

  it("counts Bluesky posts in graphemes", async () => {
    const user = userEvent.setup();
    renderCard(post({ platform: "bluesky", content: "👨‍👩‍👧‍👦 family day" }));
    expect(screen.getByTestId("char-counter")).toHaveTextContent("12 / 300");
    await user.click(screen.getByRole("button", { name: "Edit Bluesky post 1" }));
    fireEvent.change(screen.getByLabelText("Text of Bluesky post 1"), { target: { value: "🇫🇷".repeat(301) } });
    expect(screen.getByTestId("char-counter")).toHaveTextContent("301 / 300");
  });

  it("saves with PATCH and shows the API's post_breaks_platform_rules detail", async () => {
    const { requests } = mockApi({
      "PATCH /api/v1/campaigns/c-1/posts/p-1": problem(
        400,
        "post_breaks_platform_rules",
        "the text is 290 weighted characters; X allows 280",
      ),
    });
    const user = userEvent.setup();
    const { onSaved } = renderCard();
    await user.click(screen.getByRole("button", { name: "Edit X post 1" }));
    fireEvent.change(screen.getByLabelText("Text of X post 1"), { target: { value: "New text" } });
    await user.click(screen.getByRole("button", { name: "Save post" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("X would refuse this text: the text is 290 weighted characters; X allows 280");
    expect(onSaved).not.toHaveBeenCalled();
    expect(requests[0].method).toBe("PATCH");
    expect(await requests[0].json()).toEqual({ content: "New text" });
  });

  it("hands the saved post back on success", async () => {
    mockApi({ "PATCH /api/v1/campaigns/c-1/posts/p-1": json(post({ content: "Saved text" })) });
    const user = userEvent.setup();
    const { onSaved } = renderCard();
    await user.click(screen.getByRole("button", { name: "Edit X post 1" }));
    fireEvent.change(screen.getByLabelText("Text of X post 1"), { target: { value: "Saved text" } });
    await user.click(screen.getByRole("button", { name: "Save post" }));
    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith(expect.objectContaining({ content: "Saved text" })));
  });
});
