/**
 * opensnoop: opens matched from start to end through a hash map in the program, filtered by pid and
 * failure, and sent through a perf event array; one line each.
 */
import type { PerfEventArray } from '../../src/maps/perf.js';
import { loadExample, type Example, type ExampleOptions } from './common.js';
import { openEvents } from './events.js';
import { StructLayout } from './structs.js';

export const opensnoop: Example = {
  name: 'opensnoop',
  summary: 'opens matched through a hash map, sent through a perf event array (.rodata settings targ_pid and targ_failed)',
  run(options: ExampleOptions = {}): string {
    const { obj, btf } = loadExample('opensnoop', options);
    const enter = new StructLayout(btf, 'open_enter');
    const exit = new StructLayout(btf, 'open_exit');
    const record = new StructLayout(btf, 'open_record');
    const onEnter = obj.program('handle_enter');
    const onExit = obj.program('handle_exit');
    const perf = obj.map('events') as unknown as PerfEventArray;
    const lines = [`${'PID'.padEnd(6)} ${'COMM'.padEnd(16)}  FD ERR PATH`];
    for (const e of openEvents(options.events ?? 60, options.seed ?? 1)) {
      const { kind, ...fields } = e;
      if (kind === 'enter') onEnter.run(enter.encode(fields));
      else onExit.run(exit.encode(fields));
      perf.read(({ data }) => {
        const r = record.decode(data);
        const ret = Number(r.ret);
        lines.push(`${String(r.pid).padEnd(6)} ${String(r.comm).padEnd(16)} ${String(ret >= 0 ? ret : -1).padStart(3)} ${String(ret >= 0 ? 0 : -ret).padStart(3)} ${String(r.fname)}`);
      });
    }
    return lines.join('\n') + '\n';
  },
};
