/** The router's refused-connection counters, read from its metrics as a scrape would. */
import {
  CONNECTION_REFUSALS,
  type Metrics,
  type RefusalReason,
} from "../../src/observability/mod.ts";
import { parseSamples, sample } from "../observability/prom_text.ts";

/** `gatehouse_connections_refused_total` per reason, every reason present (0 when never counted). */
export async function refusals(metrics: Metrics): Promise<Record<RefusalReason, number>> {
  const samples = parseSamples(await metrics.render());
  return Object.fromEntries(
    CONNECTION_REFUSALS.map((reason) => [
      reason,
      sample(samples, "gatehouse_connections_refused_total", { reason }),
    ]),
  ) as Record<RefusalReason, number>;
}
