/**
 * The per-invocation secret, wrapped so that it cannot leak by accident: JSON.stringify, String()
 * and console/util.inspect all print "[redacted]". Only `reveal()` gives the value, and only the
 * completion call and the queue serializer use it.
 */
const REDACTED = "[redacted]";

export class InvocationSecret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}
