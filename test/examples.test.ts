/**
 * The examples (examples/*.bpf.c, loaded from their committed objects) print exactly what a plain
 * JavaScript model of each tool computes from the same synthetic events, in both engines and with
 * their .rodata settings; the objects still match their sources where clang exists.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, type Example, type ExampleOptions } from '../examples/host/index.js';
import { DEVICES, execEvents, ioEvents, openEvents, pktEvents, schedEvents } from '../examples/host/events.js';
import { examplesDir } from '../examples/host/common.js';
import { formatLog2Hist } from '../src/format/log2-hist.js';

const example = (name: string): Example => EXAMPLES.find((e) => e.name === name)!;
const MAX_SLOTS = 27;

function log2Slot(v: bigint): number {
  let slot = 0;
  while (v > 1n) { v >>= 1n; slot++; }
  return Math.min(slot, MAX_SLOTS - 1);
}

const models: Record<string, (o: ExampleOptions) => string> = {
  biolatency(o) {
    const ms = Boolean(o.set?.targ_ms);
    const dev = Number(o.set?.targ_dev ?? 0);
    const counts = Array<number>(MAX_SLOTS).fill(0);
    for (const e of ioEvents(o.events!, o.seed!)) {
      if ((dev && e.dev !== dev) || e.complete_ns < e.issue_ns) continue;
      counts[log2Slot((e.complete_ns - e.issue_ns) / (ms ? 1_000_000n : 1000n))]!++;
    }
    return formatLog2Hist(counts, ms ? 'msecs' : 'usecs');
  },
  execsnoop(o) {
    const uid = o.set?.targ_uid === undefined ? undefined : Number(o.set.targ_uid);
    const lines = [`${'PCOMM'.padEnd(16)} ${'PID'.padEnd(6)} ${'PPID'.padEnd(6)} RET ARGS`];
    for (const e of execEvents(o.events!, o.seed!)) {
      if ((uid !== undefined && e.uid !== uid) || (o.set?.ignore_failed && e.ret < 0)) continue;
      lines.push(`${e.comm.padEnd(16)} ${String(e.pid).padEnd(6)} ${String(e.ppid).padEnd(6)} ${String(e.ret).padStart(3)} ${e.args}`);
    }
    return lines.join('\n') + '\n';
  },
  opensnoop(o) {
    const pid = Number(o.set?.targ_pid ?? 0);
    const started = new Map<number, { comm: string; fname: string }>();
    const lines = [`${'PID'.padEnd(6)} ${'COMM'.padEnd(16)}  FD ERR PATH`];
    for (const e of openEvents(o.events!, o.seed!)) {
      if (e.kind === 'enter') {
        if (!pid || e.pid === pid) started.set(e.tid, e);
        continue;
      }
      const s = started.get(e.tid);
      if (!s) continue;
      started.delete(e.tid);
      if (o.set?.targ_failed && e.ret >= 0) continue;
      lines.push(`${String(e.pid).padEnd(6)} ${s.comm.padEnd(16)} ${String(e.ret >= 0 ? e.ret : -1).padStart(3)} ${String(e.ret >= 0 ? 0 : -e.ret).padStart(3)} ${s.fname}`);
    }
    return lines.join('\n') + '\n';
  },
  runqlat(o) {
    const perPid = Boolean(o.set?.targ_per_pid);
    const start = new Map<number, bigint>();
    const hists = new Map<number, { comm: string; slots: number[] }>();
    for (const e of schedEvents(o.events!, o.seed!)) {
      if (e.kind === 0) { start.set(e.pid, e.ts); continue; }
      const t = start.get(e.pid);
      if (t === undefined) continue;
      start.delete(e.pid);
      if (e.ts < t) continue;
      const key = perPid ? e.pid : 0;
      let h = hists.get(key);
      if (!h) hists.set(key, (h = { comm: perPid ? e.comm : '', slots: Array<number>(MAX_SLOTS).fill(0) }));
      h.slots[log2Slot((e.ts - t) / 1000n)]!++;
    }
    return [...hists].sort((a, b) => a[0] - b[0])
      .map(([key, h]) => (perPid ? `\npid = ${key} ${h.comm}\n` : '') + formatLog2Hist(h.slots, 'usecs')).join('');
  },
  dispatch(o) {
    const names = ['tcp', 'udp', 'icmp', '(3)', 'other'];
    const packets = Array<bigint>(5).fill(0n);
    const bytes = Array<bigint>(5).fill(0n);
    for (const e of pktEvents(o.events!, o.seed!)) {
      const slot = e.proto < 3 ? e.proto : 4;
      packets[slot]! += 1n;
      bytes[slot]! += BigInt(e.len);
    }
    const rows = [`${'PROTO'.padEnd(8)} ${'PACKETS'.padStart(8)} ${'BYTES'.padStart(10)}`];
    packets.forEach((n, i) => { if (n > 0n) rows.push(`${names[i]!.padEnd(8)} ${String(n).padStart(8)} ${String(bytes[i]).padStart(10)}`); });
    return rows.join('\n') + '\n';
  },
};

const cases: Array<[string, ExampleOptions]> = [
  ['biolatency', { events: 3000, seed: 7 }],
  ['biolatency', { events: 3000, seed: 8, set: { targ_ms: true, targ_dev: DEVICES[1] } }],
  ['execsnoop', { events: 60, seed: 3 }],
  ['execsnoop', { events: 60, seed: 3, set: { targ_uid: 0, ignore_failed: true } }],
  ['opensnoop', { events: 80, seed: 5 }],
  ['opensnoop', { events: 80, seed: 5, set: { targ_pid: 812, targ_failed: true } }],
  ['runqlat', { events: 1500, seed: 11 }],
  ['runqlat', { events: 1500, seed: 11, set: { targ_per_pid: true } }],
  ['dispatch', { events: 800, seed: 13 }],
];

describe('examples', () => {
  it('has a model for every example', () => {
    expect(EXAMPLES.map((e) => e.name).sort()).toEqual(Object.keys(models).sort());
  });

  for (const engine of ['interp', 'jit'] as const) {
    it.each(cases)(`%s prints what its model computes (${engine}) %o`, (name, options) => {
      const out = example(name).run({ ...options, engine });
      expect(out).toBe(models[name]!(options));
      expect(out.split('\n').length).toBeGreaterThan(3);
    });
  }

  it('examples/build.sh rebuilds the committed objects byte for byte (skipped without clang)', () => {
    if (spawnSync('clang', ['--version']).status !== 0) {
      console.warn('clang not found: the examples rebuild check is skipped');
      return;
    }
    const dir = examplesDir();
    const out = mkdtempSync(join(tmpdir(), 'bpfjit-examples-'));
    expect(spawnSync(join(dir, 'build.sh'), [out], { stdio: 'inherit' }).status).toBe(0);
    const objects = readdirSync(dir).filter((f) => f.endsWith('.bpf.o'));
    expect(objects).toHaveLength(EXAMPLES.length);
    for (const o of objects) expect(readFileSync(join(out, o)).equals(readFileSync(join(dir, o))), o).toBe(true);
  });
});
