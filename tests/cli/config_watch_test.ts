/** The config file watch over a real directory: editors' renames, ConfigMap symlink swaps, debounce. */
import { assertEquals } from "../support/assert.ts";
import { concernsConfig, watchConfigFile } from "../../src/cli/config_watch.ts";

/** Counts `onChange` calls; `next()` resolves at the next one (bounded). */
function changes() {
  let count = 0;
  let waiter: PromiseWithResolvers<number> | null = null;
  return {
    onChange: () => {
      count++;
      waiter?.resolve(count);
      waiter = null;
    },
    next: (): Promise<number> => {
      waiter = Promise.withResolvers<number>();
      const { promise, reject } = waiter;
      const timer = setTimeout(() => reject(new Error("no change seen within 10 s")), 10_000);
      return promise.finally(() => clearTimeout(timer));
    },
  };
}

Deno.test("a file renamed over the config (as editors save) counts, once per burst", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, "a: 1\n");
  const seen = changes();
  const watch = watchConfigFile(path, seen.onChange, { debounceMs: 100 });
  try {
    let next = seen.next();
    for (let i = 0; i < 5; i++) {
      await Deno.writeTextFile(`${dir}/.config.yaml.swp`, `a: ${i}\n`);
      await Deno.rename(`${dir}/.config.yaml.swp`, path);
    }
    assertEquals(await next, 1); // five saves, several events each: one change
    next = seen.next();
    await Deno.writeTextFile(path, "a: 9\n"); // written in place
    assertEquals(await next, 2);
  } finally {
    watch.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Kubernetes ConfigMap update (..data symlink swap) counts", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/..2026_01`);
  await Deno.writeTextFile(`${dir}/..2026_01/config.yaml`, "a: 1\n");
  await Deno.symlink("..2026_01", `${dir}/..data`);
  await Deno.symlink("..data/config.yaml", `${dir}/config.yaml`);
  const seen = changes();
  const watch = watchConfigFile(`${dir}/config.yaml`, seen.onChange, { debounceMs: 50 });
  try {
    const next = seen.next();
    // What the kubelet does: a new timestamped directory, a temporary link, a rename over ..data.
    await Deno.mkdir(`${dir}/..2026_02`);
    await Deno.writeTextFile(`${dir}/..2026_02/config.yaml`, "a: 2\n");
    await Deno.symlink("..2026_02", `${dir}/..data_tmp`);
    await Deno.rename(`${dir}/..data_tmp`, `${dir}/..data`);
    await Deno.remove(`${dir}/..2026_01`, { recursive: true });
    assertEquals(await next, 1);
    assertEquals(await Deno.readTextFile(`${dir}/config.yaml`), "a: 2\n");
  } finally {
    watch.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("events on other files in the directory are ignored", () => {
  const cases: [string, boolean][] = [
    ["/etc/gh/config.yaml", true],
    ["/etc/gh/..data", true],
    ["/etc/gh/..data_tmp", true],
    ["/etc/gh/..2026_01_02_03_04_05.123", true],
    ["/etc/gh/other.yaml", false],
    ["/etc/gh/config.yaml.bak", false],
    ["/etc/gh/.config.yaml.swp", false],
    ["/etc/gh/4913", false],
  ];
  assertEquals(cases.map(([p]) => [p, concernsConfig(p, "config.yaml")]), cases);
});
