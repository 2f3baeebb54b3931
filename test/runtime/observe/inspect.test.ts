import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { createActor, createMachine } from 'xstate';
import { startInspection } from '../../../runtime/observe/inspect.js';
import { tidy, tidySnapshot } from '../../../runtime/observe/inspector-view.js';
import { freePort, startRelay, type InspectorMessage } from '../../helpers/inspector-relay.js';
import { ask, startClient, startServer } from '../../helpers/processes.js';
import { lines, makeJobsDir, runProgram, until } from '../../helpers/program-run.js';

const JOB = 'WRITE [(a,1)(b,2)]\nREAD [a,b]\nBACKUP\nDELETE [a]\n';

/** The actor registered under `name`, and whether events and snapshots of it arrived. */
function seen(messages: readonly InspectorMessage[], name: string): { actor: boolean; event: boolean; snapshot: boolean } {
  const actor = messages.find((message) => message.type === '@xstate.actor' && message.name === name);
  const of = (type: string) => actor !== undefined && messages.some((message) => message.type === type && message.sessionId === actor.sessionId);
  return { actor: actor !== undefined, event: of('@xstate.event'), snapshot: of('@xstate.snapshot') };
}

const ALL_SEEN = { actor: true, event: true, snapshot: true };

test('--inspect streams actor, event and snapshot messages of the supervisor, a job and the backup coordinator to the relay', async (t) => {
  const relay = await startRelay(t);
  const dir = await makeJobsDir(t, { 'a.job': JOB, 'b.job': JOB });
  const run = await runProgram([dir, '2', '2', `--inspect=${relay.url}`]);
  t.is(run.code, 0, run.stderr);
  t.false(run.stderr.includes('inspector'), run.stderr);

  const all = (messages: readonly InspectorMessage[]) =>
    ['supervisor', 'job-1', 'backups'].every((name) => Object.values(seen(messages, name)).every(Boolean));
  await relay.waitFor(all);
  t.deepEqual(seen(relay.messages, 'supervisor'), ALL_SEEN);
  t.deepEqual(seen(relay.messages, 'job-1'), ALL_SEEN);
  t.deepEqual(seen(relay.messages, 'backups'), ALL_SEEN);
  // The jobs' BACKUPs reach the coordinator as events the inspector shows.
  t.true(relay.messages.some((message) => message.type === '@xstate.event' && message.event?.type === 'backup.request'));
});

test('the inspector is shown names, not the insides, of the pool, the store and other objects in a context', async (t) => {
  const relay = await startRelay(t);
  const dir = await makeJobsDir(t, { 'a.job': JOB });
  const run = await runProgram([dir, '1', '1', `--inspect=${relay.url}`, '--quiet']);
  t.is(run.code, 0, run.stderr);
  await relay.waitFor((messages) => seen(messages, 'supervisor').snapshot);
  const supervisorId = relay.messages.find((message) => message.name === 'supervisor')!.sessionId;
  const snapshot = relay.messages.find((message) => message.type === '@xstate.snapshot' && message.sessionId === supervisorId)!.snapshot!;
  const context = snapshot.context as Record<string, unknown>;
  t.is(context['pool'], '[PiscinaJobPool]');
  t.is(context['store'], '[MemoryStore]'); // the store behind the seam (protocol/store-contract.ts), by name
  t.is(context['report'], '[function report]');
  t.is(context['jobsDir'], dir);
});

test('with no relay listening, --inspect prints one warning and the run ends as usual', async (t) => {
  const port = await freePort();
  const dir = await makeJobsDir(t, { 'a.job': JOB, 'b.job': JOB });
  // The package's own client would retry every 5 s for ever: the deadline catches a run that never ends.
  const run = await runProgram([dir, '2', '2', `--inspect=ws://127.0.0.1:${port}`, '--quiet']);
  t.false(run.killed, 'the program did not exit by itself');
  t.is(run.code, 0);
  t.deepEqual(lines(run.stderr), [
    `kvs: inspector: no relay at ws://127.0.0.1:${port} (ECONNREFUSED); start one with \`npm run inspect\`. Running on without it`,
  ]);
});

test('an interrupted run still ends with its own exit code when the relay is down', async (t) => {
  const port = await freePort();
  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\nWAIT 5000\nREAD [a]\n' });
  const run = await runProgram([dir, '1', '1', `--inspect=ws://127.0.0.1:${port}`, '--quiet'], {
    // The job's .out exists once the job runs, so the program's own SIGINT handling is in place.
    onSpawn: (child) => void until(() => existsSync(join(dir, 'a.out'))).then(() => child.kill('SIGINT'), () => undefined),
  });
  t.false(run.killed, 'the program did not exit by itself');
  t.is(run.code, 130);
  t.is(lines(run.stderr).filter((line) => line.includes('inspector')).length, 1, run.stderr);
});

test('when the relay goes away during the run, one warning is printed and the run ends as usual', async (t) => {
  const relay = await startRelay(t);
  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\nWAIT 1500\nBACKUP\n' });
  const running = runProgram([dir, '1', '1', `--inspect=${relay.url}`, '--quiet']);
  await relay.waitFor((messages) => seen(messages, 'job-1').actor);
  relay.kill();
  const run = await running;
  t.false(run.killed, 'the program did not exit by itself');
  t.is(run.code, 0);
  t.is(lines(run.stderr).length, 1, run.stderr);
  t.regex(run.stderr, /^kvs: inspector: (the relay at|lost the relay at) ws:\/\/127\.0\.0\.1:\d+/);
});

test('an address that is not ws:// is a bad argument: one reason, the --help line, exit 2, no job run', async (t) => {
  const dir = await makeJobsDir(t, { 'a.job': JOB });
  const run = await runProgram([dir, '1', '1', '--inspect=http://localhost:1', '--quiet']);
  t.is(run.code, 2);
  t.deepEqual(lines(run.stderr), [
    "kvs: --inspect must be a ws:// or wss:// address, such as ws://localhost:8080, not 'http://localhost:1'",
    "kvs: run 'node runtime/main.js --help' for the usage",
  ]);
  t.false(existsSync(join(dir, 'a.out')), 'no job ran');
});

class Pool {
  readonly threads = [1, 2, 3];
}

test('tidy keeps plain data and names class instances, functions and actor refs', (t) => {
  function report() {}
  const actorRef = { id: 'backups', sessionId: 'x:1', send() {} };
  t.deepEqual(tidy({ n: 1, s: 'x', list: ['a'], nested: { ok: true }, pool: new Pool(), set: new Set(['k1', 'k2']), map: new Map([[1, { n: 2 }]]), report, actorRef, none: null }), {
    n: 1,
    s: 'x',
    list: ['a'],
    nested: { ok: true },
    pool: '[Pool]',
    set: ['k1', 'k2'],
    map: { '1': { n: 2 } },
    report: '[function report]',
    actorRef: '[actor backups]',
    none: null,
  });
});

test('tidy bounds long arrays, long strings and deep nesting', (t) => {
  const long = tidy(Array.from({ length: 60 }, (_, i) => i)) as unknown[];
  t.is(long.length, 51);
  t.is(long[50], '... 10 more');
  t.is(tidy('x'.repeat(300)), `${'x'.repeat(200)}... (300 chars)`);
  t.deepEqual(tidy({ a: { b: { c: { d: { e: 1 } } } } }), { a: { b: { c: { d: '[object]' } } } });
});

test('tidySnapshot leaves out the live children of a snapshot', (t) => {
  const snapshot = { status: 'active', value: 'running', context: { n: 1 }, children: { job: { huge: true } }, historyValue: {} };
  t.deepEqual(tidySnapshot(snapshot), { status: 'active', value: 'running', context: { n: 1 } });
});

test('root actors of separate actor systems are told apart by the inspector', async (t) => {
  const relay = await startRelay(t);
  const warnings: string[] = [];
  const inspection = await startInspection(relay.url, (line) => warnings.push(line));
  t.teardown(() => inspection.close());
  const machine = createMachine({ id: 'lamp', initial: 'off', states: { off: { on: { toggle: 'on' } }, on: {} } });
  const first = createActor(machine, { inspect: inspection.inspect }).start();
  const second = createActor(machine, { inspect: inspection.inspect }).start();
  second.send({ type: 'toggle' });
  await inspection.close();
  first.stop();
  second.stop();

  const lamps = (messages: readonly InspectorMessage[]) => messages.filter((message) => message.type === '@xstate.actor' && message.name === 'lamp');
  const turnedOn = (messages: readonly InspectorMessage[]) => messages.find((message) => message.type === '@xstate.snapshot' && message.snapshot?.value === 'on');
  // An actor message can carry the snapshot too, so wait for the snapshot message itself.
  await relay.waitFor((messages) => lamps(messages).length === 2 && turnedOn(messages) !== undefined);
  const [a, b] = lamps(relay.messages).map((message) => message.sessionId);
  t.not(a, b);
  t.is(turnedOn(relay.messages)!.sessionId, b!);
  t.deepEqual(warnings, []);
});

test('in server mode the host and the sessions are inspected too: a client subscribing shows in its session', async (t) => {
  const relay = await startRelay(t);
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(k,1)]\nBACKUP\n' }, args: [`--inspect=${relay.url}`] });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '0');

  const sessionNames = (messages: readonly InspectorMessage[]) =>
    messages.filter((message) => message.type === '@xstate.actor' && /^session-\d+$/.test(message.name ?? '')).map((message) => message.name!);
  const subscribedIn = (messages: readonly InspectorMessage[]) =>
    messages.find((message) => message.type === '@xstate.event' && message.event?.type === 'client.subscribe')?.sessionId;
  await relay.waitFor((messages) => subscribedIn(messages) !== undefined && seen(messages, 'supervisor').snapshot);
  t.deepEqual(sessionNames(relay.messages).sort(), ['session-0', 'session-1']);
  const session = relay.messages.find((message) => message.type === '@xstate.actor' && message.sessionId === subscribedIn(relay.messages))!;
  t.regex(session.name!, /^session-\d$/);
  t.true(relay.messages.some((message) => message.type === '@xstate.snapshot' && message.sessionId === session.sessionId && message.snapshot?.value === 'connected'));
  // Each session is a root actor of its own: no two actors share a session id.
  const ids = relay.messages.filter((message) => message.type === '@xstate.actor').map((message) => message.sessionId);
  t.is(new Set(ids).size, ids.length);
  t.deepEqual(seen(relay.messages, 'backups'), ALL_SEEN);
  await relay.waitFor((messages) => seen(messages, 'host').snapshot);
  t.deepEqual(seen(relay.messages, 'host'), ALL_SEEN);
  t.true(relay.messages.some((message) => message.type === '@xstate.snapshot' && JSON.stringify(message.snapshot?.value) === '{"listening":"reading"}'));
});
