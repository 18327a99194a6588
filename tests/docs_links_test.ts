/**
 * Citations of the reference docs point at something that exists. In code and config
 * (`docs/plugins.md §2 "Chain semantics"`) the file must exist in `docs/`, a cited `§N.M` must be
 * a numbered heading of it, and a quoted title after the number must start that heading's title.
 * The docs' own references (`[plugins.md](plugins.md) §5.5`, or `§4.2` for the same document) are
 * held to the same rule. No file cites the specs that used to live outside the repository.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const DOCS = new URL("docs/", ROOT);
/** Folders whose files may cite the docs. */
const CITING = ["src", "tests", "bench", "tools", "plugins", "dev", "deploy"];
const TEXT_FILE = /\.(ts|js|json|ya?ml|md|sh|wat|c|h|rs|toml)$/;
const SKIPPED_DIRS = new Set(["node_modules", "target", "build", ".git"]);
/** This file: its examples of broken citations are there on purpose. */
const SELF = "tests/docs_links_test.ts";

/** `docs/x.md`, optionally `§N.M`, optionally a quoted title; not "Hyrouter's docs/…". */
const CODE_CITATION =
  /(?<!Hyrouter's )docs\/([a-z_]+\.md)(?:\s*§(\d+(?:\.\d+)*)(?:\s+"([^"]+)")?)?/g;
/** A run of section numbers (`§2`, `§2.3 and §3.1`, `§1, §2`), optionally after a link. */
const DOC_REFERENCE =
  /(?:\]\(([a-z_]+\.md)\)\s*)?§(\d+(?:\.\d+)*(?:(?:,\s*|\s+and\s+|\s+or\s+)§\d+(?:\.\d+)*)*)/g;
/** The names of the retired external specs, as a citation would spell them. */
const RETIRED = /\b(?:PROTOCOL|CONFIG|PLUGINS|DISCOVERY|PROCESS_PLUGINS)\.md\b/;
/** `## 4.2 Title` or `## 4. Title`. */
const NUMBERED_HEADING = /^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s+(.+)$/;

interface Citation {
  readonly where: string;
  readonly doc: string;
  readonly section: string | null;
  readonly title: string | null;
}

async function* textFiles(dir: URL, rel: string): AsyncGenerator<[string, string]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = `${rel}/${entry.name}`;
    if (entry.isDirectory && !SKIPPED_DIRS.has(entry.name)) {
      yield* textFiles(new URL(`${entry.name}/`, dir), path);
    } else if (entry.isFile && TEXT_FILE.test(entry.name) && path !== SELF) {
      yield [path, await Deno.readTextFile(new URL(entry.name, dir))];
    }
  }
}

/** A comment wrapped over lines (`//`, ` * `, `#`) read as one line, so citations can wrap. */
function unwrapComments(text: string): string {
  return text.replace(/\s*\n\s*(?:\/\/|\*|#)?\s*/g, " ");
}

/** Section number → heading title (backticks removed) of every numbered heading in a doc. */
async function headings(doc: string): Promise<Map<string, string> | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(new URL(doc, DOCS));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = NUMBERED_HEADING.exec(line);
    if (m) out.set(m[1]!, m[2]!.replaceAll("`", "").trim());
  }
  return out;
}

function codeCitations(where: string, text: string): Citation[] {
  return [...unwrapComments(text).matchAll(CODE_CITATION)].map((m) => ({
    where,
    doc: m[1]!,
    section: m[2] ?? null,
    title: m[3] ?? null,
  }));
}

function docReferences(doc: string, text: string): Citation[] {
  // Code-style citations (docs/README.md shows one) are checked as such, not as references.
  const prose = unwrapComments(text).replace(CODE_CITATION, "");
  return [...prose.matchAll(DOC_REFERENCE)].flatMap((m) =>
    [...m[2]!.matchAll(/\d+(?:\.\d+)*/g)].map((n) => ({
      where: `docs/${doc}`,
      doc: m[1] ?? doc,
      section: n[0],
      title: null,
    }))
  );
}

async function problems(citations: readonly Citation[]): Promise<string[]> {
  const found: string[] = [];
  const cache = new Map<string, Map<string, string> | null>();
  for (const c of citations) {
    if (!cache.has(c.doc)) cache.set(c.doc, await headings(c.doc));
    const sections = cache.get(c.doc);
    const cited = `docs/${c.doc}${c.section ? ` §${c.section}` : ""}`;
    if (!sections) {
      found.push(`${c.where}: ${cited}: no such file`);
    } else if (c.section !== null && !sections.has(c.section)) {
      found.push(`${c.where}: ${cited}: no heading numbered ${c.section}`);
    } else if (c.section !== null && c.title !== null) {
      const heading = sections.get(c.section)!;
      if (!heading.toLowerCase().startsWith(c.title.toLowerCase())) {
        found.push(`${c.where}: ${cited} "${c.title}": the heading is "${heading}"`);
      }
    }
  }
  return found;
}

Deno.test("docs: every docs/*.md citation in code and config names an existing file and section", async () => {
  const citations: Citation[] = [];
  for (const dir of CITING) {
    for await (const [path, text] of textFiles(new URL(`${dir}/`, ROOT), dir)) {
      citations.push(...codeCitations(path, text));
    }
  }
  // Guards the scan itself: the codebase cites the docs in dozens of places.
  assert.ok(citations.length >= 20, `only ${citations.length} citations found`);
  assert.deepEqual(await problems(citations), []);
});

Deno.test("docs: every section reference inside docs/ resolves", async () => {
  const citations: Citation[] = [];
  for await (const [path, text] of textFiles(DOCS, "docs")) {
    const doc = path.slice("docs/".length);
    citations.push(...codeCitations(path, text), ...docReferences(doc, text));
  }
  assert.ok(citations.length >= 20, `only ${citations.length} references found`);
  assert.deepEqual(await problems(citations), []);
});

Deno.test("docs: nothing cites the retired external spec files", async () => {
  const stale: string[] = [];
  for (const dir of CITING) {
    for await (const [path, text] of textFiles(new URL(`${dir}/`, ROOT), dir)) {
      text.split("\n").forEach((line, i) => {
        if (RETIRED.test(line)) stale.push(`${path}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(stale, []);
});

Deno.test("docs: the citation checks catch a missing file, section and title", async () => {
  const found = await problems([
    ...codeCitations(
      "a.ts",
      '// see docs/nowhere.md and docs/plugins.md §99\n// and docs/plugins.md §2 "Wrong title"',
    ),
    ...docReferences("plugins.md", "as [protocol.md](protocol.md) §2.3 and §2 say, and §42"),
  ]);
  assert.deepEqual(found, [
    "a.ts: docs/nowhere.md: no such file",
    "a.ts: docs/plugins.md §99: no heading numbered 99",
    'a.ts: docs/plugins.md §2 "Wrong title": the heading is "Chain semantics"',
    "docs/plugins.md: docs/protocol.md §2.3: no heading numbered 2.3",
    "docs/plugins.md: docs/plugins.md §42: no heading numbered 42",
  ]);
});
