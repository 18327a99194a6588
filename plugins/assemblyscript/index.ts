// Gatehouse plugin authoring kit for AssemblyScript. A plugin is a function from
// ConnectRequest to ConnectResponse; see plugins/wasm-example/assembly/index.ts.

export { alloc, free, Handler, Level, log, pluginAbort, serve } from "./abi";
export { base64Encode, utf8 } from "./base64";
export { JsonKind, JsonValue, parseJson, quote } from "./json";
export { Backend, ConnectEvent, ConnectRequest, ConnectResponse } from "./types";
