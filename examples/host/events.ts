/**
 * The synthetic event streams the examples run on: deterministic for a seed (bench/prng.ts), shaped
 * like what the real tools see (latencies spread over many powers of two, a few processes, some
 * failures), as plain objects whose fields are those of examples/events.h.
 */
import { Prng } from '../../bench/prng.js';

/** A value spread evenly over the powers of two in [2^lo, 2^hi). */
const logUniform = (rng: Prng, lo: number, hi: number): number => Math.floor(2 ** (lo + (rng.u32() / 2 ** 32) * (hi - lo)));
const pick = <T>(rng: Prng, items: readonly T[]): T => items[rng.below(items.length)]!;

export interface IoEvent { issue_ns: bigint; complete_ns: bigint; dev: number; bytes: number }

export const DEVICES = [0x800010, 0x800020, 0x1030000] as const;

export function ioEvents(count: number, seed: number): IoEvent[] {
  const rng = new Prng(seed);
  let now = 1_000_000_000n;
  return Array.from({ length: count }, () => {
    now += BigInt(rng.below(50_000));
    const latency = BigInt(logUniform(rng, 9, 27));
    return { issue_ns: now, complete_ns: now + latency, dev: pick(rng, DEVICES), bytes: 512 << rng.below(8) };
  });
}

export interface ExecEvent { pid: number; ppid: number; uid: number; ret: number; comm: string; args: string }

const COMMANDS = [
  ['bash', '/bin/bash -c make'], ['make', '/usr/bin/make -j2'], ['cc1', '/usr/lib/gcc/cc1 -quiet main.c'],
  ['ld', '/usr/bin/ld -o main main.o'], ['git', '/usr/bin/git status --short'], ['python3', '/usr/bin/python3 build.py'],
  ['sh', '/bin/sh -c ./configure'], ['ls', '/bin/ls -la /tmp'],
] as const;

export function execEvents(count: number, seed: number): ExecEvent[] {
  const rng = new Prng(seed);
  let pid = 4000;
  return Array.from({ length: count }, () => {
    const [comm, args] = pick(rng, COMMANDS);
    pid += 1 + rng.below(30);
    return { pid, ppid: 3900 + rng.below(50), uid: rng.chance(0.3) ? 0 : 1000, ret: rng.chance(0.2) ? -2 : 0, comm, args };
  });
}

export interface OpenEnter { kind: 'enter'; pid: number; tid: number; uid: number; flags: number; comm: string; fname: string }
export interface OpenExit { kind: 'exit'; pid: number; tid: number; ret: number }
export type OpenEvent = OpenEnter | OpenExit;

const PROCESSES = [[812, 'sshd'], [1203, 'systemd-journal'], [2210, 'nginx'], [2211, 'nginx'], [3100, 'cat']] as const;
const PATHS = ['/etc/passwd', '/etc/ld.so.cache', '/var/log/syslog', '/proc/self/stat', '/usr/lib/libc.so.6', '/tmp/missing', '/root/.ssh/authorized_keys'];

/** Opens by several threads, each an enter soon followed by its exit (other threads' events in between). */
export function openEvents(count: number, seed: number): OpenEvent[] {
  const rng = new Prng(seed);
  const events: OpenEvent[] = [];
  const pending: OpenEnter[] = [];
  while (events.length < 2 * count) {
    if (pending.length > 0 && (rng.chance(0.5) || events.length + pending.length >= 2 * count)) {
      const e = pending.splice(rng.below(pending.length), 1)[0]!;
      const fail = e.fname === '/tmp/missing' ? -2 : e.fname.startsWith('/root') ? -13 : 0;
      events.push({ kind: 'exit', pid: e.pid, tid: e.tid, ret: fail || 3 + rng.below(20) });
    } else {
      const [pid, comm] = pick(rng, PROCESSES);
      const tid = pid + rng.below(3);
      if (pending.some((p) => p.tid === tid)) continue;
      const e: OpenEnter = { kind: 'enter', pid, tid, uid: pid < 1000 ? 0 : 33, flags: rng.chance(0.2) ? 0o101 : 0, comm, fname: pick(rng, PATHS) };
      pending.push(e);
      events.push(e);
    }
  }
  return events;
}

export interface SchedEvent { ts: bigint; pid: number; kind: 0 | 1; comm: string }

const TASKS = [[101, 'kworker/0:1'], [230, 'rcu_sched'], [512, 'node'], [513, 'node'], [900, 'postgres'], [1024, 'redis-server']] as const;

/** Wakeups, each followed after a wait by the switch that runs the task. */
export function schedEvents(count: number, seed: number): SchedEvent[] {
  const rng = new Prng(seed);
  const events: SchedEvent[] = [];
  let now = 5_000_000_000n;
  for (let i = 0; i < count; i++) {
    const [pid, comm] = pick(rng, TASKS);
    now += BigInt(rng.below(20_000));
    events.push({ ts: now, pid, kind: 0, comm });
    events.push({ ts: now + BigInt(logUniform(rng, 8, 24)), pid, kind: 1, comm });
  }
  // Interleave by time, as a CPU's scheduler sees them; a task woken again before it ran keeps the later wakeup.
  return events.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.kind - b.kind));
}

export interface PktEvent { proto: number; len: number }

export function pktEvents(count: number, seed: number): PktEvent[] {
  const rng = new Prng(seed);
  return Array.from({ length: count }, () => ({ proto: rng.chance(0.55) ? 0 : rng.chance(0.6) ? 1 : rng.chance(0.7) ? 2 : 3, len: 40 + rng.below(1460) }));
}
