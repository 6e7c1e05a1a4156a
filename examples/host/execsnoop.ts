/** execsnoop: exec events filtered in the program and sent through a ring buffer, one line each. */
import { loadExample, type Example, type ExampleOptions } from './common.js';
import { execEvents } from './events.js';
import { StructLayout } from './structs.js';
import type { RingBuf } from '../../src/maps/ringbuf.js';

export const execsnoop: Example = {
  name: 'execsnoop',
  summary: 'execs through a ring buffer (.rodata settings targ_uid and ignore_failed)',
  run(options: ExampleOptions = {}): string {
    const { obj, btf } = loadExample('execsnoop', options);
    const input = new StructLayout(btf, 'exec_event');
    const record = new StructLayout(btf, 'exec_record');
    const program = obj.program('handle_exec');
    const lines = [`${'PCOMM'.padEnd(16)} ${'PID'.padEnd(6)} ${'PPID'.padEnd(6)} RET ARGS`];
    const ring = obj.map('events') as unknown as RingBuf;
    const drain = (): void => {
      ring.consume((bytes) => {
        const r = record.decode(bytes);
        lines.push(`${String(r.comm).padEnd(16)} ${String(r.pid).padEnd(6)} ${String(r.ppid).padEnd(6)} ${String(r.ret).padStart(3)} ${String(r.args)}`);
      });
    };
    const bytes = new Uint8Array(input.size);
    for (const e of execEvents(options.events ?? 40, options.seed ?? 1)) {
      program.run(input.encode({ ...e }, bytes));
      drain();
    }
    return lines.join('\n') + '\n';
  },
};
