// ConnectRequest / ConnectResponse of the plugin protocol (docs/plugins.md §1 "Data model").

import { JsonKind, JsonValue, quote } from "./json";
import { base64Encode } from "./base64";

/** A backend (candidate or selected). `meta` keeps the raw key/value pairs. */
export class Backend {
  host: string = "";
  port: i32 = 0;
  weight: i32 = 0;
  metaKeys: Array<string> = [];
  metaValues: Array<string> = [];

  constructor(host: string = "", port: i32 = 0) {
    this.host = host;
    this.port = port;
  }

  static fromJson(v: JsonValue): Backend {
    const b = new Backend(v.getString("host"), i32(v.getNumber("port")));
    b.weight = i32(v.getNumber("weight"));
    const meta = v.get("meta");
    if (meta != null && meta.kind == JsonKind.Object) {
      for (let i = 0; i < meta.keys.length; i++) {
        const item = meta.items[i];
        b.metaKeys.push(meta.keys[i]);
        b.metaValues.push(item.kind == JsonKind.String ? item.str : "");
      }
    }
    return b;
  }

  /** The metadata value for `key`, or "". */
  meta(key: string): string {
    for (let i = 0; i < this.metaKeys.length; i++) {
      if (this.metaKeys[i] == key) return this.metaValues[i];
    }
    return "";
  }

  toJson(): string {
    let out = '{"host":' + quote(this.host) + ',"port":' + this.port.toString();
    if (this.weight != 0) out += ',"weight":' + this.weight.toString();
    if (this.metaKeys.length > 0) {
      out += ',"meta":{';
      for (let i = 0; i < this.metaKeys.length; i++) {
        if (i > 0) out += ",";
        out += quote(this.metaKeys[i]) + ":" + quote(this.metaValues[i]);
      }
      out += "}";
    }
    return out + "}";
  }
}

/** The player's Connect as the router saw it. */
export class ConnectEvent {
  sni: string = "";
  clientCertFingerprint: string = "";
  protocolHash: string = "";
  clientType: i32 = 0;
  uuid: string = "";
  username: string = "";
  language: string = "";
  identityTokenPresent: bool = false;
}

/** What the router sends to a plugin. */
export class ConnectRequest {
  event: ConnectEvent = new ConnectEvent();
  strategy: string = "";
  candidates: Array<Backend> = [];
  /** -1 when nothing was selected. */
  selectedIndex: i32 = -1;
  backend: Backend | null = null;
  /** Base64, "" when none. */
  referralContent: string = "";

  static fromJson(v: JsonValue): ConnectRequest {
    const r = new ConnectRequest();
    const e = v.get("event");
    if (e != null) {
      r.event.sni = e.getString("sni");
      r.event.clientCertFingerprint = e.getString("client_cert_fingerprint");
      r.event.protocolHash = e.getString("protocol_hash");
      r.event.clientType = i32(e.getNumber("client_type"));
      r.event.uuid = e.getString("uuid");
      r.event.username = e.getString("username");
      r.event.language = e.getString("language");
      r.event.identityTokenPresent = e.getBool("identity_token_present");
    }
    r.strategy = v.getString("strategy");
    const candidates = v.get("candidates");
    if (candidates != null && candidates.kind == JsonKind.Array) {
      for (let i = 0; i < candidates.items.length; i++) {
        r.candidates.push(Backend.fromJson(candidates.items[i]));
      }
    }
    r.selectedIndex = i32(v.getNumber("selected_index", -1));
    const backend = v.get("backend");
    if (backend != null && backend.kind == JsonKind.Object) r.backend = Backend.fromJson(backend);
    r.referralContent = v.getString("referral_content", v.getString("referral_data"));
    return r;
  }
}

/** What a plugin answers; unset fields leave the router's state as it is. */
export class ConnectResponse {
  deny: bool = false;
  denyReason: string = "";
  /** Replaces the candidate list when non-empty. */
  candidates: Array<Backend> = [];
  /** -1 = leave the selection alone. */
  selectedIndex: i32 = -1;
  backend: Backend | null = null;
  /** Raw bytes; sent base64-encoded. null = leave the referral content alone. */
  referralContent: Uint8Array | null = null;

  /** A response that denies the connection with `reason`. */
  static denied(reason: string): ConnectResponse {
    const r = new ConnectResponse();
    r.deny = true;
    r.denyReason = reason;
    return r;
  }

  toJson(): string {
    if (this.deny) return '{"deny":true,"deny_reason":' + quote(this.denyReason) + "}";
    const parts: Array<string> = [];
    if (this.candidates.length > 0) {
      const items: Array<string> = [];
      for (let i = 0; i < this.candidates.length; i++) items.push(this.candidates[i].toJson());
      parts.push('"candidates":[' + items.join(",") + "]");
    }
    if (this.selectedIndex >= 0) parts.push('"selected_index":' + this.selectedIndex.toString());
    const backend = this.backend;
    if (backend != null) parts.push('"backend":' + backend.toJson());
    const referral = this.referralContent;
    if (referral != null) parts.push('"referral_content":' + quote(base64Encode(referral)));
    return "{" + parts.join(",") + "}";
  }
}
