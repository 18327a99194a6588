// A worker whose script fails as it loads (as when the process may not read the real worker's
// source): the host must fail the plugin's load, not retry it forever.
throw new Error("broken worker script");
