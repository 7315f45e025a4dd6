import { describe, expect, it } from "vitest";
import { graphemeLength, mastodonLength, measurePost, postLength, threadsLength, xLength } from "./counters";
import { findUrls } from "./urls";

// Cases mirror crates/social/src/length.rs so the live counter agrees with the server.
describe("X weighted length", () => {
  it("counts Latin as 1 and CJK as 2", () => {
    expect(xLength("a".repeat(280))).toBe(280);
    expect(xLength("Ünïcödé Ελληνικά Кириллица עברית العربية हिन्दी")).toBe(47);
    expect(xLength("漢".repeat(140))).toBe(280);
    expect(xLength("the故人西辞黄鹤楼")).toBe(3 + 14);
    expect(xLength("こんにちは")).toBe(10);
  });

  it("counts every URL as 23, with or without a scheme", () => {
    const longUrl = `https://example.com/${"p".repeat(80)}`;
    expect(longUrl.length).toBe(100);
    expect(xLength(longUrl)).toBe(23);
    expect(xLength("Hi http://test.co")).toBe(26);
    expect(xLength("example.com")).toBe(23);
    expect(xLength("see https://example.com/a/very/long/path/indeed")).toBe(27);
    expect(xLength("https://www.twitter.com/aloha ".repeat(10))).toBe(240);
  });

  it("does not take non-URLs for URLs", () => {
    expect(xLength("Node.js")).toBe(7);
    expect(xLength("http://localhost:8080")).toBe(21);
    expect(xLength(`${"a".repeat(64)}.com`)).toBe(68);
  });

  it("counts each emoji as 2 whatever its code points", () => {
    expect(xLength("👨\u200D👩\u200D👧\u200D👦")).toBe(2);
    expect(xLength("H🐱☺👨\u200D👩\u200D👧\u200D👦")).toBe(7);
    expect(xLength("😷👾😡🔥💩")).toBe(10);
    expect(xLength("🙋🏽👨\u200D🎤")).toBe(4);
    expect(xLength("🇫🇷")).toBe(2);
    expect(xLength("1\uFE0F\u20E3")).toBe(2);
    expect(xLength("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}")).toBe(2);
    expect(xLength("👨\u200D👩\u200D👧\u200D👦".repeat(140))).toBe(280);
    expect(xLength("Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}")).toBe(34);
  });

  it("treats © and ® as text unless emoji-styled, and normalises to NFC", () => {
    expect(xLength("©")).toBe(1);
    expect(xLength("©\uFE0F")).toBe(2);
    expect(xLength("™")).toBe(2);
    expect(xLength("e\u0301")).toBe(1);
  });

  it("mixes text, URLs and emoji", () => {
    expect(xLength("Launch day 🚀 read more at https://example.com/blog/launch-day")).toBe(
      "Launch day ".length + 2 + " read more at ".length + 23,
    );
  });
});

describe("Bluesky graphemes", () => {
  it("counts what a reader sees as one character", () => {
    expect(graphemeLength("e\u0301🇫🇷👨\u200D👩\u200D👧")).toBe(3);
    expect(graphemeLength("👍🏽".repeat(300))).toBe(300);
    expect(postLength("bluesky", "hello")).toBe(5);
  });

  it("flags over 300 graphemes and over 3000 bytes", () => {
    expect(measurePost("bluesky", "👍🏽".repeat(300)).over).toBe(false);
    expect(measurePost("bluesky", `${"👍🏽".repeat(300)}!`).over).toBe(true);
    const report = measurePost("bluesky", "👨\u200D👩\u200D👧\u200D👦".repeat(200));
    expect(report.length).toBe(200);
    expect(report.bytes).toBe(25 * 200);
    expect(report.over).toBe(true);
  });
});

describe("other platforms", () => {
  it("Mastodon counts code points and scheme URLs as 23", () => {
    const longUrl = `https://example.com/${"p".repeat(80)}`;
    expect(mastodonLength(`Read ${longUrl} now`)).toBe(5 + 23 + 4);
    expect(mastodonLength("example.com")).toBe(11);
    expect(mastodonLength("日本👍🏽")).toBe(4);
  });

  it("Threads counts emoji by their UTF-8 bytes", () => {
    expect(threadsLength("hello")).toBe(5);
    expect(threadsLength("😀")).toBe(4);
    expect(threadsLength("👍🏽")).toBe(8);
    expect(threadsLength("❤\uFE0F")).toBe(6);
    expect(threadsLength("日本")).toBe(2);
  });

  it("LinkedIn, Instagram, Facebook and TikTok count UTF-16 units", () => {
    expect(postLength("linkedin", "é日")).toBe(2);
    expect(postLength("linkedin", "😀")).toBe(2);
    expect(postLength("instagram", "𝐁𝐨𝐥𝐝")).toBe(8);
  });

  it("reports remaining characters against each limit", () => {
    expect(measurePost("x", "hi")).toMatchObject({ length: 2, max: 280, remaining: 278, over: false });
    expect(measurePost("x", "a".repeat(281))).toMatchObject({ remaining: -1, over: true });
    expect(measurePost("mastodon", "a").max).toBe(500);
    expect(measurePost("linkedin", "a").max).toBe(3000);
    expect(measurePost("instagram", "a").max).toBe(2200);
    expect(measurePost("facebook", "a").max).toBe(63206);
    expect(measurePost("tiktok", "a").max).toBe(2200);
  });
});

describe("URL recognition", () => {
  const urls = (text: string) => findUrls(text).map((r) => text.slice(r.start, r.end));
  it("matches twitter-text", () => {
    expect(urls("see http://example.com now")).toEqual(["http://example.com"]);
    expect(urls("(http://twitter.com)")).toEqual(["http://twitter.com"]);
    expect(urls("read http://en.wikipedia.org/wiki/Primer_(film), ok")).toEqual(["http://en.wikipedia.org/wiki/Primer_(film)"]);
    expect(urls("go http://example.com/path........")).toEqual(["http://example.com/path"]);
    expect(urls("at http://host.com:3000/x")).toEqual(["http://host.com:3000/x"]);
  });
});
