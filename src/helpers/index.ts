/**
 * The kernel's helpers beyond the map helpers (src/maps/helpers.ts), with Linux's numbers
 * (include/uapi/linux/bpf.h). Every Vm registers them, except for ids the user's own helpers take.
 */
import type { HelperSpec } from '../runtime/helpers.js';
import { callbackHelpers } from './callbacks.js';
import { currentHelpers, type CurrentTaskFn } from './current.js';
import { printkHelpers, type TracePrintkSink } from './printk.js';
import { probeHelpers, type ProbeReadFn } from './probe.js';
import { snprintfHelpers } from './snprintf.js';
import { stringHelpers } from './strings.js';
import { systemHelpers } from './system.js';
import { timeHelpers } from './time.js';

export type { CurrentTask, CurrentTaskFn } from './current.js';
export type { TracePrintkSink } from './printk.js';
export type { AddressSpace, ProbeReadFn } from './probe.js';

export interface KernelHelperOptions {
  /** CPUs of the Vm: get_smp_processor_id's bound. */
  readonly cpus: number;
  readonly current?: CurrentTaskFn;
  readonly tracePrintk?: TracePrintkSink;
  readonly probeRead?: ProbeReadFn;
}

export function kernelHelpers(options: KernelHelperOptions): HelperSpec[] {
  return [
    ...timeHelpers(), ...systemHelpers(options.cpus), ...currentHelpers(options.current),
    ...printkHelpers(options.tracePrintk), ...stringHelpers(), ...snprintfHelpers(), ...probeHelpers(options.probeRead),
    ...callbackHelpers(),
  ];
}
