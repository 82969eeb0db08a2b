/**
 * Decision records in a local JSON-lines file: what `dev` and `serve` write and what `decisions`,
 * `rules replay` and the console read without AWS. One record per line, appended; a put for an
 * invocationId already in the file is a new line that replaces the earlier one on read (last line
 * wins). Reads scan the whole file (a local run holds thousands, not millions), validating each line.
 *
 * A line that is not a record (edited by hand, a different version) is skipped with a warning naming
 * file:line, once per line, so one bad line does not hide the rest of the audit trail; `strict: true`
 * makes it an error instead. A last line without its newline is a write in progress: ignored.
 *
 * The file holds personal data: it is created with mode 0600 (its directory 0700).
 */
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { applyFilter, findById } from "../../audit/filter.ts";
import { type DecisionRecord, DecisionRecordInvalidError, parseDecisionRecord } from "../../audit/record.ts";
import type {
  DecisionFilter,
  DecisionRecordStore,
  RecordCallOptions,
  WatchableRecords,
} from "../../audit/types.ts";

/** Where `dev` and `serve` write by default, relative to the working directory (git-ignored). */
export const DEFAULT_RECORDS_PATH = ".isc-responder/decisions.jsonl";

export interface FileDecisionRecordsOptions {
  /** Epoch ms, for expiry; default Date.now. */
  clock?: () => number;
  /** A line that is not a record throws DecisionRecordInvalidError (file:line) instead of being skipped. */
  strict?: boolean;
  /** Where skipped lines are reported; default stderr. */
  warn?: (message: string) => void;
}

export class FileDecisionRecords implements DecisionRecordStore, WatchableRecords {
  readonly path: string;
  readonly #clock: () => number;
  readonly #strict: boolean;
  readonly #warn: (message: string) => void;
  readonly #warned = new Set<number>();
  readonly #listeners = new Set<(record: DecisionRecord) => void>();
  /** Appends one at a time, so lines never interleave. */
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string, options: FileDecisionRecordsOptions = {}) {
    this.path = path;
    this.#clock = options.clock ?? Date.now;
    this.#strict = options.strict ?? false;
    this.#warn = options.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`));
  }

  async put(record: DecisionRecord, options: RecordCallOptions = {}): Promise<void> {
    // Validated before it lands: a record no reader could read is refused at the writer.
    const valid = parseDecisionRecord(record, `record ${record.invocationId}`);
    const line = `${JSON.stringify(valid)}\n`;
    const write = this.#writing.then(async () => {
      options.signal?.throwIfAborted();
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      await appendFile(this.path, line, { encoding: "utf8", mode: 0o600 });
    });
    this.#writing = write.catch(() => undefined);
    await write;
    for (const listener of this.#listeners) {
      try {
        listener(valid);
      } catch {
        // A listener's failure is its own; the record is written.
      }
    }
  }

  async list(filter: DecisionFilter, options: RecordCallOptions = {}): Promise<DecisionRecord[]> {
    return applyFilter(await this.#read(options), filter, this.#clock());
  }

  async find(id: string, options: RecordCallOptions = {}): Promise<DecisionRecord[]> {
    return findById(await this.#read(options), id, this.#clock());
  }

  subscribe(listener: (record: DecisionRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** One record per invocationId, the last line's. */
  async #read(options: RecordCallOptions): Promise<Iterable<DecisionRecord>> {
    options.signal?.throwIfAborted();
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") return [];
      throw error;
    }
    const byId = new Map<string, DecisionRecord>();
    const lines = text.split("\n");
    // The last element is "" after a final newline, or a line still being written.
    const complete = lines.length - 1;
    for (let index = 0; index < complete; index++) {
      const line = lines[index] ?? "";
      if (line.trim() === "") continue;
      const where = `${this.path}:${index + 1}`;
      let record: DecisionRecord;
      try {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new DecisionRecordInvalidError(`${where}: not JSON`);
        }
        record = parseDecisionRecord(value, where);
      } catch (error) {
        if (this.#strict || !(error instanceof DecisionRecordInvalidError)) throw error;
        if (!this.#warned.has(index)) {
          this.#warned.add(index);
          this.#warn(`${error.message}; line skipped`);
        }
        continue;
      }
      byId.delete(record.invocationId);
      byId.set(record.invocationId, record);
    }
    return byId.values();
  }
}
