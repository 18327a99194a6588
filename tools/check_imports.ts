/**
 * `deno run --allow-read tools/check_imports.ts [SRC_DIR]`: keeps `src/`'s folder structure
 * honest (CONTRIBUTING.md). It reads the relative `import`/`export … from`/`import("…")`
 * specifiers of every `.ts` file under `src/` (type-only imports included: they couple folders
 * just the same) and fails, listing each problem, when
 *
 * - the folders import each other in a cycle. A folder is the first path segment under `src/`;
 *   `plugins/wasm/` and `plugins/grpc/` count as part of `plugins/`: they implement the transport
 *   contract `plugins/transport.ts` defines and `plugins/factory.ts` builds them, so counted
 *   apart they would form a cycle with `plugins/` by construction — they are one concern with two
 *   transports;
 * - a file imports another folder's file that is not one of that folder's entries. A folder's
 *   entries are its `mod.ts` and its sub-folders' `mod.ts` (`plugins/wasm/mod.ts`,
 *   `plugins/grpc/mod.ts`: the transports load lazily, so a router without such a plugin loads
 *   none of their code). Inside a folder, sub-folders included, any file may import any other.
 *
 * A deliberate exception to the entry rule is listed in {@link ALLOWED} with its reason; an
 * entry that no longer matches an import is itself reported, so the list cannot go stale.
 *
 * @module
 */

/** One relative import between two files under `src/`, paths relative to `src/`. */
export interface ImportEdge {
  /** The importing file, e.g. `cli/mod.ts`. */
  readonly from: string;
  /** The imported file, e.g. `config/mod.ts`. */
  readonly to: string;
}

/** Imports that may bypass the entry rule, and why. */
export const ALLOWED: readonly (ImportEdge & { readonly why: string })[] = [
  {
    from: "plugins/wasm/process_child.ts",
    to: "observability/logger.ts",
    why: "the plugin's child process runs with --no-npm and no permissions; the observability " +
      "barrel pulls in prom-client (npm), the logger module alone does not",
  },
];

/**
 * The specifiers a module imports or re-exports: `import … from "x"`, `import "x"`,
 * `export … from "x"` and `import("x")` with a literal. Comments, strings and template
 * literals are skipped as tokens, so text that merely looks like an import is not one.
 */
export function importSpecifiers(source: string): string[] {
  const tokens = tokenize(source);
  const found: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== "word" || (t.text !== "import" && t.text !== "export")) continue;
    const next = tokens[i + 1];
    if (next === undefined || (next.kind === "punct" && next.text === ".")) continue; // import.meta
    if (t.text === "import" && next.kind === "string") {
      found.push(next.text);
      continue;
    }
    if (t.text === "import" && next.text === "(") {
      const arg = tokens[i + 2];
      if (arg?.kind === "string" && tokens[i + 3]?.text === ")") found.push(arg.text);
      continue;
    }
    // `import|export … from "x"`: `from` then a string, before the statement's `;`.
    for (let j = i + 1; j < tokens.length && tokens[j]!.text !== ";"; j++) {
      const u = tokens[j]!;
      if (u.kind === "word" && (u.text === "import" || u.text === "export")) break;
      if (u.kind === "word" && u.text === "from" && tokens[j + 1]?.kind === "string") {
        found.push(tokens[j + 1]!.text);
        break;
      }
      if (u.kind === "word" && DECLARATION.has(u.text)) break; // `export const x = …`
    }
  }
  return found;
}

interface Token {
  readonly kind: "word" | "string" | "punct";
  /** The word, the punctuator, or a string literal's raw content (template: empty). */
  readonly text: string;
}

/** Words that make an `export` a declaration rather than a re-export. */
const DECLARATION = new Set([
  "abstract",
  "async",
  "class",
  "const",
  "declare",
  "default",
  "enum",
  "function",
  "interface",
  "let",
  "namespace",
  "var",
]);

/** Words after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORD = new Set(["return", "typeof", "case", "do", "else", "in", "of", "void"]);

/** A lexer just good enough to find import specifiers: words, strings, punctuators. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const s = source;
  let i = 0;
  // Template nesting: for each open `${`, the brace depth at which it closes.
  const templates: number[] = [];
  let depth = 0;
  const regexAllowed = () => {
    const last = tokens[tokens.length - 1];
    if (last === undefined) return true;
    if (last.kind === "word") return REGEX_AFTER_WORD.has(last.text);
    return last.kind === "punct" && !")]}".includes(last.text);
  };
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) i++;
    else if (s.startsWith("//", i)) i = lineEnd(s, i);
    else if (s.startsWith("/*", i)) i = blockCommentEnd(s, i);
    else if (c === '"' || c === "'") {
      const end = quoteEnd(s, i, c);
      tokens.push({ kind: "string", text: s.slice(i + 1, end - 1) });
      i = end;
    } else if (c === "`" || (c === "}" && templates.at(-1) === depth)) {
      if (c === "}") templates.pop();
      const end = templateEnd(s, i + 1);
      if (s.startsWith("${", end - 2)) templates.push(depth);
      else tokens.push({ kind: "string", text: "" });
      i = end;
    } else if (c === "/" && regexAllowed()) i = regexEnd(s, i);
    else if (/[\w$]/.test(c)) {
      const m = /^[\w$]+/.exec(s.slice(i, i + 256))!;
      tokens.push({ kind: "word", text: m[0] });
      i += m[0].length;
    } else {
      if (c === "{") depth++;
      if (c === "}") depth--;
      tokens.push({ kind: "punct", text: c });
      i++;
    }
  }
  return tokens;
}

function lineEnd(s: string, from: number): number {
  const end = s.indexOf("\n", from);
  return end < 0 ? s.length : end;
}

function blockCommentEnd(s: string, from: number): number {
  const end = s.indexOf("*/", from + 2);
  return end < 0 ? s.length : end + 2;
}

/** The index after a quoted string starting at `from`. */
function quoteEnd(s: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < s.length && s[i] !== quote && s[i] !== "\n") i += s[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** The index after a template chunk's closing backtick or its next `${`. */
function templateEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && s[i] !== "`" && !s.startsWith("${", i)) i += s[i] === "\\" ? 2 : 1;
  return s[i] === "`" ? i + 1 : i + 2;
}

/** The index after a regular expression literal (its flags included). */
function regexEnd(s: string, from: number): number {
  let i = from + 1;
  let inClass = false;
  while (i < s.length && s[i] !== "\n" && (inClass || s[i] !== "/")) {
    if (s[i] === "[") inClass = true;
    else if (s[i] === "]") inClass = false;
    i += s[i] === "\\" ? 2 : 1;
  }
  i++;
  while (i < s.length && /\w/.test(s[i]!)) i++;
  return i;
}

/** The folder of a path relative to `src/`: its first segment (`plugins/wasm/x.ts` → `plugins`). */
export function folderOf(path: string): string {
  return path.split("/")[0]!;
}

/** Resolves a relative specifier against the importing file; both relative to `src/`. */
export function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return null;
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/**
 * The cycles of a directed graph: one per strongly connected component of two or more nodes, as
 * a shortest closed path from the component's first node in sorted order (`[a, b, a]`). Self
 * loops are not cycles here: a folder importing itself is the normal case.
 */
export function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  return stronglyConnected(graph)
    .filter((component) => component.length > 1)
    .map((component) => {
      const members = new Set(component);
      const start = [...component].sort()[0]!;
      return shortestCycle(graph, members, start);
    });
}

/** Tarjan's algorithm, iterative over each node's successors in insertion order. */
function stronglyConnected(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let top = stack.pop()!;; top = stack.pop()!) {
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    components.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}

/** Breadth-first from `start` back to itself, staying inside `members`. */
function shortestCycle(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  members: ReadonlySet<string>,
  start: string,
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path: string[] = [];
        for (let at = node; at !== start; at = previous.get(at)!) path.unshift(at);
        return [start, ...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start]; // unreachable for a component of two or more nodes
}

/** Whether `to` may be imported from `from` under the entry rule (see the module comment). */
export function isEntryImport(edge: ImportEdge): boolean {
  return folderOf(edge.from) === folderOf(edge.to) || edge.to.endsWith("/mod.ts");
}

/**
 * Every problem with a set of import edges: folder cycles (each with the imports that make it
 * up) and imports of another folder's internal file. Empty when all is well.
 */
export function importProblems(
  edges: readonly ImportEdge[],
  allowed: readonly ImportEdge[] = ALLOWED,
): string[] {
  const problems: string[] = [];
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const [a, b] = [folderOf(from), folderOf(to)];
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    if (a !== b) graph.get(a)!.add(b);
  }
  for (const cycle of findCycles(graph)) {
    const links = cycle.slice(1).map((to, i) => {
      const from = cycle[i]!;
      const via = edges.filter((e) => folderOf(e.from) === from && folderOf(e.to) === to);
      return `  ${from} -> ${to}: ${via.map((e) => `${e.from} imports ${e.to}`).join("; ")}`;
    });
    problems.push(`folder cycle ${cycle.join(" -> ")}\n${links.join("\n")}`);
  }
  const same = (a: ImportEdge, b: ImportEdge) => a.from === b.from && a.to === b.to;
  for (const edge of edges) {
    if (isEntryImport(edge) || allowed.some((a) => same(a, edge))) continue;
    const entry = `${folderOf(edge.to)}/mod.ts`;
    problems.push(`${edge.from} imports ${edge.to}: outside ${entry}, import only a mod.ts`);
  }
  for (const a of allowed) {
    if (!edges.some((e) => same(a, e))) {
      problems.push(`stale ALLOWED entry: ${a.from} no longer imports ${a.to}`);
    }
  }
  return problems;
}

/** Reads every `.ts` file under `srcDir` and returns its relative import edges. */
export async function readImportEdges(srcDir: string): Promise<ImportEdge[]> {
  const edges: ImportEdge[] = [];
  const walk = async (dir: string) => {
    const entries = [];
    for await (const entry of Deno.readDir(`${srcDir}/${dir}`)) entries.push(entry);
    entries.sort((a, b) => a.name < b.name ? -1 : 1);
    for (const entry of entries) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && path.endsWith(".ts")) {
        const source = await Deno.readTextFile(`${srcDir}/${path}`);
        for (const specifier of importSpecifiers(source)) {
          const to = resolveSpecifier(path, specifier);
          if (to !== null) edges.push({ from: path, to });
        }
      }
    }
  };
  await walk("");
  return edges;
}

if (import.meta.main) {
  const srcDir = Deno.args[0] ?? new URL("../src", import.meta.url).pathname;
  const edges = await readImportEdges(srcDir.replace(/\/$/, ""));
  const problems = importProblems(edges);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`check_imports: ${problems.length} problem(s) in ${srcDir}`);
    Deno.exit(1);
  }
  console.log(`check_imports: ${edges.length} imports, no folder cycle, only mod.ts entries`);
}
