import { DataSource } from 'typeorm';

// What resolvers reach through the context. Built once at start-up and shared by every request.
export interface Services {
  dataSource: DataSource;
}

export function createServices(dataSource: DataSource): Services {
  return { dataSource };
}
