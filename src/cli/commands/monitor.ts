/**
 * `shafaf monitor --policy FILE [--log URL]… [--rpc URL --contract ADDR] [--once] …`: follows the
 * checkpoints that the logs, the policy's witnesses and the chain publish, and raises an alarm on
 * a split view, a rollback, a bad signature, a missing quorum, a stale witness, a stale log, a
 * log ahead of the chain or a role change (src/monitor/monitor-round.ts). Remembers the last
 * consistent checkpoint in a state file, so a restart still sees a rollback or a fork.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CliCommand } from "../command.ts";
import { EXIT_FAILURE, reportError, UsageError } from "../command-support.ts";
import { parseCommandLine, usageError } from "../parse-command-line.ts";
import { createRpc } from "../../chain/rpc.ts";
import { parseTrustPolicy } from "../../core/tlog-policy.ts";
import { ledgerChainReader } from "../../monitor/ledger-chain-reader.ts";
import { createMonitorMetrics } from "../../monitor/monitor-metrics.ts";
import {
  runMonitorRound,
  type MonitorOptions,
  type RoundResult,
} from "../../monitor/monitor-round.ts";
import { loadMonitorState, saveMonitorState } from "../../monitor/monitor-state.ts";

const USAGE = `usage: shafaf monitor --policy FILE [options]

Follows the ledger log's checkpoints as the logs, the witnesses and the chain publish them, checks
every signature against the trust policy and every new checkpoint for consistency with the last
one seen (proofs computed from the log's tiles), and prints one line per alarm on stderr:
split-view, rollback, signature, quorum, stale-witness, stale-log, chain-mismatch, role-change.

  --policy FILE            the trust policy (c2sp.org/tlog-policy): log key, witnesses, quorum;
                           its witness URLs are the witnesses read (required)
  --log URL                a log prefix serving checkpoint and tile/… (the API's
                           http://HOST:PORT/log, or a static mirror); repeat for several
                           (default: the policy's log URLs)
  --witness NAME=URL       read policy witness NAME at URL instead of the policy's URL (repeat)
  --rpc URL                the chain's JSON-RPC endpoint (repeat for fail-over); with --contract,
                           compares the log with batchCount() and watches role changes
  --contract ADDR          the TransparencyLedger address
  --state FILE             what the monitor has seen, kept across restarts
                           (default .shafaf-monitor-state.json)
  --interval SECONDS       seconds between rounds (default 60)
  --once                   one round, then exit with its status
  --json                   print each round's result as one JSON line on stdout
  --metrics-port N         serve Prometheus metrics at http://127.0.0.1:N/metrics (0: any port)
  --witness-max-lag N      a witness more than N entries behind the log is stale (default 1)
  --witness-max-age S      a witness behind the log whose last cosignature is older than S
                           seconds is stale (default 3600)
  --stale-log-after S      the log behind the chain's batch count for S seconds is stale
                           (default 600)
  --roles-from-block N     on a new state, read role changes from block N (default: from now)

Exit status (with --once): 0 healthy, 1 alarm, 2 could not check everything (a source down),
64 usage error, 65 bad policy or state file (any other failure: 2). Without --once it runs until Ctrl-C (exit 0).`;

const OPTIONS = {
  policy: { type: "string" },
  log: { type: "string", multiple: true },
  witness: { type: "string", multiple: true },
  rpc: { type: "string", multiple: true },
  contract: { type: "string" },
  state: { type: "string" },
  interval: { type: "string" },
  once: { type: "boolean" },
  json: { type: "boolean" },
  "metrics-port": { type: "string" },
  "witness-max-lag": { type: "string" },
  "witness-max-age": { type: "string" },
  "stale-log-after": { type: "string" },
  "roles-from-block": { type: "string" },
} as const;

/** Exit status of a round that could not check everything. */
export const EXIT_UNCHECKED = 2;

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,15}$/.test(text))
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function httpUrl(option: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--${option} ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--${option} ${JSON.stringify(text)} is not an http(s) URL`);
  return text.replace(/\/$/, "");
}

function exitStatus(result: RoundResult): number {
  return result.status === "alarm" ? 1 : result.status === "unchecked" ? EXIT_UNCHECKED : 0;
}

function report(result: RoundResult, json: boolean): void {
  for (const a of result.alarms)
    process.stderr.write(`${result.at} ALARM ${a.kind} ${a.source}: ${a.message}\n`);
  for (const p of result.problems) process.stderr.write(`${result.at} UNCHECKED ${p}\n`);
  if (json) {
    process.stdout.write(JSON.stringify(result) + "\n");
    return;
  }
  const logs = result.sources.filter((s) => s.type === "log");
  const witnesses = result.sources.filter((s) => s.type === "witness");
  const heads = Object.entries(result.latest)
    .map(([origin, l]) => `${origin} consistent at size ${l.size}`)
    .join(", ");
  process.stdout.write(
    `${result.at} ${result.status}: ${heads === "" ? "no checkpoint yet" : heads}; ` +
      `${logs.filter((s) => s.ok).length}/${logs.length} log(s), ` +
      `${witnesses.filter((s) => s.ok).length}/${witnesses.length} witness(es) read` +
      (result.chain === undefined
        ? ""
        : `; chain ${result.chain.batchCount} batch(es) at block ${result.chain.block}`) +
      `; ${result.alarms.length} alarm(s)\n`,
  );
}

export const command: CliCommand = {
  summary: "watch the ledger log, its witnesses and the chain; alarm on a split view or staleness",
  async run(argv) {
    const parsed = parseCommandLine("monitor", USAGE, argv, OPTIONS);
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    if (parsed.positionals.length > 0)
      return usageError("monitor", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
    let server: Server | undefined;
    try {
      if (values.policy === undefined) throw new UsageError("--policy FILE is required");
      if ((values.rpc === undefined) !== (values.contract === undefined))
        throw new UsageError("--rpc URL and --contract ADDR go together");
      if (values.contract !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(values.contract))
        throw new UsageError(
          `--contract must be 0x and 40 hex digits, got ${JSON.stringify(values.contract)}`,
        );
      const interval = wholeNumber("interval", values.interval, 60);
      if (interval < 1) throw new UsageError("--interval must be at least 1 second");
      const metricsPort =
        values["metrics-port"] === undefined
          ? undefined
          : wholeNumber("metrics-port", values["metrics-port"], 0);
      if (metricsPort !== undefined && metricsPort > 65535)
        throw new UsageError(`--metrics-port ${metricsPort} is not a port number`);
      const policy = parseTrustPolicy(await readFile(values.policy, "utf8"), values.policy);
      if (policy.logs.length === 0)
        throw new UsageError(`${values.policy} has no \`log <vkey>\` line: nothing to monitor`);

      const logs = (
        values.log ?? policy.logs.flatMap((l) => (l.url === undefined ? [] : [l.url]))
      ).map((u) => httpUrl("log", u));
      if (logs.length === 0)
        throw new UsageError(
          "give --log URL (a log prefix such as http://127.0.0.1:8080/log): the policy's log lines have no URL",
        );
      const overrides = new Map<string, string>();
      for (const w of values.witness ?? []) {
        const eq = w.indexOf("=");
        const name = w.slice(0, eq);
        if (eq <= 0 || !policy.witnesses.some((p) => p.name === name))
          throw new UsageError(
            `--witness ${JSON.stringify(w)}: expected NAME=URL with NAME a witness of the policy (${policy.witnesses.map((p) => p.name).join(", ")})`,
          );
        overrides.set(name, httpUrl("witness", w.slice(eq + 1)));
      }
      const witnesses = policy.witnesses.flatMap((w) => {
        const url = overrides.get(w.name) ?? w.url;
        return url === undefined ? [] : [{ name: w.name, url }];
      });
      const rolesFrom =
        values["roles-from-block"] === undefined
          ? undefined
          : wholeNumber("roles-from-block", values["roles-from-block"], 0);
      const options: MonitorOptions = {
        policy,
        logs,
        witnesses,
        maxWitnessLag: wholeNumber("witness-max-lag", values["witness-max-lag"], 1),
        maxWitnessAgeSeconds: wholeNumber("witness-max-age", values["witness-max-age"], 3600),
        staleLogAfterSeconds: wholeNumber("stale-log-after", values["stale-log-after"], 600),
        ...(rolesFrom === undefined ? {} : { rolesFromBlock: rolesFrom }),
        ...(values.rpc === undefined
          ? {}
          : {
              chain: ledgerChainReader({
                rpc: createRpc({ urls: values.rpc, retries: 2 }),
                contract: values.contract!,
              }),
            }),
      };
      const stateFile = values.state ?? ".shafaf-monitor-state.json";
      const state = await loadMonitorState(stateFile);
      const json = values.json === true;
      const metrics = createMonitorMetrics();

      if (metricsPort !== undefined) {
        server = createServer((req, res) => {
          if (req.method !== "GET" || req.url !== "/metrics") {
            res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
            return;
          }
          metrics.registry.metrics().then(
            (text) =>
              res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
            () => res.writeHead(500).end(),
          );
        });
        await new Promise<void>((resolve, reject) => {
          server!.once("error", reject);
          server!.listen(metricsPort, "127.0.0.1", () => resolve());
        });
        const port = (server.address() as AddressInfo).port;
        process.stdout.write(`shafaf monitor: metrics on http://127.0.0.1:${port}/metrics\n`);
      }

      const round = async () => {
        const result = await runMonitorRound(options, state);
        await saveMonitorState(stateFile, state);
        metrics.observe(result);
        report(result, json);
        return result;
      };

      if (values.once === true) return exitStatus(await round());

      let stopped = false;
      let wake: (() => void) | undefined;
      const stop = () => {
        stopped = true;
        wake?.();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        while (!stopped) {
          try {
            await round();
          } catch (error) {
            // The state file could not be written: say so and keep watching.
            process.stderr.write(
              `${new Date().toISOString()} UNCHECKED ${(error as Error).message}\n`,
            );
          }
          if (stopped) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, interval * 1000);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      return 0;
    } catch (error) {
      // An unexpected failure is "could not check" (2), never confused with an alarm (1).
      const status = reportError("monitor", error, USAGE);
      return status === EXIT_FAILURE ? EXIT_UNCHECKED : status;
    } finally {
      if (server !== undefined)
        await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
  },
};
