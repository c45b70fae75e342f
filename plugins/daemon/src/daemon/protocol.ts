/**
 * The daemon's side of the protocol: newline-delimited JSON over a Unix socket.
 * Request `{v:1, id, op, ...args}`, reply `{v:1, id, ok:true, result}` or `{v:1, id, ok:false, error}`.
 * Bad input never stops the daemon: malformed JSON, a non-object, a wrong version, an unknown op or
 * bad arguments get an error reply; a line longer than MAX_LINE gets one error reply and is skipped
 * up to its newline; a client that stays silent is disconnected after an idle timeout.
 */
import type { Socket } from 'node:net';

export const PROTOCOL_VERSION = 1;
export const MAX_LINE = 64 * 1024;

export type Handler = (request: Record<string, unknown>) => Promise<unknown> | unknown;

export class RequestError extends Error {}

export function serveConnection(
  socket: Socket,
  handle: (op: string, request: Record<string, unknown>) => Promise<unknown>,
  idleMs: number,
  onError: (message: string) => void,
): { busy: () => boolean } {
  let chunks: Buffer[] = [];
  let pending = 0;
  let buffered = 0;
  let discarding = false;
  let queue = Promise.resolve();
  socket.setTimeout(idleMs, () => socket.destroy());
  socket.on('error', (error) => onError(`client: ${error.message}`));

  const reply = (message: object) => {
    if (!socket.destroyed && socket.writable)
      socket.write(JSON.stringify({ v: PROTOCOL_VERSION, ...message }) + '\n');
  };

  const handleLine = async (line: Buffer) => {
    let request: unknown;
    let id: unknown = null;
    try {
      request = JSON.parse(line.toString('utf8'));
    } catch {
      return reply({ id, ok: false, error: 'malformed JSON' });
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request))
      return reply({ id, ok: false, error: 'a request is a JSON object' });
    const r = request as Record<string, unknown>;
    if (['string', 'number'].includes(typeof r.id) || r.id === null) id = r.id;
    if (r.v !== PROTOCOL_VERSION)
      return reply({ id, ok: false, error: `unsupported protocol version (want v:${PROTOCOL_VERSION})` });
    if (typeof r.op !== 'string') return reply({ id, ok: false, error: 'op must be a string' });
    try {
      const result = await handle(r.op, r);
      reply({ id, ok: true, result: result ?? null });
    } catch (error) {
      if (!(error instanceof RequestError)) onError(`${r.op}: ${(error as Error).stack ?? String(error)}`);
      reply({ id, ok: false, error: (error as Error).message });
    }
  };

  socket.on('data', (data: Buffer) => {
    let start = 0;
    for (;;) {
      const end = data.indexOf(0x0a, start);
      if (end < 0) break;
      const piece = data.subarray(start, end);
      start = end + 1;
      if (discarding) {
        discarding = false;
        chunks = [];
        buffered = 0;
        continue;
      }
      const line = chunks.length ? Buffer.concat([...chunks, piece]) : piece;
      chunks = [];
      buffered = 0;
      if (line.length > MAX_LINE) {
        queue = queue.then(() => reply({ id: null, ok: false, error: `line longer than ${MAX_LINE} bytes` }));
        continue;
      }
      if (line.length === 0) continue;
      const copy = Buffer.from(line);
      pending++;
      queue = queue.then(() => handleLine(copy)).finally(() => pending--);
    }
    if (start < data.length && !discarding) {
      const rest = data.subarray(start);
      buffered += rest.length;
      if (buffered > MAX_LINE) {
        chunks = [];
        buffered = 0;
        discarding = true;
        queue = queue.then(() => reply({ id: null, ok: false, error: `line longer than ${MAX_LINE} bytes` }));
      } else chunks.push(Buffer.from(rest));
    }
  });
  /** A request is being answered: the connection is not idle. */
  return { busy: () => pending > 0 };
}

/** A positive integer pid argument. */
export function pidArg(request: Record<string, unknown>): number {
  const pid = request.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || pid > 4194304)
    throw new RequestError('pid must be a positive integer');
  return pid;
}
