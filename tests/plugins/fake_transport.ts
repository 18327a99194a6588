import {
  type CallOptions,
  type ConnectCall,
  type ConnectionEnd,
  PluginError,
  type PluginResponse,
  type PluginTransport,
} from "../../src/plugins/mod.ts";
import type { ConnectEvent } from "../../src/protocol/mod.ts";

/** A decoded v2 Connect as plugin tests need it. */
export const SAMPLE_EVENT: ConnectEvent = {
  layout: "v2",
  protocolHash: "",
  protocolCrc: 0,
  protocolBuildNumber: 0,
  clientVersion: "",
  clientType: 0,
  uuid: "d3e6ef90-e113-49a7-a845-1c11f24fe166",
  username: "Krymo",
  language: "de-DE",
  identityTokenPresent: false,
  referralDataLength: 0,
  referralSource: null,
};

/** What a fake plugin does with one request (the parsed ConnectRequest JSON). */
export type FakeBehaviour = (request: Record<string, unknown>) => unknown | Promise<unknown>;

/** An in-memory plugin transport for chain and pipeline tests; records every request. */
export class FakeTransport implements PluginTransport {
  readonly requests: Record<string, unknown>[] = [];
  /** Each call's options, in order (`undefined` when none were passed). */
  readonly options: (CallOptions | undefined)[] = [];
  closed = false;

  constructor(readonly name: string, readonly behaviour: FakeBehaviour) {}

  async call(request: Uint8Array, timeoutMs: number, options?: CallOptions): Promise<Uint8Array> {
    const parsed = JSON.parse(new TextDecoder().decode(request));
    this.requests.push(parsed);
    this.options.push(options);
    const answer = await this.behaviour(parsed);
    if (answer instanceof PluginError) throw answer;
    if (answer === "hang") {
      throw new PluginError(this.name, "timeout", `no answer within ${timeoutMs} ms`);
    }
    if (answer instanceof Uint8Array) return answer;
    return new TextEncoder().encode(JSON.stringify(answer));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/**
 * A fake structured plugin transport (one that takes `connect` calls with their context, as a
 * process plugin does): records every call and every connection end, and answers each call
 * with `answer`. A JSON `call` is refused, since the chain must not use it.
 */
export class FakeConnectTransport implements PluginTransport {
  readonly calls: ConnectCall[] = [];
  readonly ends: ConnectionEnd[] = [];
  readonly #firstEnd = Promise.withResolvers<ConnectionEnd>();

  constructor(readonly name: string, readonly answer: PluginResponse) {}

  /** The first connection end the chain reports. */
  get firstEnd(): Promise<ConnectionEnd> {
    return this.#firstEnd.promise;
  }

  call(): Promise<Uint8Array> {
    return Promise.reject(new Error("the chain must use connect"));
  }

  connect(call: ConnectCall): Promise<PluginResponse> {
    this.calls.push(call);
    return Promise.resolve(this.answer);
  }

  connectionEnded(end: ConnectionEnd): void {
    this.ends.push(end);
    this.#firstEnd.resolve(end);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
