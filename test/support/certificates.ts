import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Throwaway certificates made at run time with openssl: a CA, a server certificate for 127.0.0.1 and
// localhost, and a client certificate, each as PEM files in a temp folder. Nothing secret is committed.

export interface Certificates {
  dir: string;
  /** PEM file paths. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): void;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA with a server and a client certificate it signed. `name` tells two CAs apart. */
export function makeCertificates(
  name = 'test',
  serverNames = ['IP:127.0.0.1', 'DNS:localhost'],
): Certificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `byok-certs-${name}-`));
  const file = (base: string) => path.join(dir, base);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} CA`,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  const issue = (base: string, subject: string, extensions: string) => {
    fs.writeFileSync(file(`${base}.ext`), extensions);
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.pem`,
    ]);
  };
  issue('server', '/CN=localhost', `subjectAltName=${serverNames.join(',')}\nextendedKeyUsage=serverAuth\n`);
  issue('client', `/CN=${name}-pipeline`, 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
