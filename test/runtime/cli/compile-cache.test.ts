import test from 'ava';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { compileCacheFolder } from '../../../runtime/cli/compile-cache.js';

test('the compile cache folder is $XDG_CACHE_HOME/ist-kvs/compile-cache, else ~/.cache/ist-kvs/compile-cache', (t) => {
  t.is(compileCacheFolder({ XDG_CACHE_HOME: '/var/cache/me' }), '/var/cache/me/ist-kvs/compile-cache');
  t.is(compileCacheFolder({}), join(homedir(), '.cache', 'ist-kvs', 'compile-cache'));
  // The XDG base-directory spec: a relative path is invalid and ignored.
  t.is(compileCacheFolder({ XDG_CACHE_HOME: 'relative/cache' }), join(homedir(), '.cache', 'ist-kvs', 'compile-cache'));
});
