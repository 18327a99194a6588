/**
 * A client whose QUIC handshake never completes, as a spoofer's is: a UDP relay on 127.0.0.1
 * passes the client's packets to the router and drops every answer, so the router has the
 * client's Initial (and accepts it at 0.5-RTT) but never hears a Finished. The router sees the
 * relay's socket as the client: 127.0.0.1, one port per stalled client.
 */

/** Stalled handshakes, ended together by {@link StalledHandshakes.close}. */
export class StalledHandshakes {
  readonly #relays: Deno.DatagramConn[] = [];
  readonly #endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  readonly #dials: Promise<unknown>[] = [];
  readonly #pumps: Promise<void>[] = [];
  /** Client packets the relays passed on. */
  forwarded = 0;

  /** Starts `count` handshakes to `127.0.0.1:port`, each through its own relay. */
  start(port: number, count: number): void {
    for (let i = 0; i < count; i++) this.#startOne(port);
  }

  #startOne(port: number): void {
    // The client talks to `front`; `back` talks to the router, so each stalled client has a port
    // of its own as the router sees it.
    const front = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const back = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    this.#relays.push(front, back);
    const router = { transport: "udp" as const, hostname: "127.0.0.1", port };
    this.#pumps.push(
      (async () => {
        for await (const [packet] of front) {
          this.forwarded++;
          await back.send(packet, router);
        }
      })().catch(() => {}),
      // Read and drop the router's answers so its flight never arrives.
      (async () => {
        for await (const _ of back) { /* dropped */ }
      })().catch(() => {}),
    );
    const { port: frontPort } = front.addr as Deno.NetAddr;
    const dial = async () =>
      await Deno.connectQuic({
        endpoint: this.#endpoint,
        hostname: "127.0.0.1",
        port: frontPort,
        serverName: "play.example.com",
        alpnProtocols: ["hytale/2"],
      });
    this.#dials.push(dial().catch(() => {}));
  }

  /** Ends every relay and client; the router's side ends by its own timeouts or evictions. */
  async close(): Promise<void> {
    this.#endpoint.close();
    for (const relay of this.#relays) relay.close();
    await Promise.all([...this.#dials, ...this.#pumps]);
  }
}
