import 'reflect-metadata';
import { openAppDatabase } from '../app/database';
import { loadConfig } from '../config';
import { WebhookOutbox } from '../webhooks/webhook-outbox.store';
import { runCli } from './run';

// npm run webhooks:status: the events still to deliver to the platform and those whose delivery finally
// failed, with the age of the oldest of each. Prints no event bodies. Exits 2 while failed ones are kept.

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h": coarse enough to read at a glance. */
function age(since: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - since.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

runCli(async () => {
  const config = loadConfig();
  const dataSource = await openAppDatabase(config.database);
  try {
    const now = new Date();
    process.stdout.write(
      config.webhook
        ? 'Webhooks: on (WEBHOOK_URL is set).\n'
        : 'Webhooks: off (WEBHOOK_URL is not set): no new events are queued.\n',
    );
    for (const { status, count, oldest } of await new WebhookOutbox(dataSource).status()) {
      const note = oldest ? `, the oldest from ${age(oldest, now)} ago` : '';
      const what = status === 'pending' ? 'pending (to deliver or retry)' : 'failed (retried for 24 h, kept)';
      process.stdout.write(`${what}: ${count}${note}\n`);
      if (status === 'failed' && count > 0) {
        process.stdout.write(
          '  The service\'s log names each failed event and why ("webhook delivery failed for good").\n',
        );
        process.exitCode = 2;
      }
    }
  } finally {
    await dataSource.destroy();
  }
});
