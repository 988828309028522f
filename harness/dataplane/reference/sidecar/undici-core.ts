/**
 * undici's HTTP/1.1 Client and Pool without its barrel: `import … from 'undici'` also loads fetch,
 * WebSocket, caches and mocks, about 14 MB of resident memory the sidecar never uses (measured
 * with Node 24: 73 MB after the barrel, 59 MB after the client alone, 44 MB bare). The sidecar
 * image is an esbuild bundle of what the program imports, so this is what it carries.
 */
import ClientImpl from 'undici/lib/dispatcher/client.js';
import PoolImpl from 'undici/lib/dispatcher/pool.js';

export const Client = ClientImpl;
export const Pool = PoolImpl;
export type Client = InstanceType<typeof ClientImpl>;
export type Pool = InstanceType<typeof PoolImpl>;
