/**
 * Connection reuse for every registry request. Node's fetch (undici) closes the connection after each HEAD, to
 * survive servers that wrongly send a body with one (nodejs/undici#258); a plan HEADs every tag, so each HEAD
 * paid a new TCP (and TLS) handshake, and a warm 10k-tag plan spent most of its time connecting (issue 11).
 * This is one undici Agent per process whose requests keep the connection open whatever the method
 * (`reset: false`), holding at most `connections` sockets per origin (settings.concurrency). Node's bundled undici
 * exposes no Agent to configure, hence the `undici` package; only its Agent is loaded, and only when the first
 * request goes out (loading all of undici costs ~0.2 s of CPU, which `validate` and `--help` should not pay).
 * Deno's fetch ignores a dispatcher and already keeps HEAD connections alive, so there none is made.
 */
import type { Dispatcher } from 'undici';
import { onDeno } from '../runtime.ts';

/** Sockets per origin when the run does not say (settings.concurrency's default). */
export const DEFAULT_CONNECTIONS_PER_HOST = 8;

const agents = new Map<number, Promise<Dispatcher | undefined>>();

/** The shared keep-alive dispatcher for `connections` sockets per origin; undefined where fetch takes none (Deno). */
export function keepAliveDispatcher(connections: number = DEFAULT_CONNECTIONS_PER_HOST): Promise<Dispatcher | undefined> {
  let agent = agents.get(connections);
  if (agent === undefined) {
    agent = onDeno() ? Promise.resolve(undefined) : makeAgent(connections);
    agents.set(connections, agent);
  }
  return agent;
}

async function makeAgent(connections: number): Promise<Dispatcher> {
  const { default: AgentClass } = await import('undici/lib/dispatcher/agent.js');
  return new AgentClass({ connections }).compose((dispatch) => (options, handler) => dispatch(options.method === 'HEAD' ? { ...options, reset: false } : options, handler));
}
