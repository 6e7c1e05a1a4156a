/**
 * The optimizer worker (optimizer.ts): binaryen's passes over baseline modules, off the thread that
 * runs events. Messages in: { id, binary, insns }; out: { id, binary } or { id, error }.
 */
import { parentPort } from 'node:worker_threads';
import { optimizeSettingsFor } from './optimize.js';

const { optimizeBinary } = await import('./binaryen.js');

import type { Mailbox } from './optimizer.js';

/** The result into the mailbox: the bytes, their length, then the status word that publishes them. */
function deliver(mailbox: Mailbox | undefined, binary: Uint8Array | undefined): void {
  if (!mailbox) return;
  if (binary && binary.length <= mailbox.bytes.length) {
    mailbox.bytes.set(binary);
    Atomics.store(mailbox.status, 1, binary.length);
    Atomics.store(mailbox.status, 0, 1);
  } else {
    Atomics.store(mailbox.status, 0, 2);
  }
}

parentPort!.on('message', (msg: { id: number; binary: Uint8Array; insns: number; mailbox?: Mailbox }) => {
  let binary: Uint8Array<ArrayBuffer> | undefined;
  try {
    binary = optimizeBinary(msg.binary, optimizeSettingsFor(msg.insns));
  } catch (error) {
    deliver(msg.mailbox, undefined);
    parentPort!.postMessage({ id: msg.id, error: error instanceof Error ? error.message : String(error) });
    return;
  }
  deliver(msg.mailbox, binary);
  parentPort!.postMessage({ id: msg.id, binary }, [binary.buffer]);
});
