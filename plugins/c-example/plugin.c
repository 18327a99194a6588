// Example Gatehouse plugin in C (WASI reactor): denies the username "deny"; otherwise sends the
// player to play.example.com:5520 with referral content "wasm-plugin".
//
// Build: plugins/c-example/build.sh OUT.wasm
//   (clang --target=wasm32-wasi -O2 -mexec-model=reactor; Debian: clang lld wasi-libc
//    libclang-rt-14-dev-wasm32)

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("alloc") uint32_t plugin_alloc(uint32_t len) {
  return (uint32_t)(uintptr_t)malloc(len ? len : 1);
}

EXPORT("free") void plugin_free(uint32_t ptr, uint32_t len) {
  (void)len;
  free((void *)(uintptr_t)ptr);
}

// Optional extension: called once with wasm.config as JSON. Writing to stderr exercises the
// host's WASI stdio (the line lands in the router's log, tagged with the plugin name).
EXPORT("init") int32_t plugin_init(uint32_t ptr, uint32_t len) {
  (void)ptr;
  fprintf(stderr, "c-example ready (config %u bytes)\n", (unsigned)len);
  return 0;
}

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

// Whether the string value of key "username" equals `want`. A scanner, not a full JSON parser:
// good enough for the example, which only needs one field.
static int username_is(const char *json, size_t len, const char *want) {
  const char *end = json + len;
  const char *key = "\"username\"";
  size_t key_len = strlen(key);
  for (const char *p = json; p + key_len <= end; p++) {
    if (memcmp(p, key, key_len) != 0) continue;
    const char *v = skip_ws(p + key_len, end);
    if (v >= end || *v != ':') continue;
    v = skip_ws(v + 1, end);
    if (v >= end || *v != '"') return 0;
    v++;
    size_t want_len = strlen(want);
    return (size_t)(end - v) > want_len && memcmp(v, want, want_len) == 0 && v[want_len] == '"';
  }
  return 0;
}

static const char DENY[] = "{\"deny\":true,\"deny_reason\":\"denied by wasm plugin\"}";
// "d2FzbS1wbHVnaW4=" is base64 of "wasm-plugin".
static const char ROUTE[] =
    "{\"backend\":{\"host\":\"play.example.com\",\"port\":5520},"
    "\"referral_content\":\"d2FzbS1wbHVnaW4=\"}";

EXPORT("on_connect") uint64_t plugin_on_connect(uint32_t ptr, uint32_t len) {
  const char *answer = username_is((const char *)(uintptr_t)ptr, len, "deny") ? DENY : ROUTE;
  size_t n = strlen(answer);
  char *out = malloc(n);
  if (out == NULL) return 0;
  memcpy(out, answer, n);
  return ((uint64_t)(uintptr_t)out << 32) | (uint64_t)n;
}
