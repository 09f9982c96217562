/** A throwaway CA, broker certificate (for 127.0.0.1) and client certificate, made with openssl. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { TempDir } from './store-fixtures.js';

export interface TlsFiles {
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  read(file: string): Buffer;
}

export function makeTlsFiles(tmp: TempDir): TlsFiles {
  const f = (name: string) => tmp.file(name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=lantian test CA',
  );
  const sign = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl(
      ...['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key')].concat([
        '-CAcreateserial',
        '-out',
        f(`${name}.pem`),
        '-days',
        '2',
        '-extfile',
        f(`${name}.ext`),
      ]),
    );
  };
  sign('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\n');
  sign('client', 'gw-tls', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: f('ca.pem'),
    serverKey: f('server.key'),
    serverCert: f('server.pem'),
    clientKey: f('client.key'),
    clientCert: f('client.pem'),
    read: (file) => readFileSync(file),
  };
}
