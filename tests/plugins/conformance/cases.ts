/**
 * The conformance table (issue 13): one list of cases every plugin transport — WASM, gRPC,
 * process — runs through the real chain (docs/plugins.md §2, §3). A case names the chain's input
 * (the SNI, a Connect whose username picks the scripted plugin's behaviour, the state before the
 * plugin) and what must come out: the `ChainOutcome`, and the `PluginError` kind the chain's
 * observer must see. Each transport's scripted plugin is built from the same table
 * (`Answer`: a ConnectResponse JSON document, a stall, or garbage in that transport's encoding),
 * so a case cannot pass on one transport by a script the others do not share. The expected
 * outcomes are written out by hand, not computed by `src/`.
 */
import type { Backend, FailurePolicy } from "../../../src/config/mod.ts";
import type { PluginErrorKind } from "../../../src/observability/mod.ts";
import type { ChainOutcome, ChainState } from "../../../src/plugins/mod.ts";
import type { ConnectEvent } from "../../../src/protocol/mod.ts";
import { SAMPLE_EVENT } from "../fake_transport.ts";

/** The plugin's name in every transport (the deny outcome names it). */
export const PLUGIN = "conformance";
/** The SNI of every case. */
export const SNI = "play.example.com";

/** What the scripted plugin does for one username. */
export type Answer =
  /** Answers this ConnectResponse (docs/plugins.md §1.2), in the transport's own encoding. */
  | { readonly kind: "json"; readonly doc: Readonly<Record<string, unknown>> }
  /** Never answers (a WASM module spins; a server or process holds the call). */
  | { readonly kind: "stall" }
  /** Answers bytes that do not decode in the transport's encoding. */
  | { readonly kind: "garbage" }
  /** Fails in its own way: a WASM trap, a gRPC status other than OK with this message. */
  | { readonly kind: "fail"; readonly message: string };

/** The plugin taken away mid-run, and brought back. */
export interface Gone {
  /** While gone, a call fails as `unavailable` faster than this (the case's timeout is longer). */
  readonly failsWithinMs: number;
  /** Once back, a call as this username must succeed within {@link RECOVERY_MS}... */
  readonly recoverAs: string;
  /** ...with this outcome. */
  readonly recovered: ChainOutcome;
}

/** One row of the table. */
export interface ConformanceCase {
  /** Short and unique: what a transport names when the row does not apply to it. */
  readonly tag: string;
  readonly name: string;
  /** Picks the scripted behaviour (see {@link ANSWERS}). */
  readonly username: string;
  readonly policy: FailurePolicy;
  /** The link's per-call deadline. */
  readonly timeoutMs: number;
  /** The chain's outcome. */
  readonly outcome: ChainOutcome;
  /** The failure the chain must observe, or `null` for a call that succeeds. */
  readonly error: PluginErrorKind | null;
  /** Set for the case in which the plugin goes away and comes back. */
  readonly gone?: Gone;
}

const A: Backend = { host: "10.0.0.1", port: 5520, weight: 1, meta: null };
const B: Backend = { host: "10.0.0.2", port: 5520, weight: 2, meta: { zone: "b" } };

/** The chain state every case starts from: two candidates, the first selected. */
export const START: ChainState = {
  strategy: "round_robin",
  candidates: [A, B],
  selectedIndex: 0,
  backend: A,
  referralContent: new Uint8Array(0),
};

/** The Connect of a player called `username` (a v2 Connect, as the router decodes it). */
export function eventOf(username: string): ConnectEvent {
  return { ...SAMPLE_EVENT, username };
}

/** The scripted plugin's behaviour by username; any other username is answered `{}`. */
export const ANSWERS: Readonly<Record<string, Answer>> = {
  anyone: { kind: "json", doc: {} },
  banned: { kind: "json", doc: { deny: true, deny_reason: "banned until tomorrow" } },
  quiet: { kind: "json", doc: { deny: true } },
  // B by host and port, with the plugin's own weight and meta.
  steer: {
    kind: "json",
    doc: { backend: { host: "10.0.0.2", port: 5520, weight: 7, meta: { pinned: "yes" } } },
  },
  // A backend that is no candidate, weight and meta left out (Go's zero values).
  elsewhere: { kind: "json", doc: { backend: { host: "10.0.0.9", port: 5521 } } },
  replace: {
    kind: "json",
    doc: {
      candidates: [
        { host: "10.1.0.1", port: 5520 },
        { host: "10.1.0.2", port: 5520, weight: 3, meta: { k: "v" } },
      ],
      selected_index: 1,
    },
  },
  referral: { kind: "json", doc: { referral_content: btoa("\x01\x02\x03\xfa") } },
  stall: { kind: "stall" },
  garbage: { kind: "garbage" },
  broken: { kind: "fail", message: "ban list unreachable" },
};

/** How long a plugin that is back may take to answer again (restart back-off + start). */
export const RECOVERY_MS = 15_000;
/** Slack for a timeout's settling past its deadline on a loaded CI machine. */
export const TIMEOUT_SLACK_MS = 1_000;

const UNCHANGED: ChainOutcome = { kind: "continue", state: START };
const POLICY_DENY: ChainOutcome = { kind: "deny", plugin: PLUGIN, reason: null };
const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The table. Every transport runs every row, except where it cannot express one: it then names
 * the row's tag and why (`TransportUnderTest.notApplicable`), and the runner reports the row as
 * not applicable rather than leaving it out.
 */
export const CASES: readonly ConformanceCase[] = [
  {
    tag: "allow",
    name: "allow: the state goes on unchanged",
    username: "anyone",
    policy: "deny",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: UNCHANGED,
    error: null,
  },
  {
    tag: "deny",
    name: "deny with a reason",
    username: "banned",
    policy: "continue",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: { kind: "deny", plugin: PLUGIN, reason: "banned until tomorrow" },
    error: null,
  },
  {
    tag: "deny-empty",
    name: "deny without a reason: an empty one, not the failure policy's null",
    username: "quiet",
    policy: "continue",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: { kind: "deny", plugin: PLUGIN, reason: "" },
    error: null,
  },
  {
    tag: "steer",
    name: "steer the backend to a candidate: the selected index follows it",
    username: "steer",
    policy: "deny",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: {
      kind: "continue",
      state: {
        ...START,
        selectedIndex: 1,
        backend: { host: "10.0.0.2", port: 5520, weight: 7, meta: { pinned: "yes" } },
      },
    },
    error: null,
  },
  {
    tag: "steer-elsewhere",
    name: "steer the backend elsewhere: zero weight and null meta, the index kept",
    username: "elsewhere",
    policy: "deny",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: {
      kind: "continue",
      state: { ...START, backend: { host: "10.0.0.9", port: 5521, weight: 0, meta: null } },
    },
    error: null,
  },
  {
    tag: "candidates",
    name: "replace the candidates and select one",
    username: "replace",
    policy: "deny",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: {
      kind: "continue",
      state: {
        ...START,
        candidates: [
          { host: "10.1.0.1", port: 5520, weight: 0, meta: null },
          { host: "10.1.0.2", port: 5520, weight: 3, meta: { k: "v" } },
        ],
        selectedIndex: 1,
        backend: { host: "10.1.0.2", port: 5520, weight: 3, meta: { k: "v" } },
      },
    },
    error: null,
  },
  {
    tag: "referral",
    name: "referral content arrives in the state, byte for byte",
    username: "referral",
    policy: "deny",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: {
      kind: "continue",
      state: { ...START, referralContent: new Uint8Array([1, 2, 3, 250]) },
    },
    error: null,
  },
  {
    tag: "timeout-deny",
    name: "timeout with failure_policy deny: denied without a reason",
    username: "stall",
    policy: "deny",
    timeoutMs: 300,
    outcome: POLICY_DENY,
    error: "timeout",
  },
  {
    tag: "timeout-continue",
    name: "timeout with failure_policy continue: the state goes on unchanged",
    username: "stall",
    policy: "continue",
    timeoutMs: 300,
    outcome: UNCHANGED,
    error: "timeout",
  },
  {
    tag: "garbage",
    name: "garbage answer: bad_response, the failure policy applies",
    username: "garbage",
    policy: "deny",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: POLICY_DENY,
    error: "bad_response",
  },
  {
    tag: "fail",
    name: "the plugin's own failure: trap, the failure policy applies",
    username: "broken",
    policy: "deny",
    timeoutMs: DEFAULT_TIMEOUT_MS,
    outcome: POLICY_DENY,
    error: "trap",
  },
  {
    tag: "gone",
    name: "gone: fails fast as unavailable, then answers again once back",
    username: "anyone",
    policy: "continue",
    timeoutMs: 3_000,
    outcome: UNCHANGED,
    error: "unavailable",
    gone: {
      failsWithinMs: 750,
      recoverAs: "banned",
      recovered: { kind: "deny", plugin: PLUGIN, reason: "banned until tomorrow" },
    },
  },
];
