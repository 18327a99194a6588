/** Reads a child process's output line by line and lets a test await lines matching a pattern. */
export class ChildLines {
  readonly seen: string[] = [];
  #searchedUpTo = 0;
  #waiter: (() => void) | null = null;
  #ended = false;
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  /**
   * Resolves with the first line after the previous match that matches `pattern`; rejects after
   * `ms` or when the stream ends without one, listing every line seen.
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

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffered = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      this.seen.push(...lines);
      this.#wake();
    }
    if (buffered) this.seen.push(buffered);
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }
}
