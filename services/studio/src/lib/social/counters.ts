/**
 * Live post-length counters, counting as each platform counts (the same rules the
 * gateway's `crates/social` enforces with `post_breaks_platform_rules`):
 *
 * - X: twitter-text v3 weighted count: NFC first; every URL X recognises is 23; every emoji
 *   (ZWJ sequences, flags, keycaps, skin tones) is 2; other code points 1 in U+0000–U+10FF,
 *   U+2000–U+200D, U+2010–U+201F, U+2032–U+2037 and 2 elsewhere (CJK…). Limit 280.
 * - Bluesky: extended grapheme clusters (Intl.Segmenter), limit 300; and ≤ 3000 UTF-8 bytes.
 * - Mastodon: code points, URLs with a scheme count 23. Limit 500.
 * - Threads: emoji count their UTF-8 bytes, other characters UTF-16 units. Limit 500.
 * - LinkedIn 3000, Instagram 2200, Facebook 63206, TikTok 2200: UTF-16 code units.
 */
import { findUrls } from "./urls";

import { isPlatform, PLATFORM_INFO } from "./platforms";

export { isPlatform, platformLabel, PLATFORM_INFO, PLATFORMS } from "./platforms";
export type { Platform, PlatformInfo } from "./platforms";

const URL_LENGTH = 23;
const X_EMOJI_WEIGHT = 2;

let segmenter: Intl.Segmenter | null = null;
function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const REGIONAL_INDICATOR = /\p{Regional_Indicator}/u;
const KEYCAP = /^[#*0-9]\uFE0F?\u20E3$/u;
const EMOJI_CHARACTER = /^[\p{Emoji}\p{Emoji_Component}]$/u;

/** Whether a grapheme cluster is an emoji (a sequence counted as one). */
export function isEmojiGrapheme(cluster: string): boolean {
  return PICTOGRAPHIC.test(cluster) || REGIONAL_INDICATOR.test(cluster) || KEYCAP.test(cluster);
}

function xCharWeight(cp: number): number {
  if (cp <= 0x10ff || (cp >= 0x2000 && cp <= 0x200d) || (cp >= 0x2010 && cp <= 0x201f) || (cp >= 0x2032 && cp <= 0x2037)) {
    return 1;
  }
  return 2;
}

/** The weight of text with no URL in it, as X counts. */
function xWeightOf(text: string): number {
  let length = 0;
  for (const cluster of graphemes(text)) {
    const codePoints = [...cluster];
    // © and ® alone are text (weight 1); with VS16 (©️) they are emoji.
    const textStyled = codePoints.length === 1 && codePoints[0].codePointAt(0)! < 0x1100;
    if (isEmojiGrapheme(cluster) && !textStyled) {
      length += X_EMOJI_WEIGHT;
      continue;
    }
    for (const c of codePoints) length += xCharWeight(c.codePointAt(0)!);
  }
  return length;
}

/** X's weighted length (twitter-text v3). */
export function xLength(raw: string): number {
  const text = raw.normalize("NFC");
  let length = 0;
  let position = 0;
  for (const url of findUrls(text, "optional")) {
    length += xWeightOf(text.slice(position, url.start)) + URL_LENGTH;
    position = url.end;
  }
  return length + xWeightOf(text.slice(position));
}

/** Bluesky's count: what a reader sees as one character. */
export function graphemeLength(text: string): number {
  return graphemes(text).length;
}

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function mastodonLength(text: string): number {
  let length = 0;
  let position = 0;
  for (const url of findUrls(text, "required")) {
    length += [...text.slice(position, url.start)].length + URL_LENGTH;
    position = url.end;
  }
  return length + [...text.slice(position)].length;
}

export function threadsLength(text: string): number {
  let length = 0;
  for (const cluster of graphemes(text)) {
    if (isEmojiGrapheme(cluster)) {
      length += utf8Length(cluster);
      continue;
    }
    for (const c of cluster) {
      length += c.codePointAt(0)! > 0x7f && EMOJI_CHARACTER.test(c) ? utf8Length(c) : c.length;
    }
  }
  return length;
}

/** The length of `text` as `platform` counts it against its limit. */
export function postLength(platform: string, text: string): number {
  switch (platform) {
    case "x":
      return xLength(text);
    case "bluesky":
      return graphemeLength(text);
    case "mastodon":
      return mastodonLength(text);
    case "threads":
      return threadsLength(text);
    default:
      // LinkedIn, Instagram, Facebook, TikTok: UTF-16 code units (JS string length).
      return text.length;
  }
}

export interface LengthReport {
  length: number;
  max: number;
  remaining: number;
  over: boolean;
  bytes?: number;
  maxBytes?: number;
}

export function measurePost(platform: string, text: string): LengthReport {
  const info = isPlatform(platform) ? PLATFORM_INFO[platform] : { maxLength: 63206, maxBytes: undefined };
  const length = postLength(platform, text);
  const report: LengthReport = { length, max: info.maxLength, remaining: info.maxLength - length, over: length > info.maxLength };
  if (info.maxBytes !== undefined) {
    report.bytes = utf8Length(text);
    report.maxBytes = info.maxBytes;
    report.over ||= report.bytes > info.maxBytes;
  }
  return report;
}
