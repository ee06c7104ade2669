import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { signToken } from '../auth/jwt';
import { runCli } from './run';

// npm run token -- --user <id> --account <id> [--ttl 1h]: a development token, printed alone on stdout.

runCli(async () => {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      account: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
    },
  });
  const config = loadConfig();
  if (config.production)
    throw new Error('npm run token refuses to run in production: tokens come from your identity provider.');
  if (!values.user || !values.account)
    throw new Error('usage: npm run token -- --user <user id> --account <account id> [--ttl 1h]');
  if (!/^\d+\s*[smhdw]$/.test(values.ttl))
    throw new Error('--ttl: expected a duration such as 30m, 1h or 7d');
  process.stdout.write(
    `${await signToken(config, { userId: values.user, accountId: values.account }, values.ttl)}\n`,
  );
});
