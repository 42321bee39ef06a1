/** Listener addresses for `boka rollout start` and `boka router serve` (parsing itself: src/shared/command-line.ts). */

/** `127.0.0.1:8080` or `[::1]:8080` → host and port (0–65535); null otherwise. */
export function parseListen(text: string): { host: string; port: number } | null {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (!match?.[1] || !match[2] || Number(match[2]) > 65_535) return null;
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}
