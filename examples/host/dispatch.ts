/** dispatch: a tail-call dispatcher over a prog array the object fills itself; counts per protocol in .bss. */
import { loadExample, type Example, type ExampleOptions } from './common.js';
import { pktEvents } from './events.js';
import { StructLayout } from './structs.js';

const NAMES = ['tcp', 'udp', 'icmp', '(3)', 'other'];

export const dispatch: Example = {
  name: 'dispatch',
  summary: 'packets handed to per-protocol programs by tail calls through a prog array; counters in .bss',
  run(options: ExampleOptions = {}): string {
    const { obj, btf } = loadExample('dispatch', options);
    const event = new StructLayout(btf, 'pkt_event');
    const program = obj.program('dispatch');
    const bytes = new Uint8Array(event.size);
    for (const e of pktEvents(options.events ?? 1000, options.seed ?? 1)) program.run(event.encode({ ...e }, bytes));
    const u64s = (name: string): bigint[] => {
      const b = obj.variables.get(name) as Uint8Array;
      return Array.from({ length: b.length / 8 }, (_, i) => new DataView(b.buffer, b.byteOffset).getBigUint64(8 * i, true));
    };
    const packets = u64s('packets');
    const bytesBy = u64s('bytes');
    const rows = [`${'PROTO'.padEnd(8)} ${'PACKETS'.padStart(8)} ${'BYTES'.padStart(10)}`];
    packets.forEach((n, i) => { if (n > 0n) rows.push(`${NAMES[i]!.padEnd(8)} ${String(n).padStart(8)} ${String(bytesBy[i]).padStart(10)}`); });
    return rows.join('\n') + '\n';
  },
};
