/** The reference interpreter: `createInterpreter(program, rt, options)` returns an Executable. */
export { createInterpreter } from './interpreter.js';
