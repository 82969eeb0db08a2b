/**
 * Fault injection: each matching request draws from a seeded PRNG whether it gets a fault and
 * which one. Faults are decided before the request is read or applied, so a faulted request has
 * changed nothing (a "slow" one is applied only if the caller is still there after the delay).
 */
import { FAULT_KINDS, type FaultKind } from "./state.ts";

export interface FaultOptions {
  /** Probability 0..1 that a request gets a fault. */
  rate: number;
  /** Relative weights of the kinds (default: all equal). A kind with weight 0 never happens. */
  kinds?: Partial<Record<FaultKind, number>>;
  /** Delay of a "slow" reply (default 2_000 ms). */
  slowMs?: number;
  /** Retry-After of injected 429s (default 1). */
  retryAfterSeconds?: number;
  /** Only requests whose path matches (default: every API path, /oauth/token included). */
  paths?: RegExp;
  /**
   * Which requests may get a fault (default "all"): only the context reads (identities, items,
   * sources, governance groups, SoD, access-request status), or only the other requests.
   */
  target?: "all" | "contextReads" | "otherRequests";
  /** Seed of the PRNG (default: random), for reproducible runs. */
  seed?: number;
}

/** mulberry32: small, fast and good enough to spread faults (the benchmarks draw their inputs with it too). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function checkFaultOptions(options: FaultOptions): void {
  if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError("faults.rate must be between 0 and 1");
  if (options.target !== undefined && !["all", "contextReads", "otherRequests"].includes(options.target)) {
    throw new RangeError("faults.target must be all, contextReads or otherRequests");
  }
  for (const [kind, weight] of Object.entries(options.kinds ?? {})) {
    if (!FAULT_KINDS.includes(kind as FaultKind)) throw new RangeError(`unknown fault kind ${kind}`);
    if (!(typeof weight === "number" && weight >= 0))
      throw new RangeError(`faults.kinds.${kind} must be >= 0`);
  }
}

export class FaultInjector {
  readonly options: FaultOptions;
  readonly #random: () => number;

  constructor(options: FaultOptions) {
    checkFaultOptions(options);
    this.options = options;
    this.#random = mulberry32(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /**
   * The fault for this request, if any. `applicable` excludes kinds that make no sense for it;
   * `contextRead` says whether the request is a context read (for `target`).
   */
  pick(path: string, applicable: (kind: FaultKind) => boolean, contextRead = false): FaultKind | undefined {
    if (this.options.paths !== undefined && !this.options.paths.test(path)) return undefined;
    const target = this.options.target ?? "all";
    if ((target === "contextReads" && !contextRead) || (target === "otherRequests" && contextRead)) {
      return undefined;
    }
    if (this.options.rate <= 0 || this.#random() >= this.options.rate) return undefined;
    const weights = FAULT_KINDS.filter(applicable).map(
      (kind) => [kind, this.options.kinds === undefined ? 1 : (this.options.kinds[kind] ?? 0)] as const,
    );
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
    if (total <= 0) return undefined;
    let draw = this.#random() * total;
    for (const [kind, weight] of weights) {
      draw -= weight;
      if (draw < 0) return kind;
    }
    return weights[weights.length - 1]![0];
  }
}
