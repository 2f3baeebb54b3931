/**
 * The host actor's I/O: the registration FIFO and SIGUSR1. actors/host.ts names what it invokes;
 * here it is supplied (`hostMachine.provide`), so the machine itself touches no file and no signal.
 */
import { lstat } from 'node:fs/promises';
import { fromPromise, type InspectionEvent } from 'xstate';
import { Host, hostMachine, type HostInput, type OpenedFifo, type OpenFifoInput, type RemoveOwnFifoInput, type SignalSource } from '../../actors/host.js';
import { createFifos, FIFO_MODE, type FileId, hasReader, openRegistrationEnd, removeFile, removeOwnFifoSync } from '../os/fifo.js';

/** SIGUSR1 of this process. The listener main.js installs first thing stays; this one comes and goes with the host. */
export const processSigusr1: SignalSource = {
  on: (listener) => process.on('SIGUSR1', listener),
  off: (listener) => process.off('SIGUSR1', listener),
};

/** The registration FIFOs this process made and has not removed yet. */
const created = new Map<string, FileId>();

/** Removes, synchronously, every registration FIFO this process made that is still the one it made. */
export function removeRegistrationFifosNow(): void {
  for (const [path, id] of created) removeOwnFifoSync(path, id);
  created.clear();
}

export const registrationHostMachine = hostMachine.provide({
  actors: {
    openFifo: fromPromise<OpenedFifo, OpenFifoInput>(async ({ input }) => {
      const [id] = await createFifos([input.path], {
        mode: input.mode ?? FIFO_MODE,
        // A reader means a live server (ours holds it O_RDWR, so the probe does not disturb it).
        inUse: async (path) => ((await hasReader(path)) ? 'is the registration FIFO of a running server; not taking it over' : null),
      });
      // Known before anything can read it, so that an exit that cannot wait (a second stop
      // signal) can still take it: removeRegistrationFifosNow.
      created.set(input.path, id!);
      try {
        return { socket: await openRegistrationEnd(input.path), inode: id!.ino };
      } catch (error) {
        // Only the FIFO just made: whatever took its place meanwhile is not ours to remove.
        removeOwnFifoSync(input.path, id!);
        created.delete(input.path);
        throw error;
      }
    }),
    removeOwnFifo: fromPromise<void, RemoveOwnFifoInput>(async ({ input }) => {
      const stat = await lstat(input.path).catch(() => null);
      if (stat !== null && stat.ino === input.inode) await removeFile(input.path);
      created.delete(input.path);
    }),
  },
});

/** Creates the registration FIFO (replacing only a stale FIFO there) and starts reading it. */
export function startHost(input: Omit<HostInput, 'signals'> & { signals?: SignalSource }, inspect?: (event: InspectionEvent) => void): Promise<Host> {
  return Host.start(registrationHostMachine, { ...input, signals: input.signals ?? processSigusr1 }, inspect);
}
