import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ConnectionTester, normalizeCandidate } from '../../src/providers/connection-tester';
import { makeKey, startFakeProviders } from '../support/fake-providers';
it('peek', async () => {
  const fake = await startFakeProviders({ slowMs: 5000 });
  const tester = new ConnectionTester({ baseUrls: fake.baseUrls, timeoutMs: 1000, outboundAllowlist: fake.allowlist, lookup: fake.lookup });
  const cand = (p: AiProvider, s: any) => normalizeCandidate({ provider: p, apiKey: makeKey(p, s), endpoint: p === AiProvider.AZURE_OPENAI ? fake.azureEndpoint : null, deployment: p === AiProvider.AZURE_OPENAI ? 'd1' : null }, fake.allowlist);
  const which = (process.env.WHICH ?? 'MISTRAL,AZURE_OPENAI').split(',') as AiProvider[];
  await Promise.all(which.map((p) => tester.test(cand(p, 'SLOW'))));
  console.log('after slow', fake.connections, fake.requests.length);
  const t = Date.now(); while (fake.connections < 2 && Date.now() - t < 3000) await new Promise((res) => setTimeout(res, 1)); console.log('phantom after ms', Date.now() - t);
  console.log('after wait', fake.connections, fake.requests.length);
  fake.reset(); fake.lookup.calls.length = 0;
  for (const p of [AiProvider.AZURE_OPENAI, AiProvider.MISTRAL, AiProvider.MISTRAL]) {
    const r = await tester.test(cand(p, 'VALID'));
    await new Promise((res) => setTimeout(res, 200));
    console.log(p, r.health, 'conns', fake.connections, 'reqs', fake.requests.length, 'lookups', fake.lookup.calls.length);
  }
  await tester.close(); await fake.close();
});
