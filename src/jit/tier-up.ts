/**
 * When an 'auto' program becomes hot, and how its optimized module reaches the thread that runs it.
 *
 * The executable counts events down from the program's `hotRuns` (instance.ts); at zero the baseline
 * bytes go to the optimizer worker (optimizer.ts). The worker writes the optimized bytes into a
 * shared mailbox and sets its status word; the executable looks at the word every so many events and
 * installs the module at the start of a run, so the swap needs no turn of the event loop and never
 * happens inside a run. A caller awaiting `start()` gets the same bytes by message.
 */
import { optimizeInBackground, type Mailbox } from './optimizer.js';

const PENDING = 0;
const READY = 1;

export class TierUp {
  private mailbox: Mailbox | undefined;
  private request: Promise<Uint8Array<ArrayBuffer>> | undefined;

  constructor(private readonly baseline: Uint8Array, private readonly insns: number) {}

  /**
   * Called once the program is hot, then every so many events: sends the baseline out the first time
   * (a failure keeps the baseline), and returns the optimized module's bytes once they are there.
   */
  poll(): Uint8Array<ArrayBuffer> | undefined {
    if (!this.request) void this.start().catch(() => undefined);
    return this.mailbox ? this.collect(this.mailbox) : undefined;
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
