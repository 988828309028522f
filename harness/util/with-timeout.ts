import { ErrorCode, MeshproofError } from '../errors.ts';

/**
 * Resolves as `promise` does, or rejects with MESHPROOF_ERR_TIMEOUT after `ms`, naming the
 * operation and the timeout setting. The timer never keeps the process alive.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string, setting: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MeshproofError(ErrorCode.Timeout, `${what} took longer than ${ms} ms (timeouts.${setting})`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
