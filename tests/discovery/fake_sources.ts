import type {
  CreateAllocation,
  ResourceSource,
  SourceFactory,
  WatchRequest,
} from "../../src/discovery/mod.ts";

/** The allocation API of fakes that have none: every create fails. */
export const NO_ALLOCATIONS: CreateAllocation = () =>
  Promise.reject(new Error("this fake has no allocation API"));

/** A watched collection the test drives: set its objects, then it reports the change. */
export class FakeSource<T> implements ResourceSource<T> {
  synced = false;
  restarts = 0;
  closed = false;
  #items: readonly T[] = [];

  constructor(readonly request: WatchRequest) {}

  items(): readonly T[] {
    return this.#items;
  }

  close(): void {
    this.closed = true;
  }

  /** Replaces the objects (as a list or watch event would) and reports the change. */
  set(items: readonly T[]): void {
    this.#items = items;
    this.synced = true;
    this.request.onChange();
  }
}

/** A factory that records every source it opens. */
export function fakeFactory(): { open: SourceFactory; sources: FakeSource<unknown>[] } {
  const sources: FakeSource<unknown>[] = [];
  const open: SourceFactory = <T>(request: WatchRequest) => {
    const source = new FakeSource<T>(request);
    sources.push(source as FakeSource<unknown>);
    return source;
  };
  return { open, sources };
}

/** `host:port` of each backend, in order (what provider tests compare). */
export const hostPorts = (backends: readonly { host: string; port: number }[]): string[] =>
  backends.map((b) => `${b.host}:${b.port}`);
