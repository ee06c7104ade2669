import fs from 'node:fs';
import path from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { INTERNAL_API_OPENAPI, openApiText } from '../../src/credentials/credentials.openapi';
import { startTestApp, TestApp } from '../support/test-app';

// The internal API's OpenAPI description: valid OpenAPI 3.1 (so that a client for any language can be
// generated from it), served by the listener, and committed exactly as served.

const COMMITTED = path.join(__dirname, '../../schema/internal-api.openapi.json');

describe("the internal API's OpenAPI description", () => {
  it('is valid OpenAPI 3.1', async () => {
    const result = await validate(JSON.parse(openApiText()) as Parameters<typeof validate>[0]);
    expect({ valid: result.valid, errors: result.valid ? '' : compileErrors(result) }).toEqual({
      valid: true,
      errors: '',
    });
    expect(INTERNAL_API_OPENAPI.openapi).toBe('3.1.0');
  });

  it('is committed as schema/internal-api.openapi.json (run `npm run schema:emit` after changing it)', () => {
    expect(fs.readFileSync(COMMITTED, 'utf8')).toBe(openApiText());
  });

  it('names every route and error code the service answers', () => {
    expect(Object.keys(INTERNAL_API_OPENAPI.paths).sort()).toEqual([
      '/internal/v1/credentials/report',
      '/internal/v1/credentials/resolve',
      '/internal/v1/openapi.json',
    ]);
  });

  describe('as served', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp('sqlite', { env: { INTERNAL_PORT: '0' } });
    });
    afterAll(() => app.stop());

    it('is served without a token at /internal/v1/openapi.json, byte for byte the committed file', async () => {
      const served = await fetch(`${app.internalUrl}/internal/v1/openapi.json`);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await served.text()).toBe(fs.readFileSync(COMMITTED, 'utf8'));
    });
  });
});
