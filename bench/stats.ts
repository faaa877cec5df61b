/** Latency recording and percentiles for the benchmark. */
export class Recorder {
  readonly #samples = new Map<string, number[]>();
  readonly #errors = new Map<string, number>();

  record(name: string, ms: number): void {
    let list = this.#samples.get(name);
    if (!list) this.#samples.set(name, (list = []));
    list.push(ms);
  }

  error(name: string): void {
    this.#errors.set(name, (this.#errors.get(name) ?? 0) + 1);
  }

  summary(seconds: number) {
    const out: Record<string, { count: number; perSecond: number; p50: number; p99: number; p999: number; errors: number }> = {};
    for (const [name, list] of this.#samples) {
      out[name] = {
        count: list.length,
        perSecond: round(list.length / seconds),
        ...percentiles(list),
        errors: this.#errors.get(name) ?? 0,
      };
    }
    for (const [name, errors] of this.#errors) if (!out[name]) out[name] = { count: 0, perSecond: 0, p50: 0, p99: 0, p999: 0, errors };
    return out;
  }

  count(name: string): number {
    return this.#samples.get(name)?.length ?? 0;
  }
}

export function percentiles(values: number[]): { p50: number; p99: number; p999: number } {
  if (values.length === 0) return { p50: 0, p99: 0, p999: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
