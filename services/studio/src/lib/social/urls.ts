/**
 * Finding URLs the way X's counter (twitter-text 3) does, ported from the gateway's
 * `crates/social/src/url.rs` so the studio's live counter agrees with the server's check.
 * X counts each URL it recognises as 23 characters (with or without `https://`); Mastodon
 * does the same for URLs with a scheme only.
 *
 * `tlds.txt` is a copy of `crates/social/data/tlds.txt` (IANA's list, Unicode form).
 */
import tldText from "./tlds.txt?raw";

export type Scheme = "optional" | "required";

const TLDS: Set<string> = new Set(
  tldText.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#")),
);
const MAX_TLD_CHARS = Math.max(...[...TLDS].map((tld) => [...tld].length));
const MAX_DOMAIN_LABELS = 127;
const MAX_LABEL_LENGTH = 63;
const MAX_TCO_SLUG_LENGTH = 40;

export interface UrlRange {
  /** UTF-16 offsets into the text, `end` exclusive. */
  start: number;
  end: number;
}

const isAsciiAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);
const isAsciiPunct = (c: string) => /^[!-/:-@[-`{-~]$/.test(c);
const isMark = (c: string) => /^\p{M}$/u.test(c);
const isAlnum = (c: string) => /^[\p{L}\p{N}]$/u.test(c);

function isValidPreceding(c: string): boolean {
  return !(isAsciiAlnum(c) || "@＠$#＃\uFFFE\uFEFF\uFFFF".includes(c));
}

function isSpace(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    cp === 0x20 ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    cp === 0x180e ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

function isDomainChar(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return !(
    (isAsciiPunct(c) && c !== '"' && c !== "`") ||
    isSpace(c) ||
    cp === 0xfffe ||
    cp === 0xfeff ||
    cp === 0xffff ||
    (cp >= 0x202a && cp <= 0x202e) ||
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

const isLabelChar = (c: string) => isDomainChar(c) || c === "-" || c === "_";

function isLatinAccent(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return (
    (cp >= 0xc0 && cp <= 0xd6) ||
    (cp >= 0xd8 && cp <= 0xf6) ||
    (cp >= 0xf8 && cp <= 0xff) ||
    (cp >= 0x100 && cp <= 0x24f) ||
    [0x253, 0x254, 0x256, 0x257, 0x259, 0x25b, 0x263, 0x268, 0x26f, 0x272, 0x289, 0x28b, 0x2bb].includes(cp) ||
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x1e00 && cp <= 0x1eff)
  );
}

const isCyrillic = (c: string) => {
  const cp = c.codePointAt(0)!;
  return cp >= 0x400 && cp <= 0x4ff;
};
const isAsciiDomainChar = (c: string) => isAsciiAlnum(c) || c === "-" || isLatinAccent(c);
const isPathChar = (c: string) =>
  isAsciiAlnum(c) || isCyrillic(c) || isLatinAccent(c) || "!*';:=+,.$/%#[]-_~@|&\u2013".includes(c);
const isPathEndingChar = (c: string) => isAsciiAlnum(c) || isCyrillic(c) || isLatinAccent(c) || "+-=_#/".includes(c);
const isQueryChar = (c: string) => isAsciiAlnum(c) || "!?*'@();:&=+$/%#[]-_.,~|".includes(c);
const isQueryEndingChar = (c: string) => isAsciiAlnum(c) || "-_&=#/".includes(c);

interface Candidate {
  start: number;
  preceding: string | null;
  schemeEnd: number | null;
  domainStart: number;
  domainEnd: number;
  hasPath: boolean;
  end: number;
}

class Scanner {
  readonly chars: string[];
  /** UTF-16 offset of each code point, plus the text's length. */
  readonly offsets: number[];
  readonly labelRunEnd: number[];

  constructor(readonly text: string) {
    this.chars = [...text];
    this.offsets = [];
    let offset = 0;
    for (const c of this.chars) {
      this.offsets.push(offset);
      offset += c.length;
    }
    this.offsets.push(offset);
    this.labelRunEnd = new Array<number>(this.chars.length + 1).fill(this.chars.length);
    for (let i = this.chars.length - 1; i >= 0; i--) {
      this.labelRunEnd[i] = isLabelChar(this.chars[i]) ? this.labelRunEnd[i + 1] : i;
    }
  }

  at(i: number): string | undefined {
    return this.chars[i];
  }

  findAll(scheme: Scheme): UrlRange[] {
    const urls: UrlRange[] = [];
    let index = 0;
    while (index < this.chars.length) {
      let candidate: Candidate | null = null;
      if (isValidPreceding(this.chars[index])) candidate = this.matchAt(index + 1, this.chars[index]);
      if (!candidate && index === 0) candidate = this.matchAt(0, null);
      if (candidate) {
        index = candidate.end;
        this.accept(candidate, scheme, urls);
      } else {
        index += 1;
      }
    }
    return urls;
  }

  matchAt(start: number, preceding: string | null): Candidate | null {
    const schemeEnd = this.matchScheme(start);
    const domainStart = schemeEnd ?? start;
    const domainEnd = this.matchDomain(domainStart);
    if (domainEnd === null) return null;
    let end = domainEnd;
    if (this.at(end) === ":" && /^[0-9]$/.test(this.at(end + 1) ?? "")) {
      end += 1;
      while (/^[0-9]$/.test(this.at(end) ?? "")) end += 1;
    }
    const hasPath = this.at(end) === "/";
    if (hasPath) end = this.matchPath(end + 1);
    if (this.at(end) === "?") {
      const queryEnd = this.matchQuery(end + 1);
      if (queryEnd !== null) end = queryEnd;
    }
    return { start, preceding, schemeEnd, domainStart, domainEnd, hasPath, end };
  }

  matchScheme(start: number): number | null {
    for (const scheme of ["http://", "https://"]) {
      let ok = true;
      for (let k = 0; k < scheme.length; k++) {
        if ((this.at(start + k) ?? "").toLowerCase() !== scheme[k]) {
          ok = false;
          break;
        }
      }
      if (ok) return start + scheme.length;
    }
    return null;
  }

  matchDomain(start: number): number | null {
    const firstRunEnd = this.labelRunEnd[start] ?? start;
    if (firstRunEnd === start || this.at(firstRunEnd) !== ".") return null;
    const labels: Array<[number, number]> = [];
    let next = start;
    while (labels.length < MAX_DOMAIN_LABELS) {
      const runEnd = this.labelRunEnd[next] ?? next;
      if (runEnd > next && this.at(runEnd) === ".") {
        labels.push([next, runEnd]);
        next = runEnd + 1;
      } else break;
    }
    let validSubdomains = 0;
    while (validSubdomains < labels.length && this.isLabel(labels[validSubdomains], true)) validSubdomains++;
    for (let count = labels.length; count >= 1; count--) {
      const name = labels[count - 1];
      if (count - 1 > validSubdomains || !this.isLabel(name, false)) continue;
      const tld = this.matchTld(name[1] + 1, this.chars.length);
      if (tld !== null) return tld;
    }
    return null;
  }

  isLabel([from, to]: [number, number], subdomain: boolean): boolean {
    if (to <= from) return false;
    const chars = this.chars.slice(from, to);
    return (
      isDomainChar(chars[0]) && isDomainChar(chars[chars.length - 1]) && (subdomain || !chars.includes("_"))
    );
  }

  matchTld(start: number, limit: number): number | null {
    let lowered = "";
    const ends: number[] = [];
    for (let i = start; i < Math.min(limit, start + MAX_TLD_CHARS); i++) {
      const c = this.chars[i];
      if (!(isAlnum(c) || isMark(c))) break;
      lowered += c.toLowerCase();
      ends.push(lowered.length);
    }
    const followedWell = (end: number) =>
      end === limit || (!isAsciiAlnum(this.chars[end]) && !"@+-".includes(this.chars[end]));
    for (let count = ends.length; count >= 1; count--) {
      if (TLDS.has(lowered.slice(0, ends[count - 1])) && followedWell(start + count)) return start + count;
    }
    return this.matchPunycode(start, limit);
  }

  matchPunycode(start: number, limit: number): number | null {
    const prefix = "xn--";
    for (let k = 0; k < prefix.length; k++) {
      if (start + k >= limit || this.chars[start + k].toLowerCase() !== prefix[k]) return null;
    }
    const bodyStart = start + 4;
    let end = bodyStart;
    while (end < limit && (isAsciiAlnum(this.chars[end]) || this.chars[end] === "-")) end++;
    return end > bodyStart ? end : null;
  }

  matchPath(start: number): number {
    let index = start;
    let end = start;
    for (;;) {
      const c = this.at(index);
      if (c === undefined) break;
      if (isPathChar(c)) {
        index += 1;
        if (isPathEndingChar(c)) end = index;
      } else if (c === "(") {
        const after = this.matchBalancedParens(index);
        if (after === null) break;
        index = after;
        end = after;
      } else break;
    }
    return end;
  }

  matchBalancedParens(open: number): number | null {
    const run = (from: number) => {
      let i = from;
      while (this.at(i) !== undefined && isPathChar(this.at(i)!)) i++;
      return i;
    };
    const innerEnd = run(open + 1);
    const c = this.at(innerEnd);
    if (c === ")" && innerEnd > open + 1) return innerEnd + 1;
    if (c === "(") {
      const nestedEnd = run(innerEnd + 1);
      if (nestedEnd === innerEnd + 1 || this.at(nestedEnd) !== ")") return null;
      const tailEnd = run(nestedEnd + 1);
      return this.at(tailEnd) === ")" ? tailEnd + 1 : null;
    }
    return null;
  }

  matchQuery(start: number): number | null {
    let index = start;
    let end: number | null = null;
    while (this.at(index) !== undefined && isQueryChar(this.at(index)!)) {
      const c = this.at(index)!;
      index += 1;
      if (isQueryEndingChar(c)) end = index;
    }
    return end;
  }

  accept(candidate: Candidate, scheme: Scheme, urls: UrlRange[]): void {
    if (!this.hasValidDomain(candidate)) return;
    if (candidate.schemeEnd !== null) {
      const tco = this.tcoEnd(candidate);
      if (tco === "too-long") return;
      urls.push(this.range(candidate.start, tco ?? candidate.end));
      return;
    }
    if (scheme === "required" || (candidate.preceding !== null && "-_./".includes(candidate.preceding))) return;
    const domains = this.asciiDomains(candidate.domainStart, candidate.domainEnd);
    domains.forEach(([from, to], position) => {
      const end = position + 1 === domains.length && candidate.hasPath ? candidate.end : to;
      urls.push(this.range(from, end));
    });
  }

  hasValidDomain(candidate: Candidate): boolean {
    const domain = this.chars.slice(candidate.domainStart, candidate.domainEnd).join("");
    if (domain.startsWith("xn--") && this.asciiDomains(candidate.domainStart, candidate.domainEnd).length === 0) {
      return false;
    }
    for (const label of domain.split(".")) {
      // Non-ASCII labels are punycode-encoded by DNS; this approximates their encoded length
      // (the server checks exactly).
      // eslint-disable-next-line no-control-regex
      const length = /^[\x00-\x7f]*$/.test(label) ? label.length : 4 + Math.ceil([...label].length * 1.2);
      if (length === 0 || length > MAX_LABEL_LENGTH) return false;
    }
    return true;
  }

  /** End of a t.co link, `null` when not one, "too-long" when its slug is too long. */
  tcoEnd(candidate: Candidate): number | null | "too-long" {
    const domain = this.chars.slice(candidate.domainStart, candidate.domainEnd).join("").toLowerCase();
    if (domain !== "t.co" || this.at(candidate.domainEnd) !== "/") return null;
    const slugStart = candidate.domainEnd + 1;
    let slugEnd = slugStart;
    while (this.at(slugEnd) !== undefined && isAsciiAlnum(this.at(slugEnd)!)) slugEnd++;
    if (slugEnd === slugStart) return null;
    if (slugEnd - slugStart > MAX_TCO_SLUG_LENGTH) return "too-long";
    return this.at(slugEnd) === "?" ? (this.matchQuery(slugEnd + 1) ?? slugEnd) : slugEnd;
  }

  asciiDomains(from: number, to: number): Array<[number, number]> {
    const found: Array<[number, number]> = [];
    let start = from;
    while (start < to) {
      const tldStarts: number[] = [];
      let next = start;
      for (;;) {
        let runEnd = next;
        while (runEnd < to && isAsciiDomainChar(this.chars[runEnd])) runEnd++;
        if (runEnd > next && runEnd < to && this.chars[runEnd] === ".") {
          tldStarts.push(runEnd + 1);
          next = runEnd + 1;
        } else break;
      }
      let matched: number | null = null;
      for (let i = tldStarts.length - 1; i >= 0 && matched === null; i--) matched = this.matchTld(tldStarts[i], to);
      if (matched !== null) {
        found.push([start, matched]);
        start = matched;
      } else start += 1;
    }
    return found;
  }

  range(from: number, to: number): UrlRange {
    return { start: this.offsets[from], end: this.offsets[to] };
  }
}

/** The URLs in `text` (UTF-16 ranges, in order, not overlapping). */
export function findUrls(text: string, scheme: Scheme = "optional"): UrlRange[] {
  if (!text.includes(".")) return [];
  return new Scanner(text).findAll(scheme);
}
