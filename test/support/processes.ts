import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The compiled entry points, run as a user runs them. `npm test` builds dist/ first (pretest).

export const ROOT = path.resolve(__dirname, '../..');

export function distEntry(relative: string): string {
  const file = path.join(ROOT, 'dist/src', relative);
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  return file;
}

export function runNode(relative: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [distEntry(relative), ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts dist/src/main.js and resolves once it logs the address it listens on. */
export function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [distEntry('main.js')], {
    env: { PATH: process.env.PATH, PORT: '0', ...env },
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening:\n${output}`));
    });
  });
}
