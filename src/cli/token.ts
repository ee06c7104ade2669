import { parseArgs } from 'node:util';
import { SERVICE_SCOPES, signServiceToken, signToken } from '../auth/jwt';
import { loadConfig } from '../config';
import { runCli } from './run';

// npm run token -- --user <id> --account <id> [--ttl 1h]: a development token for a user, or
// npm run token -- --service <name> --scope "credentials:resolve credentials:report" [--ttl 1h]: one for a
// platform service calling the internal credential API. Printed alone on stdout; refused in production.

const USAGE =
  'usage: npm run token -- --user <user id> --account <account id> [--ttl 1h]\n' +
  `   or: npm run token -- --service <name> --scope "${SERVICE_SCOPES.join(' ')}" [--ttl 1h]`;

runCli(async () => {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      account: { type: 'string' },
      service: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
    },
  });
  const config = loadConfig();
  if (config.production) {
    throw new Error('npm run token refuses to run in production: tokens come from your identity provider.');
  }
  if (!/^\d+\s*[smhdw]$/.test(values.ttl))
    throw new Error('--ttl: expected a duration such as 30m, 1h or 7d');
  if (values.service !== undefined) {
    const scopes = (values.scope ?? '').split(' ').filter(Boolean);
    const unknown = scopes.filter((scope) => !(SERVICE_SCOPES as readonly string[]).includes(scope));
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(values.service) || scopes.length === 0 || unknown.length) {
      throw new Error(
        `--service needs a name (letters, digits, ".", "_", "-") and --scope among ${SERVICE_SCOPES.join(', ')}\n${USAGE}`,
      );
    }
    process.stdout.write(`${await signServiceToken(config, values.service, scopes, values.ttl)}\n`);
    return;
  }
  if (!values.user || !values.account) throw new Error(USAGE);
  process.stdout.write(
    `${await signToken(config, { userId: values.user, accountId: values.account }, values.ttl)}\n`,
  );
});
