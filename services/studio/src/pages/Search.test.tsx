import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { deferred, json, mockApi, problem, renderPage, USER } from "../test/utils";
import { SearchPage } from "./Search";

describe("search", () => {
  it("shows loading, then results from a semantic query", async () => {
    const first = deferred<Response>();
    const { requests } = mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/search": (_request, url) =>
        url.searchParams.get("q") === "sunset over the sea"
          ? json({
              items: [
                { asset_id: "a-1", score: 0.9, title: "Harbour dusk", kind: "image", tags: ["sea"], thumbnail_url: "/api/v1/assets/a-1/content?variant=thumbnail" },
              ],
              next_cursor: null,
            })
          : first.promise,
    });
    const user = userEvent.setup();
    renderPage(<SearchPage />, { path: "/search" });
    expect(await screen.findByText("Searching…")).toBeInTheDocument();
    first.resolve(json({ items: [], next_cursor: null }));
    expect(await screen.findByText("No matching assets")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Describe what you are looking for"), "sunset over the sea");
    await user.click(screen.getByRole("button", { name: "Search" }));
    expect(await screen.findByRole("link", { name: "Harbour dusk" })).toHaveAttribute("href", "/assets/a-1");
    expect(screen.getByRole("img", { name: "Thumbnail of Harbour dusk" })).toHaveAttribute(
      "src",
      "/api/v1/assets/a-1/content?variant=thumbnail",
    );
    expect(requests.filter((r) => r.url.includes("/search")).every((r) => !r.headers.has("X-CSRF-Token"))).toBe(true);
  });

  it("shows the API's detail for a refused query", async () => {
    mockApi({
      "GET /api/v1/auth/me": json(USER),
      "GET /api/v1/search": problem(400, "invalid_tags", "`tags` holds at most 10 tags"),
    });
    renderPage(<SearchPage />, { path: "/search?tags=a,b" });
    expect(await screen.findByRole("alert")).toHaveTextContent("`tags` holds at most 10 tags");
  });
});
