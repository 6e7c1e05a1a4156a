/** biolatency: block I/O completions into a per-CPU log2 histogram, printed as the tool prints it. */
import { formatLog2Hist } from '../../src/format/log2-hist.js';
import { key32, loadExample, sumPerCpu, type Example, type ExampleOptions } from './common.js';
import { ioEvents } from './events.js';
import { StructLayout } from './structs.js';

const MAX_SLOTS = 27;

export const biolatency: Example = {
  name: 'biolatency',
  summary: 'block I/O latency as a log2 histogram (per-CPU array, .rodata settings targ_ms and targ_dev)',
  run(options: ExampleOptions = {}): string {
    const { obj, btf } = loadExample('biolatency', options);
    const layout = new StructLayout(btf, 'io_event');
    const program = obj.program('handle_complete');
    const events = ioEvents(options.events ?? 10_000, options.seed ?? 1);
    const bytes = new Uint8Array(layout.size);
    events.forEach((e, i) => program.run(layout.encode({ ...e }, bytes), i % 2));
    const hists = obj.map('hists');
    const counts = Array.from({ length: MAX_SLOTS }, (_, slot) => sumPerCpu(hists.lookup(key32(slot)) as Uint8Array[]));
    const unit = obj.variables.get('targ_ms') ? 'msecs' : 'usecs';
    return formatLog2Hist(counts, unit);
  },
};
