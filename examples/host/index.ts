/** The examples `bpfjit demo` runs, by name (examples/*.bpf.c with their host side here). */
import { biolatency } from './biolatency.js';
import type { Example } from './common.js';
import { dispatch } from './dispatch.js';
import { execsnoop } from './execsnoop.js';
import { opensnoop } from './opensnoop.js';
import { runqlat } from './runqlat.js';

export type { Example, ExampleOptions } from './common.js';

export const EXAMPLES: readonly Example[] = [biolatency, execsnoop, opensnoop, runqlat, dispatch];
