import { startApp } from './app/app';
import { ConfigError, loadConfig } from './config';
import { KeyringError } from './crypto/keyring';

// Process entry: configuration, then the service, then a graceful shutdown on SIGTERM/SIGINT.

const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await startApp(config);
  app.logger.info({ url: `${app.url}/graphql` }, 'BYOK service listening');
  if (!config.production) {
    process.stdout.write(
      `\nBYOK service ready at ${app.url}/graphql\n` +
        (config.settingsPage ? `Settings page: ${app.url}/settings (sign in with a token)\n` : '') +
        `Get a token:   npm run -s token -- --user user_alice --account acct_acme\n` +
        `First query:   curl -s ${app.url}/graphql -H 'content-type: application/json' ` +
        `-H "authorization: Bearer $TOKEN" -d '{"query":"{ me { role plan } }"}'\n\n`,
    );
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'draining in-flight requests, then exiting');
    const exit = (code: number) => app.logger.flush(() => process.exit(code));
    setTimeout(() => {
      app.logger.error('shutdown grace period elapsed; exiting with requests still open');
      exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => exit(0),
      (error) => {
        app.logger.error({ err: error }, 'error while shutting down');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  // One clear line for a configuration mistake; the full error for anything else.
  if (error instanceof ConfigError || error instanceof KeyringError)
    process.stderr.write(`Configuration error: ${error.message}\n`);
  else
    process.stderr.write(
      `Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
