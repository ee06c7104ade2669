/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 30_000,
  maxWorkers: 2,
  // After its last suite a worker (560-720 MiB resident: ts-jest, TypeScript, its half of the suites)
  // takes 1.3-1.5 s on these 2 cores to tear down, with no handle or timer left; at jest's default of
  // 0.5 s it was killed and reported as a leak. A worker that really leaks never exits: still reported.
  workerGracefulExitTimeout: 5_000,
};
