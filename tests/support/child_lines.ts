/**
 * Lines that arrive over time — a child process's output, a logger's sink — and a test that
 * awaits the next one matching a pattern instead of sleeping.
 */
export class Lines {
  readonly seen: string[] = [];
  #searchedUpTo = 0;
  #waiter: (() => void) | null = null;
  #ended = false;

  /** Adds a line; a waiting `next` sees it at once. */
  push(line: string): void {
    this.seen.push(line);
    this.#wake();
  }

  /** No more lines will come: a waiting `next` without a match fails at once. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /**
   * Resolves with the first line after the previous match that matches `pattern`; rejects after
   * `ms` or when the lines end without one, listing every line seen.
   */
  async next(pattern: RegExp, ms = 15_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    while (true) {
      for (; this.#searchedUpTo < this.seen.length; this.#searchedUpTo++) {
        const m = pattern.exec(this.seen[this.#searchedUpTo]!);
        if (m) {
          this.#searchedUpTo++;
          return m;
        }
      }
      const left = deadline - Date.now();
      if (this.#ended || left <= 0) {
        throw new Error(`no line matching ${pattern}:\n${this.seen.join("\n")}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }
}

/** Reads a child process's output line by line and lets a test await lines matching a pattern. */
export class ChildLines extends Lines {
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    super();
    this.done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffered = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) this.push(line);
    }
    if (buffered) this.push(buffered);
    this.end();
  }
}
