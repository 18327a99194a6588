import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs the Reflect polyfill loaded first.
import * as x509 from "@peculiar/x509";

/** PEM certificate chain and private key, as `Deno.QuicEndpoint.listen` takes them. */
export interface TlsMaterial {
  /** PEM certificate chain. */
  readonly cert: string;
  /** PEM private key of the certificate. */
  readonly key: string;
  /** `"file"` when read from `tls.cert_file`/`tls.key_file`, else `"self-signed"`. */
  readonly origin: "file" | "self-signed";
}

/** A certificate or key file could not be used; names the file. */
export class TlsError extends Error {
  /** `tls_read`: the file could not be read; `tls_pem`: it holds no PEM block of the right kind. */
  readonly code: "tls_read" | "tls_pem";
  /** The file's path as configured. */
  readonly file: string;
  /** `message` names the config field and the file. */
  constructor(code: "tls_read" | "tls_pem", file: string, message: string) {
    super(message);
    this.name = "TlsError";
    this.code = code;
    this.file = file;
  }
}

/** File reading, injectable for tests. */
export interface TextFileReader {
  /** Reads the whole file as UTF-8 text. */
  readTextFile(path: string): Promise<string>;
}

/** How long a generated development certificate is valid (clients do not pin it). */
export const SELF_SIGNED_VALIDITY_MS = 30 * 24 * 3600 * 1000;

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/**
 * The certificate to serve: the configured PEM pair, or a fresh self-signed one when neither
 * file is configured.
 */
export async function loadTlsMaterial(
  tls: { readonly certFile: string | null; readonly keyFile: string | null },
  fs: TextFileReader = Deno,
  now: Date = new Date(),
): Promise<TlsMaterial> {
  if (tls.certFile === null || tls.keyFile === null) return await generateSelfSigned(now);
  const cert = await readPem(fs, tls.certFile, "tls.cert_file", /-----BEGIN CERTIFICATE-----/);
  const key = await readPem(fs, tls.keyFile, "tls.key_file", /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  return { cert, key, origin: "file" };
}

async function readPem(
  fs: TextFileReader,
  file: string,
  field: string,
  marker: RegExp,
): Promise<string> {
  let text: string;
  try {
    text = await fs.readTextFile(file);
  } catch (err) {
    throw new TlsError("tls_read", file, `${field}: cannot read ${file}: ${errorText(err)}`);
  }
  if (!marker.test(text)) {
    throw new TlsError("tls_pem", file, `${field}: ${file} holds no PEM block matching ${marker}`);
  }
  return text;
}

/** A self-signed ECDSA P-256 certificate for development (CN gatehouse-dev, SAN localhost). */
export async function generateSelfSigned(now: Date = new Date()): Promise<TlsMaterial> {
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = serial[0]! & 0x7f; // a positive INTEGER
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Array.from(serial, (b) => b.toString(16).padStart(2, "0")).join(""),
    name: "CN=gatehouse-dev",
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + SELF_SIGNED_VALIDITY_MS),
    keys,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
      ]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    cert: certificate.toString("pem"),
    key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    origin: "self-signed",
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
