/**
 * The current task's helpers: bpf_get_current_pid_tgid (14), bpf_get_current_uid_gid (15) and
 * bpf_get_current_comm (16). Only the host knows which task an event belongs to, so it answers
 * through VmOptions.current. Without an answer (no callback, or it returns undefined) the helpers take
 * the kernel's "no current task" path: -EINVAL, and get_current_comm zeroes the buffer.
 */
import type { HelperEnv, HelperSpec } from '../runtime/helpers.js';
import { EINVAL, negErrno } from './errno.js';
import { outBuffer } from './memory.js';

export const GET_CURRENT_PID_TGID = 14;
export const GET_CURRENT_UID_GID = 15;
export const GET_CURRENT_COMM = 16;

/** The kernel's TASK_COMM_LEN: a task's name holds at most 15 bytes and a NUL. */
export const TASK_COMM_LEN = 16;

/** The task a run on some CPU works for, as the host describes it. */
export interface CurrentTask {
  /** Thread id (the kernel's task->pid). */
  readonly pid: number;
  /** Process id (task->tgid). */
  readonly tgid: number;
  readonly uid?: number;
  readonly gid?: number;
  /** The task's name; stored as UTF-8, cut to 15 bytes as the kernel keeps task->comm. */
  readonly comm?: string;
}

/** Tells the helpers which task is current for a run on `cpu`; undefined: none. */
export type CurrentTaskFn = (cpu: number) => CurrentTask | undefined;

const u32 = (n: number | undefined): bigint => BigInt.asUintN(32, BigInt(Math.trunc(n ?? 0)));
const pair = (hi: number | undefined, lo: number | undefined): bigint => (u32(hi) << 32n) | u32(lo);

/** task->comm's bytes: at most 15, ending at the first NUL the string may contain. */
function commBytes(comm: string): Uint8Array {
  const bytes = new TextEncoder().encode(comm);
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, Math.min(nul < 0 ? bytes.length : nul, TASK_COMM_LEN - 1));
}

export function currentHelpers(current: CurrentTaskFn | undefined): HelperSpec[] {
  const task = (env: HelperEnv): CurrentTask | undefined => current?.(env.cpu);
  return [
    {
      id: GET_CURRENT_PID_TGID, name: 'get_current_pid_tgid', proto: { args: [], ret: 'scalar' },
      impl: (_r1, _r2, _r3, _r4, _r5, env) => {
        const t = task(env);
        return t ? pair(t.tgid, t.pid) : negErrno(EINVAL);
      },
    },
    {
      id: GET_CURRENT_UID_GID, name: 'get_current_uid_gid', proto: { args: [], ret: 'scalar' },
      impl: (_r1, _r2, _r3, _r4, _r5, env) => {
        const t = task(env);
        return t ? pair(t.gid, t.uid) : negErrno(EINVAL);
      },
    },
    {
      // strscpy_pad(buf, comm, size): the name cut to size - 1 bytes, NUL-terminated, zero-padded.
      id: GET_CURRENT_COMM, name: 'get_current_comm', proto: { args: ['mem_write', 'size'], ret: 'scalar' },
      impl: (r1, r2, _r3, _r4, _r5, env) => {
        const out = outBuffer(env, r1, r2);
        const t = task(env);
        if (!t) return negErrno(EINVAL);
        if (out.length > 0) out.set(commBytes(t.comm ?? '').subarray(0, out.length - 1));
        return 0n;
      },
    },
  ];
}
