// Helpers shared by the map tests.
import { MapError } from '../src/index.js';

/** 'ok', or the errno name of the MapError f throws (anything else is rethrown). */
export const errnoOf = (f: () => void): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    return e.errno;
  }
};
