import { DataSource, EntityManager } from 'typeorm';
import { dialectOf } from './dialect';

// Write transactions. On SQLite every query runner shares one connection, so two transactions awaited
// side by side would interleave inside one BEGIN…COMMIT; a per-DataSource queue runs them one at a
// time. MySQL/MariaDB gives each transaction its own pooled connection and needs no queue.

const queues = new WeakMap<DataSource, Promise<unknown>>();

export function inTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (dialectOf(dataSource) !== 'sqlite') return dataSource.transaction(work);
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => dataSource.transaction(work));
  queues.set(dataSource, next);
  return next;
}
