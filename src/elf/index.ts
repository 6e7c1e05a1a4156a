/** Loading clang's BPF objects: parse (inert ObjectSpec) then load into a Vm. */
export { parseObject, type ParseObjectOptions } from './object.js';
export { loadObject, type ObjectLoadOptions, type LoadedObject } from './load.js';
export { ObjectVariables } from './variables.js';
export { objectBtf } from './object-btf.js';
export { sectionType, type ContextKind, type SectionType } from './sections.js';
export {
  programInsnOf, sourceOf,
  type ObjectSpec, type ProgramSpec, type ObjectMapSpec, type ObjectMapKind, type VariableSpec, type KconfigExtern, type CodeRange,
} from './spec.js';
export type { VariableValue, KconfigValue } from './values.js';
