/**
 * The public barrel of the harness. Suites, the CLI and benchmarks import from here only.
 * Each module keeps its internals to itself; add an export here when something becomes public.
 */
export * from './errors.ts';
export * from './events.ts';
export * from './config/timeouts.ts';
export * from './runtime/types.ts';
export { DockerRuntime, newRunId, type DockerRuntimeOptions } from './runtime/docker/docker-runtime.ts';
export * from './traffic/types.ts';
export { call, senderFor, type Sender } from './traffic/caller.ts';
export { AgentClient, AGENT_SOCKET } from './traffic/agent-client.ts';
