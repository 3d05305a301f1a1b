import type { IssueSink } from "./ingest-issue.ts";

/**
 * Turns an async source of batches (the rows of one read chunk) into an async iterator of single
 * items. Readers work chunk by chunk; handing rows out one `await` each through nested async
 * generators costs several promise hops per row, which dominated the CSV and DBF readers' time.
 * Here an item already in the current batch costs one resolved promise.
 *
 * @example
 * for await (const row of flattenBatches(readCsvBatches(file, options, sink))) { … }
 */
export function flattenBatches<T>(batches: AsyncIterator<readonly T[]>): AsyncIterableIterator<T> {
  let batch: readonly T[] = [];
  let i = 0;
  let done = false;
  const refill = async (): Promise<IteratorResult<T, undefined>> => {
    while (i >= batch.length) {
      if (done) return { done: true, value: undefined };
      const r = await batches.next();
      if (r.done === true) {
        done = true;
        return { done: true, value: undefined };
      }
      batch = r.value;
      i = 0;
    }
    return { done: false, value: batch[i++]! };
  };
  return {
    next(): Promise<IteratorResult<T, undefined>> {
      if (i < batch.length) return Promise.resolve({ done: false, value: batch[i++]! });
      return refill();
    },
    async return(): Promise<IteratorResult<T, undefined>> {
      done = true;
      batch = [];
      await batches.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Runs `sink.finish()` (which may throw the collected issues) after the last batch. */
export async function* finishing<T>(batches: AsyncIterable<T>, sink: IssueSink): AsyncGenerator<T> {
  yield* batches;
  sink.finish();
}
