/**
 * The server's claims on FIFOs by identity: its registration FIFO for as long as it reads it, a
 * session's three while it lasts. A registration FIFO removed and made again gives its old
 * identity up: the inode number may go to a client's new FIFO, which must then be accepted.
 */
import test from 'ava';
import { FifoClaims } from '../../../runtime/server/fifo-claims.js';

const OLD = { dev: 1, ino: 42 };

test('a reserved FIFO is refused to a client until the reservation is given up', (t) => {
  const claims = new FifoClaims();
  claims.reserve(OLD, 'the registration FIFO');
  const error = t.throws(() => claims.claim([{ path: '/tmp/resp1', id: OLD, what: 'a response FIFO' }]));
  t.regex(error?.message ?? '', /is in use: the registration FIFO/);
  claims.unreserve(OLD);
  t.false(claims.has(OLD));
  const release = claims.claim([{ path: '/tmp/resp1', id: OLD, what: 'a response FIFO' }]);
  t.true(claims.has(OLD));
  release();
  t.false(claims.has(OLD));
});

test("giving up a reservation never frees a session's claim on the same identity", (t) => {
  const claims = new FifoClaims();
  const release = claims.claim([{ path: '/tmp/req1', id: OLD, what: 'a request FIFO' }]);
  claims.unreserve(OLD);
  t.true(claims.has(OLD));
  release();
});
