import assert from "node:assert/strict";
import { Errno, wallNow, Wasi } from "../../../src/plugins/wasm/wasi.ts";

const SUBS = 0;
const EVENTS = 1024;
const NEVENTS = 2048;

type Sub = { userdata: number; fd?: number; ns?: number };

// Runs poll_oneoff over `subs` with the given deadline; returns [errno, fired userdata, errnos].
function poll(subs: Sub[], deadlineMs: number): [number, number[], number[]] {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const wasi = new Wasi({ log: () => {}, deadline: () => deadlineMs, flag: () => null });
  wasi.bind(memory);
  const view = new DataView(memory.buffer);
  subs.forEach((s, i) => {
    const at = SUBS + i * 48;
    view.setBigUint64(at, BigInt(s.userdata), true);
    view.setUint8(at + 8, s.fd === undefined ? 0 : 1); // clock : fd_read
    if (s.fd === undefined) {
      view.setUint32(at + 16, 1, true); // monotonic
      view.setBigUint64(at + 24, BigInt(s.ns ?? 0), true);
    } else {
      view.setUint32(at + 16, s.fd, true);
    }
  });
  const fn = (wasi.imports().wasi_snapshot_preview1 as Record<string, CallableFunction>)
    .poll_oneoff!;
  const errno = fn(SUBS, EVENTS, subs.length, NEVENTS) as number;
  const n = view.getUint32(NEVENTS, true);
  const ids: number[] = [];
  const errnos: number[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(Number(view.getBigUint64(EVENTS + i * 32, true)));
    errnos.push(view.getUint16(EVENTS + i * 32 + 8, true));
  }
  return [errno, ids, errnos];
}

Deno.test("wasi poll_oneoff: only the clock that came due is reported", () => {
  const [errno, ids, errnos] = poll(
    [{ userdata: 7, ns: 1e6 }, { userdata: 8, ns: 60e9 }],
    wallNow() + 10_000,
  );
  assert.equal(errno, Errno.success);
  assert.deepEqual(ids, [7]);
  assert.deepEqual(errnos, [Errno.success]);
});

Deno.test("wasi poll_oneoff: an fd subscription fails at once, a pending clock is not reported", () => {
  const [errno, ids, errnos] = poll(
    [{ userdata: 1, ns: 60e9 }, { userdata: 2, fd: 0 }],
    wallNow() + 10_000,
  );
  assert.equal(errno, Errno.success);
  assert.deepEqual(ids, [2]);
  assert.deepEqual(errnos, [Errno.badf]);
});

Deno.test("wasi poll_oneoff: a sleep cut short by the deadline reports no clock", () => {
  const [errno, ids] = poll([{ userdata: 3, ns: 60e9 }], wallNow() + 5);
  assert.equal(errno, Errno.success);
  assert.deepEqual(ids, []);
});
