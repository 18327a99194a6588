/**
 * The check that makes a configured CA the only one trusted: whatever the TLS layer accepted
 * (Deno adds a `caCerts` bundle to the process's roots instead of replacing them), a server
 * certificate must chain to the configured CA before a request goes out on that connection
 * (`pinned.ts` runs it).
 */
import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs the Reflect polyfill loaded first.
import * as x509 from "@peculiar/x509";

/** Certificates between the server's and the CA: more is refused (a loop, or padding). */
const MAX_INTERMEDIATES = 8;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A CA bundle that holds no usable certificate; the message says which entry and why. */
export class CaBundleError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "CaBundleError";
  /** Always `ca_bundle`. */
  readonly code = "ca_bundle";
}

/** A configured CA bundle, parsed: the only anchors a pinned connection accepts. */
export class PinnedCa {
  readonly #anchors: readonly x509.X509Certificate[];

  /**
   * Parses the bundle's certificates (other PEM blocks, e.g. keys, are ignored).
   *
   * @throws {CaBundleError} when it holds no certificate or one cannot be parsed.
   */
  constructor(pem: string) {
    this.#anchors = parseCaBundle(pem);
  }

  /**
   * Why the server certificate `chain` (DER, the server's own first, then whatever the TLS
   * layer reports above it) is not acceptable for `host` at `now`, or `null` when it is: the
   * server's certificate is valid now, names `host`, and is signed by a certificate of the
   * bundle directly or through valid CA certificates of the chain. A bundle certificate
   * presented as the server's own (a self-signed server named as its own CA) is accepted too.
   */
  problem(
    chain: readonly Uint8Array<ArrayBuffer>[],
    host: string,
    now: Date,
  ): Promise<string | null> {
    return chainProblem(chain, this.#anchors, host, now);
  }
}

function parseCaBundle(pem: string): readonly x509.X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new CaBundleError("holds no PEM certificate");
  return blocks.map((block, i) => {
    try {
      return new x509.X509Certificate(block);
    } catch (err) {
      throw new CaBundleError(`certificate ${i + 1} cannot be parsed: ${errorText(err)}`);
    }
  });
}

async function chainProblem(
  chain: readonly Uint8Array<ArrayBuffer>[],
  anchors: readonly x509.X509Certificate[],
  host: string,
  now: Date,
): Promise<string | null> {
  const [leafDer, ...rest] = chain;
  if (leafDer === undefined) return "the server presented no certificate";
  let leaf: x509.X509Certificate;
  try {
    leaf = new x509.X509Certificate(leafDer);
  } catch {
    return "the server's certificate cannot be parsed";
  }
  const dates = validityProblem(leaf, now);
  if (dates !== null) return `the server's certificate ${dates}`;
  if (!namesHost(leaf, host)) return `the server's certificate is not valid for ${host}`;
  const candidates = rest.flatMap((der) => {
    try {
      return [new x509.X509Certificate(der)];
    } catch {
      return []; // an unreadable extra certificate cannot be part of an accepted path
    }
  });
  if (await reachesAnchor(leaf, candidates, anchors, now)) return null;
  return "the server's certificate is not issued by the configured CA";
}

/** Walks issuer links from `cert` through `candidates` until an anchor signed one. */
async function reachesAnchor(
  cert: x509.X509Certificate,
  candidates: readonly x509.X509Certificate[],
  anchors: readonly x509.X509Certificate[],
  now: Date,
): Promise<boolean> {
  let current = cert;
  for (let depth = 0; depth <= MAX_INTERMEDIATES; depth++) {
    // A pinned certificate itself (often a self-signed server certificate) is trusted as it is;
    // one that signs must be a CA certificate and valid now, as for any issuer.
    if (anchors.some((a) => sameCertificate(a, current))) return true;
    for (const anchor of anchors) {
      if (isUsableCa(anchor, now) && await signedBy(current, anchor)) return true;
    }
    let next: x509.X509Certificate | null = null;
    for (const c of candidates) {
      if (!sameCertificate(c, current) && isUsableCa(c, now) && await signedBy(current, c)) {
        next = c;
        break;
      }
    }
    if (next === null) return false;
    current = next;
  }
  return false;
}

async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate) {
  if (cert.issuer !== issuer.subject) return false;
  try {
    return await cert.verify({ publicKey: issuer, signatureOnly: true });
  } catch {
    return false;
  }
}

/** An intermediate must be a CA (basicConstraints cA) and valid now. */
function isUsableCa(cert: x509.X509Certificate, now: Date): boolean {
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  return basic !== null && basic.ca && validityProblem(cert, now) === null;
}

function validityProblem(cert: x509.X509Certificate, now: Date): string | null {
  if (now < cert.notBefore) return `is not valid before ${cert.notBefore.toISOString()}`;
  if (now > cert.notAfter) return `expired at ${cert.notAfter.toISOString()}`;
  return null;
}

function sameCertificate(a: x509.X509Certificate, b: x509.X509Certificate): boolean {
  const x = new Uint8Array(a.rawData);
  const y = new Uint8Array(b.rawData);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

/**
 * Whether the certificate's subjectAltName covers `host`: an IP literal matches an IP entry, a
 * name matches a DNS entry exactly or through one leading `*.` label (case-insensitive). The
 * common name is not consulted (Go's TLS stack, which the API server uses, ignores it too).
 */
function namesHost(cert: x509.X509Certificate, host: string): boolean {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (san === null) return false;
  const bare = host.replace(/^\[|\]$/g, "");
  const ip = canonicalIp(bare);
  const name = bare.toLowerCase().replace(/\.$/, "");
  return san.names.items.some((entry) => {
    if (entry.type === "ip") return ip !== null && canonicalIp(entry.value) === ip;
    if (entry.type !== "dns" || ip !== null) return false;
    const pattern = entry.value.toLowerCase().replace(/\.$/, "");
    if (!pattern.startsWith("*.")) return pattern === name;
    const dot = name.indexOf(".");
    return dot > 0 && name.slice(dot) === pattern.slice(1);
  });
}

/** The canonical text of an IPv4 or IPv6 literal, or `null` for anything else. */
function canonicalIp(text: string): string | null {
  if (/^[0-9.]+$/.test(text)) {
    const parts = text.split(".");
    if (parts.length !== 4 || parts.some((p) => p === "" || Number(p) > 255)) return null;
    return parts.map(Number).join(".");
  }
  if (!text.includes(":")) return null;
  try {
    return new URL(`http://[${text}]/`).hostname;
  } catch {
    return null;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
