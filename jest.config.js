// Two projects, one run: `npm test` runs both; `npm run test:unit` runs only the suites that need no
// database, no built dist/ and no browser, so they run on a machine without MariaDB.
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFiles: ['reflect-metadata'],
};

/** Suites that touch no database, spawn no built entry point and start no service (path patterns). */
const UNIT = [
  '/test/crypto/.*\\.test\\.ts$',
  '/test/providers/.*\\.test\\.ts$',
  '/test/foundation/build\\.test\\.ts$',
  '/test/foundation/layout\\.test\\.ts$',
  '/test/foundation/permissions\\.test\\.ts$',
  '/test/foundation/schema\\.test\\.ts$',
  '/test/provider-keys/masked-key\\.test\\.ts$',
  '/test/webhooks/webhook-config\\.test\\.ts$',
  '/test/webhooks/retry-schedule\\.test\\.ts$',
  '/test/monitor/monitor-config\\.test\\.ts$',
];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testRegex: UNIT },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: UNIT,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
  testTimeout: 30_000,
  maxWorkers: 2,
  // After its last suite a worker (560-720 MiB resident: ts-jest, TypeScript, its half of the suites)
  // takes 1.3-1.5 s on these 2 cores to tear down, with no handle or timer left; at jest's default of
  // 0.5 s it was killed and reported as a leak. A worker that really leaks never exits: still reported.
  workerGracefulExitTimeout: 5_000,
};
