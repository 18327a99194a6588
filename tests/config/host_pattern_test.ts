import assert from "node:assert/strict";
import { compileHostPattern, validatePattern } from "../../src/config/host_pattern.ts";

// [pattern, name, matches] — Go's `path.Match` semantics, incl. its documented edge cases.
const PATH_MATCH_CASES: readonly (readonly [string, string, boolean])[] = [
  ["abc", "abc", true],
  ["*", "abc", true],
  ["*c", "abc", true],
  ["a*", "a", true],
  ["a*", "abc", true],
  ["a*", "ab/c", false],
  ["a*/b", "abc/b", true],
  ["a*/b", "a/c/b", false],
  ["a*b*c*d*e*/f", "axbxcxdxe/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false],
  ["a*b?c*x", "abxbbxdbxebxczzx", true],
  ["a*b?c*x", "abxbbxdbxebxczzy", false],
  ["ab[c]", "abc", true],
  ["ab[b-d]", "abc", true],
  ["ab[e-g]", "abc", false],
  ["ab[^c]", "abc", false],
  ["ab[^b-d]", "abc", false],
  ["ab[^e-g]", "abc", true],
  ["a\\*b", "a*b", true],
  ["a\\*b", "ab", false],
  ["a?b", "a☺b", true],
  ["a[^a]b", "a☺b", true],
  ["a???b", "a☺b", false],
  ["a[^a][^a][^a]b", "a☺b", false],
  ["[a-ζ]*", "α", true],
  ["*[a-ζ]", "A", false],
  ["a?b", "a/b", false],
  ["a*b", "a/b", false],
  ["[\\]a]", "]", true],
  ["[\\-]", "-", true],
  ["[x\\-]", "x", true],
  ["[x\\-]", "-", true],
  ["[x\\-]", "z", false],
  ["[\\-x]", "x", true],
  ["[\\-x]", "-", true],
  ["[\\-x]", "a", false],
  ["*x", "xxx", true],
  ["[z-a]", "m", false],
  ["a]b", "a]b", true],
  // A class may match "/", unlike "?" and "*".
  ["a[^x]b", "a/b", true],
  // Go commits each chunk to its leftmost match: "a[^z]" takes "aa", leaving "/" for the
  // trailing star. A backtracking matcher would take "a/" and say true.
  ["*a[^z]*", "aa/", false],
  ["*a[^z]*", "ab", true],
  // Code points above U+FFFF are one character.
  ["?", "😀", true],
  ["a?", "a😀", true],
  ["[😀-😂]", "😁", true],
  ["[^😀]", "😁", true],
];

Deno.test("glob: path.Match semantics", () => {
  for (const [pattern, name, want] of PATH_MATCH_CASES) {
    assert.equal(compileHostPattern(pattern)(name), want, `${pattern} vs ${name}`);
  }
});

Deno.test("glob: hostname wildcards", () => {
  const sub = compileHostPattern("*.example.com");
  assert.equal(sub("a.example.com"), true);
  assert.equal(sub("a.b.example.com"), true, "no / in a hostname, so * spans dots");
  assert.equal(sub("example.com"), false);
  assert.equal(sub("aexample.com"), false);
  assert.equal(sub("a.example.com.evil"), false);
  assert.equal(sub(".example.com"), true, "* matches the empty run");

  const two = compileHostPattern("play-??.example.com");
  assert.equal(two("play-eu.example.com"), true);
  assert.equal(two("play-e.example.com"), false);
  assert.equal(two("play-eu1.example.com"), false);

  const cls = compileHostPattern("[a-c]*.example.com");
  assert.equal(cls("b1.example.com"), true);
  assert.equal(cls("d1.example.com"), false);

  const notEu = compileHostPattern("[^e]*.example.com");
  assert.equal(notEu("us.example.com"), true);
  assert.equal(notEu("eu.example.com"), false);
});

Deno.test("glob: escapes match the character literally", () => {
  const star = compileHostPattern("a\\*.example.com");
  assert.equal(star("a*.example.com"), true);
  assert.equal(star("ab.example.com"), false);
  const q = compileHostPattern("a\\?");
  assert.equal(q("a?"), true);
  assert.equal(q("ab"), false);
  assert.equal(compileHostPattern("\\[a]")("[a]"), true);
  assert.equal(compileHostPattern("\\[a]")("a"), false);
  assert.equal(compileHostPattern("a\\.b")("a.b"), true);
});

Deno.test("glob: empty pattern or host never matches", () => {
  assert.equal(compileHostPattern("")(""), false);
  assert.equal(compileHostPattern("")("a"), false);
  assert.equal(compileHostPattern("*")(""), false);
  assert.equal(compileHostPattern("*")("a"), true);
});

Deno.test("glob: equal strings match even where the glob would not", () => {
  // The Go router compares pattern and host before calling path.Match.
  assert.equal(compileHostPattern("[ab]")("[ab]"), true);
  assert.equal(compileHostPattern("[ab]")("a"), true);
  // A malformed pattern matches only itself.
  assert.equal(compileHostPattern("a[")("a["), true);
  assert.equal(compileHostPattern("a[")("a"), false);
  assert.equal(compileHostPattern("a[*")("ab"), false);
});

Deno.test("glob: matching is exact on case (inputs arrive lower-cased)", () => {
  assert.equal(compileHostPattern("*.example.com")("A.EXAMPLE.COM"), false);
});

Deno.test("validatePattern: malformed patterns are named", () => {
  const malformed = [
    "[]a]",
    "[-]",
    "[x-]",
    "[-x]",
    "\\",
    "ab\\",
    "[a-b-c]",
    "[",
    "[^",
    "[^bc",
    "a[",
    "a/b[",
    "[^]",
    "[]",
    "[a-\\",
    "*.[a",
  ];
  for (const p of malformed) {
    const problem = validatePattern(p);
    assert.equal(typeof problem, "string", `${p} should be malformed`);
    assert.ok(problem !== null && problem.length > 0);
  }
  assert.match(validatePattern("*.[a") ?? "", /"\[" at offset 2 is not closed/);
  assert.match(validatePattern("[]") ?? "", /is empty/);
  assert.match(validatePattern("ab\\") ?? "", /escape/);
});

Deno.test("validatePattern: well-formed patterns pass", () => {
  const ok = ["", "*.example.com", "[\\]a]", "[a-z]", "\\*", "[^a]", "a]b", "[z-a]", "**", "a-b"];
  for (const p of ok) assert.equal(validatePattern(p), null, p);
});
