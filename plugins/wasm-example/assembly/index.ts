// The example WASM plugin: denies the username "deny"; otherwise sends the player to
// play.example.com:5520 with referral content "wasm-plugin".

import { Backend, ConnectRequest, ConnectResponse, serve, utf8 } from "../../assemblyscript/index";

export { alloc, free } from "../../assemblyscript/index";

function handle(request: ConnectRequest): ConnectResponse {
  if (request.event.username == "deny") return ConnectResponse.denied("denied by wasm plugin");
  const response = new ConnectResponse();
  response.referralContent = utf8("wasm-plugin");
  response.backend = new Backend("play.example.com", 5520);
  return response;
}

export function on_connect(ptr: u32, len: u32): u64 {
  return serve(handle, ptr, len);
}
