import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

// The baseline: a bare Apollo Server 5 answering `{ __typename }`, on the same Node, in its own process.

async function main(): Promise<void> {
  const server = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', introspection: false });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: Number(process.env.PORT) },
  });
  process.stdout.write(`${url}\n`);
}

void main();
