/**
 * Example gRPC plugin server on `@grpc/grpc-js`: serves `/hyrouter.Plugin/OnConnect` with JSON
 * messages. grpc-js takes any `application/grpc…` content-type and leaves the message format to
 * the method's (de)serializers, so registering JSON ones serves both the Go router's
 * `application/grpc+json` and plain `application/grpc` clients. (Its replies always say
 * `application/grpc+proto`; gRPC clients, Go's included, only check the `application/grpc`
 * prefix.)
 *
 * Run: `deno task plugin:grpc:run [--listen 127.0.0.1:7777]`.
 *
 * Known instability (Deno 2.9.6, measured): the `node:http2` server under grpc-js aborts the
 * whole process (`free(): invalid pointer`) when a client sends GOAWAY on a connection that has
 * carried more than about 150 calls. Gatehouse's client closes without GOAWAY, and so does the
 * Go peer's grpc-go 1.33 client; with them this server is stable (tests/plugins/grpc). Clients
 * that send GOAWAY on close (newer grpc-go, hence the Go router) can trigger the abort: run it
 * under a supervisor that restarts it, or use a Go plugin server there.
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { type ConnectRequest, type ConnectResponse, onConnect } from "./handler.ts";

const encoder = new TextEncoder();

const onConnectMethod: grpc.MethodDefinition<ConnectRequest, ConnectResponse> = {
  path: "/hyrouter.Plugin/OnConnect",
  requestStream: false,
  responseStream: false,
  requestSerialize: (value) => Buffer.from(encoder.encode(JSON.stringify(value))),
  // A body that is not a JSON object fails the call (grpc-js answers INTERNAL), never the server.
  requestDeserialize: (bytes) => {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    if (typeof value !== "object" || value === null) throw new Error("request is not an object");
    return value as ConnectRequest;
  },
  responseSerialize: (value) => Buffer.from(encoder.encode(JSON.stringify(value))),
  responseDeserialize: (bytes) => JSON.parse(bytes.toString("utf8")) as ConnectResponse,
};

function main(): void {
  const { values } = parseArgs({
    args: Deno.args,
    options: { listen: { type: "string", default: "127.0.0.1:7777" } },
  });
  const listen = values.listen;
  const server = new grpc.Server();
  server.addService({ OnConnect: onConnectMethod }, {
    OnConnect: (
      call: grpc.ServerUnaryCall<ConnectRequest, ConnectResponse>,
      callback: grpc.sendUnaryData<ConnectResponse>,
    ) => callback(null, onConnect(call.request)),
  });
  server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(`grpc-example: cannot listen on ${listen}: ${err.message}`);
      Deno.exit(1);
    }
    console.error(`grpc-example listening on ${listen.replace(/:\d+$/, "")}:${port}`);
  });
  // SIGTERM: graceful (GOAWAY, let calls finish, at most 2 s); SIGINT: at once.
  Deno.addSignalListener("SIGTERM", () => {
    server.tryShutdown(() => Deno.exit(0));
    setTimeout(() => {
      server.forceShutdown();
      Deno.exit(0);
    }, 2000);
  });
  Deno.addSignalListener("SIGINT", () => {
    server.forceShutdown();
    Deno.exit(0);
  });
}

main();
