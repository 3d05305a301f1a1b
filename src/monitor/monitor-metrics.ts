/**
 * The monitor's Prometheus metrics, in a registry of its own: the last checkpoint size per source,
 * whether each source answered, each witness's cosignature age, the time of the last round, and
 * alarms counted by kind (every kind exported from the start, at 0, so a rule can alert on a rise).
 */
import { Counter, Gauge, Registry } from "prom-client";
import { ALARM_KINDS, type RoundResult } from "./monitor-round.ts";

export interface MonitorMetrics {
  registry: Registry;
  /** Records a finished round. */
  observe(result: RoundResult): void;
}

/**
 * @example
 * const metrics = createMonitorMetrics();
 * metrics.observe(await runMonitorRound(options, state));
 * res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
 */
export function createMonitorMetrics(): MonitorMetrics {
  const registry = new Registry();
  const size = new Gauge({
    name: "shafaf_monitor_checkpoint_size",
    help: "Tree size of the latest verified checkpoint a source served, by source and origin",
    labelNames: ["source", "origin"] as const,
    registers: [registry],
  });
  const up = new Gauge({
    name: "shafaf_monitor_source_up",
    help: "1 when the source answered with a checkpoint whose signatures verify, else 0",
    labelNames: ["source"] as const,
    registers: [registry],
  });
  const age = new Gauge({
    name: "shafaf_monitor_witness_age_seconds",
    help: "Seconds since the witness's latest cosignature, by witness and origin",
    labelNames: ["source", "origin"] as const,
    registers: [registry],
  });
  const consistent = new Gauge({
    name: "shafaf_monitor_consistent_size",
    help: "Tree size of the last checkpoint found consistent with every earlier one, by origin",
    labelNames: ["origin"] as const,
    registers: [registry],
  });
  const lastCheck = new Gauge({
    name: "shafaf_monitor_last_check_timestamp_seconds",
    help: "POSIX time of the last finished round",
    registers: [registry],
  });
  const healthy = new Gauge({
    name: "shafaf_monitor_healthy",
    help: "1 when the last round raised no alarm and checked everything, else 0",
    registers: [registry],
  });
  const batches = new Gauge({
    name: "shafaf_monitor_chain_batch_count",
    help: "The ledger's batchCount() at the last round (absent without --rpc)",
    registers: [registry],
  });
  const alarms = new Counter({
    name: "shafaf_monitor_alarms_total",
    help: "Alarms raised, by kind",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  for (const kind of ALARM_KINDS) alarms.inc({ kind }, 0);
  return {
    registry,
    observe(result) {
      for (const s of result.sources) {
        up.set({ source: s.source }, s.ok ? 1 : 0);
        if (s.ok && s.size !== undefined) size.set({ source: s.source, origin: s.origin }, s.size);
        if (s.ageSeconds !== undefined)
          age.set({ source: s.source, origin: s.origin }, s.ageSeconds);
      }
      for (const [origin, l] of Object.entries(result.latest)) consistent.set({ origin }, l.size);
      for (const a of result.alarms) alarms.inc({ kind: a.kind });
      if (result.chain !== undefined) batches.set(result.chain.batchCount);
      lastCheck.set(Date.parse(result.at) / 1000);
      healthy.set(result.status === "healthy" ? 1 : 0);
    },
  };
}
