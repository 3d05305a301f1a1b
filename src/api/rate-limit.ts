export interface RateLimitOptions {
  /** Burst size: requests a new client may make at once (default 60). */
  capacity?: number;
  /** Sustained rate per client (default 10 per second). */
  refillPerSecond?: number;
  /** Clients tracked at once (default 10,000); the least recently seen is forgotten first. */
  maxClients?: number;
}

export interface RateLimiter {
  /** Takes one token for `client`; when none is left, says how many seconds until one is. */
  take(client: string, nowMs?: number): { ok: true } | { ok: false; retryAfterSeconds: number };
  /** Clients currently tracked (≤ maxClients). */
  readonly size: number;
}

/**
 * A token bucket per client, in memory, bounded: at most `maxClients` buckets exist, so memory
 * is O(maxClients) whatever the number of addresses seen. A forgotten client comes back with a
 * full bucket — the price of the bound, paid only by clients idle long enough to be evicted.
 *
 * @example
 * const limiter = createRateLimiter({ capacity: 2, refillPerSecond: 1 });
 * limiter.take("10.0.0.1"); // { ok: true }
 */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const capacity = options.capacity ?? 60;
  const refill = options.refillPerSecond ?? 10;
  const maxClients = options.maxClients ?? 10_000;
  if (!(capacity >= 1 && refill > 0 && maxClients >= 1)) {
    throw new RangeError("rate limit: capacity ≥ 1, refillPerSecond > 0 and maxClients ≥ 1");
  }
  // Map iteration order is insertion order: re-inserting on each use keeps it least-recent first.
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take(client, nowMs = Date.now()) {
      let bucket = buckets.get(client);
      if (bucket === undefined) {
        if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
        bucket = { tokens: capacity, atMs: nowMs };
      } else {
        buckets.delete(client);
        bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * refill);
        bucket.atMs = nowMs;
      }
      buckets.set(client, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refill)) };
    },
    get size() {
      return buckets.size;
    },
  };
}
