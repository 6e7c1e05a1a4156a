/**
 * A worker thread of a pool (pool.ts): CPU `workerData.cpu` of the Vm's memory. It rebuilds the
 * programs it is sent (replica.ts) and runs batches of events placed in the shared memory; results go
 * to memory, and only "done" (or the error) comes back as a message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BpfError, type ErrorCode } from '../errors.js';
import { Replica } from './replica.js';
import type { ErrorData, FromWorker, ToWorker, WorkerInit } from './protocol.js';

const port = parentPort!;
const send = (msg: FromWorker): void => port.postMessage(msg);

function errorData(error: unknown): ErrorData {
  if (error instanceof BpfError) {
    const pc = (error as { pc?: unknown }).pc;
    return { code: error.code as ErrorCode, pc: typeof pc === 'number' ? pc : -1, message: error.message };
  }
  return { code: undefined, pc: -1, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

function handle(replica: Replica, msg: ToWorker): void {
  switch (msg.type) {
    case 'program': return replica.addProgram(msg.key, msg.share, msg.maps);
    case 'tails': return replica.setTails(msg.entries);
    case 'run':
      try {
        replica.run(msg.key, msg.batch);
        send({ type: 'done', job: msg.job });
      } catch (error) {
        send({ type: 'failed', job: msg.job, error: errorData(error) });
      }
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  // Messages that arrive while the helper module loads wait for the replica, in order.
  const early: ToWorker[] = [];
  let replica: Replica | undefined;
  port.on('message', (msg: ToWorker) => (replica ? handle(replica, msg) : early.push(msg)));
  try {
    replica = await Replica.create(init, (text) => send({ type: 'printk', text }));
  } catch (error) {
    send({ type: 'init-failed', error: errorData(error) });
    port.close();
    return;
  }
  send({ type: 'ready' });
  for (const msg of early.splice(0)) handle(replica, msg);
}

void main();
