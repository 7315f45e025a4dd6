import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, mockApi, problem, renderPage, USER } from "../test/utils";
import { Comments } from "./Comments";

const comment = (id: string, author: string, body: string) => ({
  id,
  asset_id: "a-1",
  author_id: author,
  body,
  status: "visible",
  created_at: "2026-01-01T00:00:00Z",
});

describe("comments", () => {
  it("shows an empty state, then posts a comment that appears at the top", async () => {
    const { requests } = mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/assets/a-1/comments": json({ items: [], next_cursor: null }),
      "POST /api/v1/assets/a-1/comments": json(comment("c-1", USER.id, "Lovely light"), 201),
    });
    const user = userEvent.setup();
    renderPage(<Comments assetId="a-1" commentable />);
    expect(await screen.findByText("No comments yet")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Your comment"), "Lovely light");
    await user.click(screen.getByRole("button", { name: "Post comment" }));
    const list = await screen.findByRole("list", { name: "Comments" });
    expect(within(list).getByText("Lovely light")).toBeInTheDocument();
    expect(within(list).getByRole("button", { name: "Delete comment" })).toBeInTheDocument();
    expect(within(list).queryByRole("button", { name: "Report comment" })).not.toBeInTheDocument();
    const post = requests.find((r) => r.method === "POST")!;
    expect(await post.json()).toEqual({ body: "Lovely light" });
  });

  it("shows the spam rule's detail when a comment is refused", async () => {
    mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/assets/a-1/comments": json({ items: [], next_cursor: null }),
      "POST /api/v1/assets/a-1/comments": problem(400, "too_many_links", "a comment may hold at most 2 links"),
    });
    const user = userEvent.setup();
    renderPage(<Comments assetId="a-1" commentable />);
    await user.type(await screen.findByLabelText("Your comment"), "http://a.co http://b.co http://c.co");
    await user.click(screen.getByRole("button", { name: "Post comment" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("a comment may hold at most 2 links");
  });

  it("reports someone else's comment through a dialog", async () => {
    const { requests } = mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/assets/a-1/comments": json({ items: [comment("c-2", "u-2", "Buy cheap followers")], next_cursor: null }),
      "POST /api/v1/comments/c-2/report": json({ hidden: true }),
    });
    const user = userEvent.setup();
    renderPage(<Comments assetId="a-1" commentable />);
    await user.click(await screen.findByRole("button", { name: "Report comment" }));
    const dialog = screen.getByRole("dialog", { name: "Report comment" });
    await user.type(within(dialog).getByLabelText(/why should moderators/i), "spam");
    await user.click(within(dialog).getByRole("button", { name: "Send report" }));
    expect(await screen.findByText(/hidden while moderators review it/)).toBeInTheDocument();
    const report = requests.find((r) => r.url.endsWith("/report"))!;
    expect(await report.json()).toEqual({ reason: "spam" });
  });

  it("shows a load error with a retry", async () => {
    mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/assets/a-1/comments": problem(503, "unavailable", "The service is unavailable."),
    });
    renderPage(<Comments assetId="a-1" commentable={false} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("The service is unavailable.");
    expect(screen.getByText("Comments open once the asset is published.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
