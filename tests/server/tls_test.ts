import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { loadTlsMaterial, TlsError } from "../../src/server/tls.ts";
import { X509Certificate } from "node:crypto";

Deno.test("without cert files a self-signed certificate valid now is generated", async () => {
  const now = new Date("2026-01-02T03:04:05Z");
  const tls = await loadTlsMaterial({ certFile: null, keyFile: null }, undefined, now);
  assertEquals(tls.origin, "self-signed");
  assert(tls.key.includes("BEGIN PRIVATE KEY"));
  const cert = new X509Certificate(tls.cert);
  assert(new Date(cert.validFrom) <= now && now < new Date(cert.validTo));
  assert(cert.subjectAltName?.includes("DNS:localhost"));
});

Deno.test("configured PEM files are read as they are", async () => {
  const files: Record<string, string> = {
    "/c.pem": "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
    "/k.pem": "-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----\n",
  };
  const fs = { readTextFile: (p: string) => Promise.resolve(files[p]!) };
  const tls = await loadTlsMaterial({ certFile: "/c.pem", keyFile: "/k.pem" }, fs);
  assertEquals(tls, { cert: files["/c.pem"], key: files["/k.pem"], origin: "file" });
});

Deno.test("an unreadable or non-PEM file is an error naming the file and field", async () => {
  const fs = {
    readTextFile: (p: string) =>
      p === "/c.pem" ? Promise.resolve("not pem") : Promise.reject(new Error("No such file")),
  };
  const e1 = await assertRejects(
    () => loadTlsMaterial({ certFile: "/c.pem", keyFile: "/k.pem" }, fs),
    TlsError,
  );
  assert(e1.message.includes("tls.cert_file") && e1.message.includes("/c.pem"), e1.message);
  const e2 = await assertRejects(
    () => loadTlsMaterial({ certFile: "/missing.pem", keyFile: "/k.pem" }, fs),
    TlsError,
  );
  assert(e2.message.includes("/missing.pem") && e2.message.includes("No such file"), e2.message);
});
