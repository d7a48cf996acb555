/**
 * Sliding-window rate limits per key (a user, a guild or workspace): a request passes only when every
 * key it touches has room, and only then counts against all of them.
 */

export interface RateRule {
  readonly limit: number;
  readonly windowMs: number;
}

export interface RateKey {
  /** Which rule applies, e.g. 'user' or 'guild'. */
  readonly scope: string;
  readonly key: string;
}

export type RateDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly scope: string; readonly retryAfterMs: number };

export class RateLimiter {
  readonly #rules: Readonly<Record<string, RateRule>>;
  readonly #hits = new Map<string, number[]>();
  readonly #now: () => number;

  constructor(rules: Readonly<Record<string, RateRule>>, now: () => number = Date.now) {
    this.#rules = rules;
    this.#now = now;
  }

  take(keys: readonly RateKey[]): RateDecision {
    const now = this.#now();
    const checked: { hits: number[] }[] = [];
    for (const { scope, key } of keys) {
      const rule = this.#rules[scope];
      if (!rule) continue;
      const id = `${scope}:${key}`;
      const hits = (this.#hits.get(id) ?? []).filter((t) => t > now - rule.windowMs);
      this.#hits.set(id, hits);
      if (hits.length >= rule.limit) {
        const oldest = hits[0] ?? now;
        return { ok: false, scope, retryAfterMs: Math.max(0, oldest + rule.windowMs - now) };
      }
      checked.push({ hits });
    }
    for (const { hits } of checked) hits.push(now);
    if (this.#hits.size > 10_000) this.#sweep(now);
    return { ok: true };
  }

  #sweep(now: number): void {
    const longest = Math.max(...Object.values(this.#rules).map((r) => r.windowMs));
    for (const [id, hits] of this.#hits) if ((hits.at(-1) ?? 0) <= now - longest) this.#hits.delete(id);
  }
}

/** "in 42 seconds" / "in 3 minutes": for friendly replies. */
export function humanWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minutes`;
}
