/**
 * A valid WASM plugin module with `functions` extra trivial functions, built byte by byte (wabt's
 * text parser takes seconds for 200,000 functions). `alloc` returns 1024; `on_connect` answers
 * the two bytes `{}` stored there. Used to measure what loading a huge module costs the router.
 */
export function bigPluginModule(functions: number): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // Types: 0 (i32) -> i32, 1 (i32 i32) -> i64, 2 () -> ().
  section(out, 1, [3, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e, 0x60, 0, 0]);
  const types = [...leb(functions + 2), 0, 1];
  for (let i = 0; i < functions; i++) types.push(2);
  section(out, 3, types);
  section(out, 5, [1, 0, 1]); // one memory, 1 page, no maximum
  section(out, 7, [
    3,
    ...name("memory"),
    0x02,
    0,
    ...name("alloc"),
    0x00,
    0,
    ...name("on_connect"),
    0x00,
    1,
  ]);
  // alloc: i32.const 1024; on_connect: i64.const (1024 << 32) | 2; the rest: empty bodies.
  const code = [...leb(functions + 2)];
  code.push(...body([0x41, ...sleb(1024)]));
  code.push(...body([0x42, ...sleb(1024 * 2 ** 32 + 2)]));
  for (let i = 0; i < functions; i++) code.push(2, 0, 0x0b);
  section(out, 10, code);
  section(out, 11, [1, 0, 0x41, ...sleb(1024), 0x0b, 2, 0x7b, 0x7d]); // "{}" at 1024
  return Uint8Array.from(out);
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id, ...leb(content.length));
  for (const b of content) out.push(b);
}

function body(instructions: number[]): number[] {
  const content = [0, ...instructions, 0x0b]; // no locals
  return [...leb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...leb(bytes.length), ...bytes];
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = ((value % 128) + 128) % 128;
    value = Math.floor(value / 128);
    const done = (value === 0 && (b & 0x40) === 0) || (value === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}
