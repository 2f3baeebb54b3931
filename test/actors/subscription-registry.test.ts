import test from 'ava';
import { SubscriptionRegistry } from '../../actors/subscription-registry.js';
import type { Subscriber } from '../../protocol/session-link.js';
import { decode } from '../../protocol/frames.js';

function recorder(): Subscriber & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    notify(frame) {
      const r = decode('notification', frame);
      if (r.ok) seen.push(`${r.value.key}=${r.value.value}`);
    },
  };
}

test('a change reaches every subscriber of its key, in order, and DELETE arrives as DELETED', (t) => {
  const registry = new SubscriptionRegistry();
  const a = recorder();
  const b = recorder();
  registry.add('k', a);
  registry.add('k', b);
  registry.add('z', b);
  registry.onChange('k', '1');
  registry.onChange('z', '2');
  registry.onChange('other', '3');
  registry.onChange('k', null);
  t.deepEqual(a.seen, ['k=1', 'k=DELETED']);
  t.deepEqual(b.seen, ['k=1', 'z=2', 'k=DELETED']);
});

test('adding twice is one subscription; remove reports whether there was one', (t) => {
  const registry = new SubscriptionRegistry();
  const a = recorder();
  t.true(registry.add('k', a));
  t.false(registry.add('k', a));
  registry.onChange('k', 'v');
  t.deepEqual(a.seen, ['k=v']);
  t.true(registry.remove('k', a));
  t.false(registry.remove('k', a));
  t.is(registry.keyCount, 0);
});

test('removeAll drops one subscriber everywhere and leaves the others', (t) => {
  const registry = new SubscriptionRegistry();
  const a = recorder();
  const b = recorder();
  for (const key of ['x', 'y']) {
    registry.add(key, a);
    registry.add(key, b);
  }
  registry.removeAll(a, ['x', 'y']);
  registry.onChange('x', '1');
  t.deepEqual(a.seen, []);
  t.deepEqual(b.seen, ['x=1']);
});
