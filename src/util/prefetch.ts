// Overlap producing the next item (image decoding, file reads) with consuming the current one (ORT inference).

export async function* prefetch<T>(source: AsyncIterable<T>, depth = 1): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  for (let i = 0; i < depth; i++) queue.push(it.next());
  try {
    while (true) {
      const next = await queue.shift()!;
      if (next.done === true) return;
      queue.push(it.next());
      yield next.value;
    }
  } finally {
    await it.return?.();
  }
}
