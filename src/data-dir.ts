import fs from 'node:fs';
import { ConfigError } from './config';

// The data folder (DATA_DIR) holds the embedded database with its sealed keys and, outside production,
// the generated JWT secret and master key. Nobody but the service's own user may read it: a folder we
// create is 0700, and a folder that already exists open to others stops start-up rather than being
// changed behind the operator's back (it may be a shared folder chosen by mistake).

export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(dir).mode & 0o777;
  if (mode & 0o077) {
    throw new ConfigError(
      'DATA_DIR',
      `${dir} is open to other users (mode ${mode.toString(8).padStart(3, '0')}) and will hold secrets: run chmod 700 "${dir}", or point DATA_DIR at a private folder`,
    );
  }
}

/** Creates the file empty with mode 0600 when it is missing, and makes an existing one 0600. */
export function ensurePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
}
