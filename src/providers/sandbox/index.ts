export { sandboxAdapter } from './adapter.js';
export { buildSandboxSendRequest, parseSandboxSendResponse, type SandboxConfig, type SandboxCredentials } from './send.js';
