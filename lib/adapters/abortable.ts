/**
 * Bounds a promise by an AbortSignal for callees that may not honour it (an SDK stuck resolving
 * credentials, a test double, a hung socket the handler does not watch).
 */

/**
 * Settles as `work` does, or rejects with `abandoned()` as soon as `signal` aborts, whichever comes
 * first. `work` is not cancelled (pass it the signal for that); its late outcome is ignored.
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  abandoned: () => Error,
): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abandoned());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
