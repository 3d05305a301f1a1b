/**
 * Progress for `shafaf anchor` on stderr: on a terminal, one redrawn bar per phase with rate and
 * ETA (when the total is known); otherwise plain lines at most every few seconds and at the end
 * of each phase; nothing at all when quiet (`--json`).
 */
import type { AnchorLog } from "./run-anchor-job.ts";

const LABELS = {
  read: "reading & validating",
  hash: "hashing leaves",
  receipts: "writing receipts",
} as const;
type Phase = keyof typeof LABELS;

export interface ProgressLog extends AnchorLog {
  /** Ends the current bar (newline on a terminal). */
  end(): void;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * @example
 * const log = createProgressLog({ stream: process.stderr, tty: process.stderr.isTTY, quiet: json });
 */
export function createProgressLog(options: {
  stream: { write(text: string): unknown };
  tty: boolean;
  quiet: boolean;
  now?: () => number;
  /** Plain mode: minimum milliseconds between lines of one phase (default 5 s). */
  plainIntervalMs?: number;
}): ProgressLog {
  const now = options.now ?? (() => Date.now());
  const interval = options.plainIntervalMs ?? 5_000;
  let phase: Phase | undefined;
  let phaseStart = 0;
  let lastDraw = 0;
  let last = { done: 0, total: undefined as number | undefined };

  const render = (p: Phase, done: number, total: number | undefined): string => {
    const secs = Math.max((now() - phaseStart) / 1000, 1e-3);
    const rate = done / secs;
    if (total === undefined || total === 0) return `${LABELS[p]}: ${fmt(done)} · ${fmt(rate)}/s`;
    const frac = Math.min(done / total, 1);
    if (!options.tty)
      return `${LABELS[p]}: ${fmt(done)}/${fmt(total)} (${Math.floor(frac * 100)}%) · ${fmt(rate)}/s`;
    const width = 24;
    const full = Math.round(frac * width);
    const bar = "█".repeat(full) + "░".repeat(width - full);
    return `${LABELS[p].padEnd(21)} ${bar} ${String(Math.floor(frac * 100)).padStart(3)}% ${fmt(done)}/${fmt(total)} · ${fmt(rate)}/s · ETA ${eta((total - done) / Math.max(rate, 1e-9))}`;
  };

  const finishPhase = (): void => {
    if (phase === undefined) return;
    const line = render(phase, last.done, last.total);
    options.stream.write(options.tty ? `\r\u001b[2K${line}\n` : `${line}\n`);
    phase = undefined;
  };

  return {
    progress(p, done, total) {
      if (options.quiet) return;
      if (phase !== p) {
        finishPhase();
        phase = p;
        phaseStart = now();
        lastDraw = options.tty ? 0 : phaseStart;
      }
      last = { done, total };
      const t = now();
      if (options.tty) {
        if (t - lastDraw < 100 && done !== total) return;
        lastDraw = t;
        options.stream.write(`\r\u001b[2K${render(p, done, total)}`);
      } else if (t - lastDraw >= interval) {
        lastDraw = t;
        options.stream.write(`${render(p, done, total)}\n`);
      }
    },
    info(message) {
      if (options.quiet) return;
      finishPhase();
      options.stream.write(`${message}\n`);
    },
    end() {
      if (options.quiet) return;
      finishPhase();
    },
  };
}
