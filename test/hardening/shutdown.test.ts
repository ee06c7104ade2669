import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runNode, startServiceProcess } from '../support/processes';

// SIGTERM in the middle of traffic: every request the service took in gets its answer, then it exits 0.

describe('SIGTERM under load', () => {
  it('answers every request it accepted, refuses new ones, and exits 0', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-shutdown-'));
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const service = await startServiceProcess(env);
    const token = runNode(
      'cli/token.js',
      ['--user', 'user_alice', '--account', 'acct_acme'],
      env,
    ).stdout.trim();
    let answered = 0;
    const failures: string[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        try {
          const response = await fetch(`${service.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ query: 'query Me { me { role } providerKeys { id } }' }),
          });
          const body: any = await response.json();
          if (response.status !== 200 || body.data?.me?.role !== 'ADMIN')
            failures.push(`${response.status} ${JSON.stringify(body)}`);
          else answered += 1;
        } catch {
          stop = true; // the listener is closed: new connections are refused, as they should be
        }
      }
    };
    try {
      const clients = Array.from({ length: 16 }, client);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      service.child.kill('SIGTERM');
      const exitCode = await service.exited;
      stop = true;
      await Promise.all(clients);

      expect(exitCode).toBe(0);
      expect(failures).toEqual([]);
      // What the service logged as answered is exactly what the clients received: nothing lost in the drain.
      const logged = service
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"graphql operation"'));
      expect(logged.every((line) => line.includes('"outcome":"OK"'))).toBe(true);
      expect(answered).toBeGreaterThan(50);
      expect(logged.length).toBe(answered);
      expect(service.output()).toContain('draining in-flight requests');
    } finally {
      service.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
