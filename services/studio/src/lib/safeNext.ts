/** A same-site path to go to after sign-in; anything else (other origins, `//host`) is refused. */
export function safeNext(value: string | null | undefined, fallback = "/dashboard"): string {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  if (value.startsWith("/signin") || value.startsWith("/signup")) return fallback;
  return value;
}
