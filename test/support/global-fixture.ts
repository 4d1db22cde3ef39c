/**
 * Mocha global fixture for the integration and chaos tiers: one real Temporal dev server
 * (in memory, on free ports) per test run, found or installed through longrl's own
 * acquisition module. Its address goes to LONGRL_TEST_ADDRESS for tests and child processes.
 */
import { ensureDevServer, type DevServer } from '../../infra/temporal/devserver';
import { installRuntime } from '../../workers/common';
import { freePort, tempDir } from './env';

let server: DevServer | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  installRuntime(); // SDK logs at ERROR (LONGRL_LOG_LEVEL), as in the workers: replay tests would print INFO lines
  if (process.env.LONGRL_TEST_ADDRESS) return; // an outer harness provides the server
  const port = await freePort();
  const uiPort = await freePort();
  const logDir = tempDir('server');
  server = await ensureDevServer({ address: `127.0.0.1:${port}`, uiPort, dbFile: null, logFile: `${logDir}/temporal.log`, log: (l) => console.log(`[fixture] ${l}`) });
  process.env.LONGRL_TEST_ADDRESS = server.target.address;
  process.env.LONGRL_TEST_UI_URL = server.uiUrl ?? '';
  console.log(`[fixture] Temporal dev server at ${server.target.address}, UI ${server.uiUrl}`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await server?.stop();
}
