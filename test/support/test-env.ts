/**
 * Operator settings every test process runs with (vitest `test.env`; worker processes the tests
 * start inherit them). Tests call fake providers on 127.0.0.1 over http, and many use the
 * sandbox provider: both are refused unless an operator allows them. Credentials are sealed
 * with a fixed test key, so the encrypted path is the one under test. Tests of the refusals
 * set their own settings (useSecuritySettings).
 */
export const TEST_CREDENTIALS_KEY = Buffer.alloc(32, 0x5a).toString('base64');

export const testEnv: Record<string, string> = {
  SANDBOX_PROVIDER_ENABLED: 'true',
  PROVIDER_ALLOW_PRIVATE_HOSTS: 'true',
  CREDENTIALS_KEYS: `test:${TEST_CREDENTIALS_KEY}`,
  CREDENTIALS_KEY_ID: 'test',
};
