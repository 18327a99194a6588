/**
 * Generated certificate authorities and server certificates for the pinned-CA tests (ECDSA
 * P-256, valid from a minute ago for a day unless told otherwise).
 */
import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs the Reflect polyfill loaded first.
import * as x509 from "@peculiar/x509";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY_MS = 86_400_000;

/** A CA: its certificate (PEM and DER) and its signing key. */
export interface TestCa {
  readonly name: string;
  readonly pem: string;
  readonly der: Uint8Array<ArrayBuffer>;
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

/** A server certificate issued by a CA, with its key (PEM, as `Deno.serve` takes them). */
export interface TestServerCert {
  /** The server's certificate, then any intermediates to send with it. */
  readonly cert: string;
  readonly key: string;
  readonly der: Uint8Array<ArrayBuffer>;
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, "0");

/**
 * A self-signed root CA, or an intermediate signed by `issuer`; `isCa: false` marks it as no CA
 * (basicConstraints cA false) while it still signs, for the tests that must refuse that.
 */
export async function makeCa(name: string, issuer?: TestCa, isCa = true): Promise<TestCa> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const extensions = [
    new x509.BasicConstraintsExtension(isCa, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const validity = {
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY_MS),
  };
  const cert = issuer === undefined
    ? await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(),
      name: `CN=${name}`,
      keys,
      signingAlgorithm: ALG,
      extensions,
      ...validity,
    })
    : await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject: `CN=${name}`,
      issuer: issuer.cert.subject,
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      signingAlgorithm: ALG,
      extensions,
      ...validity,
    });
  return { name, pem: cert.toString("pem"), der: new Uint8Array(cert.rawData), cert, keys };
}

/** What a server certificate names and when it is valid. */
export interface ServerCertOptions {
  /** SAN entries (default: IP 127.0.0.1 and DNS localhost). */
  readonly names?: readonly { type: "ip" | "dns"; value: string }[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Sent after the server's certificate (an intermediate's PEM). */
  readonly chain?: readonly string[];
}

/** A server certificate signed by `ca`. */
export async function serverCert(ca: TestCa, o: ServerCertOptions = {}): Promise<TestServerCert> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const names = o.names ??
    [{ type: "ip", value: "127.0.0.1" }, { type: "dns", value: "localhost" }];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: "CN=kube-apiserver",
    issuer: ca.cert.subject,
    notBefore: o.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: o.notAfter ?? new Date(Date.now() + DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension([...names]),
      new x509.BasicConstraintsExtension(false),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    cert: [cert.toString("pem"), ...(o.chain ?? [])].join("\n"),
    key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    der: new Uint8Array(cert.rawData),
  };
}
