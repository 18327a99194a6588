/** The IP address parser shared by `access` CIDRs and the router's accept path. */
import assert from "node:assert/strict";
import { isV4Mapped, parseIpAddress } from "../../src/config/mod.ts";
import { formatIpAddress } from "../../src/config/ip_address.ts";
import { parseCidr } from "../../src/config/cidr.ts";

function parse(text: string): string | null {
  const words = new Uint32Array(4);
  const family = parseIpAddress(text, words);
  return family === null ? null : formatIpAddress(family, words);
}

Deno.test("ip: IPv4 needs four decimal octets 0-255 without leading zeros", () => {
  assert.equal(parse("0.0.0.0"), "0.0.0.0");
  assert.equal(parse("255.255.255.255"), "255.255.255.255");
  assert.equal(parse("192.0.2.1"), "192.0.2.1");
  for (
    const bad of [
      "256.0.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.04",
      "1..2.3",
      "1.2.3.",
      ".1.2.3",
      "1.2.3.4 ",
      "0x1.2.3.4",
      "1.2.3.-4",
      "",
      "1234.1.1.1",
    ]
  ) {
    assert.equal(parse(bad), null, bad);
  }
});

Deno.test("ip: IPv6 groups, one ::, an IPv4 tail; canonical form is RFC 5952", () => {
  const cases: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["1::1.2.3.4", "1::102:304"],
    ["fe80::", "fe80::"],
  ];
  for (const [text, canonical] of cases) assert.equal(parse(text), canonical, text);
  const bad = [
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    ":1::2",
    "1::2:",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "12345::",
    "g::",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3",
    "::1.2.3.4:5",
    "fe80::1%eth0",
    "[::1]",
    " ::1",
  ];
  for (const text of bad) assert.equal(parse(text), null, text);
});

Deno.test("ip: random IPv6 text agrees with the URL parser's normalisation", () => {
  let seed = 3;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 2_000; i++) {
    const groups = Array.from({ length: 8 }, () => (rand(3) === 0 ? 0 : rand(0x10000)));
    let text = groups.map((g) => g.toString(16)).join(":");
    if (rand(2) === 0) text = text.replace(/(^|:)0(:0)+(:|$)/, "::");
    const expected = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    assert.equal(parse(text), expected, text);
  }
});

Deno.test("ip: IPv4-mapped addresses are recognised in both spellings", () => {
  const words = new Uint32Array(4);
  for (const text of ["::ffff:10.1.2.3", "::FFFF:a01:203", "0:0:0:0:0:ffff:10.1.2.3"]) {
    assert.equal(parseIpAddress(text, words), 6);
    assert.ok(isV4Mapped(words), text);
    assert.equal(words[3], 0x0a010203);
  }
  parseIpAddress("::10.1.2.3", words);
  assert.ok(!isV4Mapped(words), "IPv4-compatible is not mapped");
});

Deno.test("cidr: canonical ranges; a bare address is one host; mapped ranges become IPv4", () => {
  const ok = (text: string) => {
    const parsed = parseCidr(text);
    assert.ok(parsed.ok, `${text}: ${!parsed.ok && parsed.problem}`);
    return parsed.range;
  };
  assert.deepEqual(ok("10.0.0.0/8"), {
    family: 4,
    words: [0x0a000000],
    prefixLength: 8,
    text: "10.0.0.0/8",
  });
  assert.equal(ok("192.0.2.7").text, "192.0.2.7/32");
  assert.equal(ok("2001:DB8::/32").text, "2001:db8::/32");
  assert.equal(ok("2001:db8::1").text, "2001:db8::1/128");
  assert.equal(ok("0.0.0.0/0").text, "0.0.0.0/0");
  assert.equal(ok("::/0").text, "::/0");
  assert.deepEqual(ok("::ffff:10.0.0.0/104"), {
    family: 4,
    words: [0x0a000000],
    prefixLength: 8,
    text: "10.0.0.0/8",
  });
  assert.equal(ok("::ffff:10.1.2.3").text, "10.1.2.3/32");
});

Deno.test("cidr: bad address, prefix out of range and host bits set are refused, with a fix", () => {
  const problem = (text: string) => {
    const parsed = parseCidr(text);
    assert.ok(!parsed.ok, text);
    return [parsed.problem, parsed.hint];
  };
  assert.deepEqual(problem("10.0.0.256/8"), ['"10.0.0.256" is not an IP address', null]);
  assert.deepEqual(problem("10.0.0.0/33"), [
    'prefix length "33" is not a number from 0 to 32',
    null,
  ]);
  assert.match(problem("2001:db8::/129")[0]!, /from 0 to 128/);
  for (const bad of ["10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.0/ 8"]) {
    assert.match(problem(bad)[0]!, /prefix length/, bad);
  }
  assert.deepEqual(problem("10.0.0.1/8"), [
    "host bits are set after the /8 prefix",
    'write "10.0.0.0/8" for the network or "10.0.0.1/32" for the one address',
  ]);
  assert.deepEqual(problem("2001:db8::1/64"), [
    "host bits are set after the /64 prefix",
    'write "2001:db8::/64" for the network or "2001:db8::1/128" for the one address',
  ]);
});
