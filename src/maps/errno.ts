/** The kernel's errno values the map operations answer with (negated), as its helpers do. */
export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const EAGAIN = 11;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;

export const ERRNO_NAME: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [EBUSY]: 'EBUSY', [E2BIG]: 'E2BIG', [EAGAIN]: 'EAGAIN', [EEXIST]: 'EEXIST', [EINVAL]: 'EINVAL', [ENOSPC]: 'ENOSPC',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
};
