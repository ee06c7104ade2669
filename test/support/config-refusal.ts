import { ConfigError, loadConfig } from '../../src/config';

/** The one line start-up answers for `env`; fails when it accepts it or throws anything else. */
export function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}
