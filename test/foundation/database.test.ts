import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MeDocument } from '../generated/graphql';
import { freshMysqlUrl, MYSQL_SERVER_URL } from '../support/mysql';
import { startTcpProxy } from '../support/tcp-proxy';
import { DATABASES, startTestApp, TestApp } from '../support/test-app';
import { Account } from '../../src/accounts/account.entity';
import { Membership } from '../../src/accounts/membership.entity';
import { DEMO_ACCOUNTS, DEMO_MEMBERSHIPS, seedDemo } from '../../src/accounts/demo-seed';

describe.each(DATABASES)('migrations and seed [%s]', (database) => {
  it('leave the schema exactly as the entities describe it, and seeding twice changes nothing', async () => {
    const app = await startTestApp(database);
    try {
      const pending = await app.dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
      await seedDemo(app.dataSource);
      await seedDemo(app.dataSource);
      expect(await app.dataSource.getRepository(Account).count()).toBe(DEMO_ACCOUNTS.length);
      expect(await app.dataSource.getRepository(Membership).count()).toBe(DEMO_MEMBERSHIPS.length);
      expect(await app.dataSource.showMigrations()).toBe(false);
    } finally {
      await app.stop();
    }
  });
});

describe('MySQL over a Unix socket', () => {
  it('connects through DATABASE_URL ?socket=, never to the host and port of the URL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-socket-'));
    const socketPath = path.join(dir, 'mysqld.sock');
    const server = new URL(MYSQL_SERVER_URL);
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 3306), socketPath);
    // Port 1 refuses connections: the service can only have reached MariaDB through the socket.
    const url = new URL(freshMysqlUrl());
    url.host = '127.0.0.1:1';
    let app: TestApp | undefined;
    try {
      app = await startTestApp('mariadb', { databaseUrl: `${url.toString()}?socket=${socketPath}` });
      const result = await app.gql(MeDocument, {}, await app.token('user_alice', 'acct_acme'));
      expect(result.data?.me).toMatchObject({ role: 'ADMIN', plan: 'GROWTH' });
      expect(proxy.accepted()).toBeGreaterThan(0);
    } finally {
      await app?.stop();
      await proxy.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
