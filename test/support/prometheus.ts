/**
 * Reading a `/metrics` answer in tests with a real Prometheus text-format parser
 * (parse-prometheus-text-format, the prom2json shape), never with regexes.
 *
 * That parser keeps the labels of counters and gauges, but folds a histogram's series into one and drops
 * their labels (it handles unlabelled histograms only). So {@link parseScrape} parses the text twice: as
 * it is (families and their types), and once more without its `# TYPE` comments, where a histogram's
 * `_bucket`, `_sum` and `_count` series are plain families with every label, read by {@link value}.
 */
import parsePrometheusTextFormat, { type PrometheusFamily, type PrometheusSample } from "parse-prometheus-text-format";

export type { PrometheusFamily, PrometheusSample };

/** A parsed scrape: every family by name, plus each histogram's `_bucket`, `_sum` and `_count` series. */
export type Scrape = Map<string, PrometheusFamily>;

/** @throws Error when the text is not the text format. */
export function parseScrape(text: string): Scrape {
  const scrape: Scrape = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  const untyped = text
    .split("\n")
    .filter((line) => !line.startsWith("# TYPE "))
    .join("\n");
  const series = new Map<string, PrometheusFamily>();
  for (const family of parsePrometheusTextFormat(untyped)) {
    // Each label set's `_bucket`, `_sum` and `_count` lines come as a run of their own: gather the runs.
    const seen = series.get(family.name);
    if (seen) seen.metrics.push(...family.metrics);
    else series.set(family.name, family);
  }
  for (const [name, family] of series) if (!scrape.has(name)) scrape.set(name, family);
  return scrape;
}

/** The samples of `name` whose labels include `labels`; [] when the family is missing. */
export function samples(scrape: Scrape, name: string, labels: Record<string, string> = {}): PrometheusSample[] {
  return (scrape.get(name)?.metrics ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
}

/**
 * The sum of the matching samples of a counter or gauge, or of a histogram's `<name>_count` (how many
 * observations); 0 when none matches.
 */
export function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return samples(scrape, name, labels).reduce((sum, s) => sum + Number(s.value ?? 0), 0);
}
