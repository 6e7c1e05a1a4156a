/** The helpers a command's program may call, without loading any engine. */
import { conformanceHelpers } from '../conformance/test-helpers.js';
import type { HelperSpec } from '../runtime/helpers.js';

/** .data files come from the conformance suite, whose programs call its test helpers. */
export const helpersFor = (path: string): HelperSpec[] => (path.endsWith('.data') ? conformanceHelpers() : []);
