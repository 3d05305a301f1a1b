export interface ConcurrencyGateOptions {
  /** Holders at once (≥ 1). */
  concurrency: number;
  /** Waiters at most (≥ 0); `tryEnter` refuses beyond. */
  queue: number;
}

export interface GateTicket {
  /** Resolves when the holder may run (at once when a slot is free). */
  entered: Promise<void>;
  /** Gives the slot back (or leaves the queue). Idempotent. */
  leave: () => void;
}

export interface ConcurrencyGate {
  /** A ticket, or undefined when `concurrency` run and `queue` wait already. */
  tryEnter(): GateTicket | undefined;
  readonly running: number;
  readonly waiting: number;
}

/**
 * A counting semaphore with a bounded FIFO queue: the API's back-pressure for CPU-bound routes.
 * Invariants: `running ≤ concurrency`, `waiting ≤ queue`; a ticket left before it entered never
 * runs and frees its place in the queue.
 *
 * @example
 * const gate = createConcurrencyGate({ concurrency: 4, queue: 64 });
 * const ticket = gate.tryEnter();
 * if (ticket === undefined) return busy();
 * await ticket.entered;
 * try { await work(); } finally { ticket.leave(); }
 */
export function createConcurrencyGate(options: ConcurrencyGateOptions): ConcurrencyGate {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const queueLimit = Math.max(0, Math.floor(options.queue));
  let running = 0;
  const waiters: (() => void)[] = [];

  const wakeNext = (): void => {
    while (running < concurrency && waiters.length > 0) {
      running++;
      waiters.shift()!();
    }
  };

  return {
    tryEnter() {
      if (running < concurrency) {
        running++;
        let done = false;
        return {
          entered: Promise.resolve(),
          leave: () => {
            if (done) return;
            done = true;
            running--;
            wakeNext();
          },
        };
      }
      if (waiters.length >= queueLimit) return undefined;
      let started = false;
      let done = false;
      let start!: () => void;
      const entered = new Promise<void>((resolve) => {
        start = () => {
          started = true;
          resolve();
        };
      });
      const waiter = (): void => start();
      waiters.push(waiter);
      return {
        entered,
        leave: () => {
          if (done) return;
          done = true;
          if (started) {
            running--;
            wakeNext();
          } else waiters.splice(waiters.indexOf(waiter), 1);
        },
      };
    },
    get running() {
      return running;
    },
    get waiting() {
      return waiters.length;
    },
  };
}
