/**
 * When an 'auto' program becomes hot, and how its optimized module reaches the thread that runs it.
 *
 * Runs count down the program's `hotRuns`; at zero the baseline bytes go to the optimizer worker
 * (optimizer.ts). The worker writes the optimized bytes into a shared mailbox and sets its status
 * word; the next run to start on this thread sees the word (one atomic load per run while the request
 * is out) and installs the module before it begins, so the swap needs no turn of the event loop and
 * never happens inside a run. A caller awaiting `start()` gets the same bytes by message.
 */
import { optimizeInBackground, type Mailbox } from './optimizer.js';

const PENDING = 0;
const READY = 1;

export class TierUp {
  private untilHot: number;
  private mailbox: Mailbox | undefined;
  private request: Promise<Uint8Array<ArrayBuffer>> | undefined;

  constructor(private readonly baseline: Uint8Array, private readonly insns: number, hotRuns: number) {
    this.untilHot = hotRuns;
  }

  /** Counts `events` more; returns the optimized module's bytes once they are there to install. */
  step(events: number): Uint8Array<ArrayBuffer> | undefined {
    if (this.mailbox) return this.collect(this.mailbox);
    this.untilHot -= events;
    if (this.untilHot <= 0) void this.start().catch(() => undefined); // a failure keeps the baseline
    return undefined;
  }

  /** Sends the baseline to the optimizer now (once); resolves with the optimized bytes. */
  start(): Promise<Uint8Array<ArrayBuffer>> {
    if (!this.request) {
      const capacity = 2 * this.baseline.length + 4096; // binaryen's output is rarely larger than its input
      this.mailbox = { status: new Int32Array(new SharedArrayBuffer(8)), bytes: new Uint8Array(new SharedArrayBuffer(capacity)) };
      this.request = optimizeInBackground(this.baseline, this.insns, this.mailbox);
    }
    return this.request;
  }

  private collect(mailbox: Mailbox): Uint8Array<ArrayBuffer> | undefined {
    const status = Atomics.load(mailbox.status, 0);
    if (status === PENDING) return undefined;
    this.mailbox = undefined; // the message brings anything the mailbox could not hold
    return status === READY ? mailbox.bytes.slice(0, mailbox.status[1]!) as Uint8Array<ArrayBuffer> : undefined;
  }
}
