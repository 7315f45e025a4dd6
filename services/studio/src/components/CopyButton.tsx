import { useState } from "react";

export function CopyButton({ value, label = "Copy" }: { value: string; label?: string }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  return (
    <span className="row">
      <button
        type="button"
        className="button secondary small"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(value);
            setCopied("yes");
          } catch {
            setCopied("no");
          }
        }}
      >
        {label}
      </button>
      <span role="status" className="small">
        {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Copying failed: select the text and copy it." : ""}
      </span>
    </span>
  );
}
