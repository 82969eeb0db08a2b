/** Decision records in memory, with the file store's semantics (tests, the in-process console). */
import { applyFilter, findById } from "../../audit/filter.ts";
import { type DecisionRecord, parseDecisionRecord } from "../../audit/record.ts";
import type {
  DecisionFilter,
  DecisionRecordStore,
  RecordCallOptions,
  WatchableRecords,
} from "../../audit/types.ts";

export class MemoryDecisionRecords implements DecisionRecordStore, WatchableRecords {
  readonly #records = new Map<string, DecisionRecord>();
  readonly #listeners = new Set<(record: DecisionRecord) => void>();
  readonly #clock: () => number;

  constructor(options: { clock?: () => number } = {}) {
    this.#clock = options.clock ?? Date.now;
  }

  /** Every record held (expired ones too), in put order. */
  get all(): DecisionRecord[] {
    return [...this.#records.values()];
  }

  async put(record: DecisionRecord, options: RecordCallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    // Validated and copied, as a round trip through a real store would.
    const stored = parseDecisionRecord(structuredClone(record), `record ${record.invocationId}`);
    this.#records.delete(stored.invocationId);
    this.#records.set(stored.invocationId, stored);
    for (const listener of this.#listeners) {
      try {
        listener(stored);
      } catch {
        // A listener's failure is its own; the record is stored.
      }
    }
  }

  async list(filter: DecisionFilter, options: RecordCallOptions = {}): Promise<DecisionRecord[]> {
    options.signal?.throwIfAborted();
    return applyFilter(this.#records.values(), filter, this.#clock());
  }

  async find(id: string, options: RecordCallOptions = {}): Promise<DecisionRecord[]> {
    options.signal?.throwIfAborted();
    return findById(this.#records.values(), id, this.#clock());
  }

  subscribe(listener: (record: DecisionRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}
