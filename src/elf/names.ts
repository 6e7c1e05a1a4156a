/** Kernel object names: at most 15 characters of [A-Za-z0-9_.] (BPF_OBJ_NAME_LEN), as MapSpec requires. */
export const kernelName = (name: string): string => name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15);
