/** runqlat: run-queue latency per wakeup, as one log2 histogram or one per pid (targ_per_pid). */
import { formatLog2Hist } from '../../src/format/log2-hist.js';
import { loadExample, type Example, type ExampleOptions } from './common.js';
import { schedEvents } from './events.js';
import { StructLayout } from './structs.js';

export const runqlat: Example = {
  name: 'runqlat',
  summary: 'run-queue latency: wakeup timestamps in a hash map, log2 histograms (.rodata setting targ_per_pid)',
  run(options: ExampleOptions = {}): string {
    const { obj, btf } = loadExample('runqlat', options);
    const event = new StructLayout(btf, 'sched_event');
    const hist = new StructLayout(btf, 'hist');
    const program = obj.program('handle_sched');
    const bytes = new Uint8Array(event.size);
    for (const e of schedEvents(options.events ?? 3000, options.seed ?? 1)) program.run(event.encode({ ...e }, bytes));
    const perPid = Boolean(obj.variables.get('targ_per_pid'));
    const entries = [...obj.map('hists').entries()]
      .map(([k, v]) => [new DataView(k.buffer, k.byteOffset).getUint32(0, true), hist.decode(v as Uint8Array)] as const)
      .sort((a, b) => a[0] - b[0]);
    return entries.map(([pid, h]) => {
      const text = formatLog2Hist(h.slots as number[], 'usecs');
      return perPid ? `\npid = ${pid} ${String(h.comm)}\n${text}` : text;
    }).join('');
  },
};
