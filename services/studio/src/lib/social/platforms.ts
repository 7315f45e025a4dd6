/** The platforms the campaign studio writes for, as the API names them, with their limits. */
export const PLATFORMS = ["x", "linkedin", "instagram", "facebook", "tiktok", "threads", "bluesky", "mastodon"] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface PlatformInfo {
  label: string;
  maxLength: number;
  maxBytes?: number;
  unit: string;
}

export const PLATFORM_INFO: Record<Platform, PlatformInfo> = {
  x: { label: "X", maxLength: 280, unit: "weighted characters (links count 23, emoji 2)" },
  linkedin: { label: "LinkedIn", maxLength: 3000, unit: "characters" },
  instagram: { label: "Instagram", maxLength: 2200, unit: "characters" },
  facebook: { label: "Facebook", maxLength: 63206, unit: "characters" },
  tiktok: { label: "TikTok", maxLength: 2200, unit: "characters" },
  threads: { label: "Threads", maxLength: 500, unit: "characters (emoji by bytes)" },
  bluesky: { label: "Bluesky", maxLength: 300, maxBytes: 3000, unit: "characters (graphemes)" },
  mastodon: { label: "Mastodon", maxLength: 500, unit: "characters (links count 23)" },
};

export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}

export function platformLabel(value: string): string {
  return isPlatform(value) ? PLATFORM_INFO[value].label : value;
}
