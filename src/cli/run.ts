import { ConfigError } from '../config';
import { KeyringError } from '../crypto/keyring';

/** Runs a command-line entry: one clear line and exit code 1 on failure, never a stack for a config mistake. */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(), // with the process.exitCode a command set (keys:status, webhooks:status)
    (error: unknown) => {
      const message =
        error instanceof ConfigError || error instanceof KeyringError
          ? `Configuration error: ${error.message}`
          : error instanceof Error
            ? error.message
            : String(error);
      process.stderr.write(`${message}\n`);
      process.exit(1);
    },
  );
}
