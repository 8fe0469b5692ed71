/** Settings read at start-up from `config.json` beside index.html (no inline script: the CSP
 * forbids it). Locally the stack serves it with the API at the root; in AWS the API is on the
 * same origin under /api. */
export interface ConsoleConfig {
  /** Prefix of every API path: "" locally, "/api" behind CloudFront. */
  api_base: string;
  /** An idle console signs itself out after this many seconds (15 minutes). */
  idle_timeout_seconds: number;
}

const DEFAULTS: ConsoleConfig = { api_base: "", idle_timeout_seconds: 15 * 60 };

export async function loadConfig(): Promise<ConsoleConfig> {
  try {
    const reply = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
    if (!reply.ok) return DEFAULTS;
    const given = (await reply.json()) as Partial<ConsoleConfig>;
    const base = typeof given.api_base === "string" ? given.api_base.replace(/\/$/, "") : "";
    const idle = Number(given.idle_timeout_seconds);
    return {
      api_base: base,
      // shorter only: no setting keeps an unattended console open longer than 15 minutes
      idle_timeout_seconds:
        Number.isFinite(idle) && idle > 0 ? Math.min(idle, DEFAULTS.idle_timeout_seconds) : DEFAULTS.idle_timeout_seconds,
    };
  } catch {
    return DEFAULTS;
  }
}
