import { measurePost, platformLabel, PLATFORM_INFO, isPlatform } from "../lib/social/counters";

/**
 * A live character counter that counts the way the platform does (X weighted with links
 * as 23, Bluesky graphemes…). The visible count updates on every keystroke; screen readers
 * hear it only near and over the limit, not on every character.
 */
export function CharCounter({ id, platform, text }: { id: string; platform: string; text: string }) {
  const report = measurePost(platform, text);
  const unit = isPlatform(platform) ? PLATFORM_INFO[platform].unit : "characters";
  const bytesOver = report.maxBytes !== undefined && report.bytes !== undefined && report.bytes > report.maxBytes;
  let announcement = "";
  if (report.remaining < 0) announcement = `${-report.remaining} over the ${platformLabel(platform)} limit`;
  else if (bytesOver) announcement = `Over the ${platformLabel(platform)} limit of ${report.maxBytes} bytes`;
  else if (report.remaining <= 20) announcement = `${report.remaining} left`;
  return (
    <div>
      <p id={id} className={`counter ${report.over ? "over" : ""}`} data-testid="char-counter">
        {report.length} / {report.max} <span className="small">{unit}</span>
        {report.over ? <strong> — too long</strong> : null}
        {report.maxBytes !== undefined ? (
          <span className="small">
            {" "}
            · {report.bytes} / {report.maxBytes} bytes
          </span>
        ) : null}
      </p>
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
    </div>
  );
}
