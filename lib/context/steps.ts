/**
 * A read's rounds are written once, as generator steps, and run two ways: `runAsync` awaits what a
 * step waits on (the loaders' calls), `runNow` runs it synchronously when every lookup answered at
 * once (everything cached). A step `yield*`s where an async function would `await`:
 * - `waitFor(value)` / `waitAll(values)`: the value(s), suspending only when one is a promise;
 * - `inParallel(a, b, ...)`: steps run side by side (async: all started at once, in order, like
 *   `Promise.all` of async functions; sync: one after the other).
 */

/** Steps run side by side; undefined entries are branches not taken. */
class Branches {
  readonly steps: ReadonlyArray<Step<unknown> | undefined>;
  constructor(steps: ReadonlyArray<Step<unknown> | undefined>) {
    this.steps = steps;
  }
}

type Wait = Promise<unknown> | Branches;

export type Step<T> = Generator<Wait, T, unknown>;

/** `value`, once settled (no suspension when it is not a promise). */
export function* waitFor<T>(value: T | Promise<T>): Step<T> {
  return value instanceof Promise ? ((yield value) as T) : value;
}

/** Every one of `values`, once settled (no suspension when none is a promise). */
export function* waitAll<T>(values: ReadonlyArray<T | Promise<T>>): Step<T[]> {
  return values.some((value) => value instanceof Promise)
    ? ((yield Promise.all(values)) as T[])
    : (values as T[]);
}

/** Runs `steps` side by side; each result in its place (undefined for a branch not taken). */
export function* inParallel<T extends unknown[]>(
  ...steps: { [I in keyof T]: Step<T[I]> | undefined }
): Step<{ [I in keyof T]: T[I] | undefined }> {
  return (yield new Branches(steps)) as { [I in keyof T]: T[I] | undefined };
}

/** Runs `step` to its end, awaiting what it waits on; its rejection is the step's error. */
export async function runAsync<T>(step: Step<T>): Promise<T> {
  let next = step.next();
  while (!next.done) {
    const wait = next.value;
    let settled: unknown;
    try {
      settled = wait instanceof Branches ? await Promise.all(wait.steps.map(runAsyncOrSkip)) : await wait;
    } catch (error) {
      next = step.throw(error);
      continue;
    }
    next = step.next(settled);
  }
  return next.value;
}

function runAsyncOrSkip(step: Step<unknown> | undefined): Promise<unknown> | undefined {
  return step === undefined ? undefined : runAsync(step);
}

/**
 * Runs `step` synchronously: only for steps whose every wait is already settled (nothing but
 * branches is ever yielded). A step's error is thrown from here.
 */
export function runNow<T>(step: Step<T>): T {
  let next = step.next();
  while (!next.done) {
    const wait = next.value;
    if (!(wait instanceof Branches)) throw new Error("a step run synchronously waited on a promise");
    let settled: unknown[];
    try {
      settled = wait.steps.map((branch) => (branch === undefined ? undefined : runNow(branch)));
    } catch (error) {
      next = step.throw(error);
      continue;
    }
    next = step.next(settled);
  }
  return next.value;
}
