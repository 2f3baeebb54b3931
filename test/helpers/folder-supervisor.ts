/**
 * The supervisor that lists its jobs folder itself, for tests that drive the supervisor without
 * the program around it (the program lists the folder once, in runtime/main.ts or the server).
 */
import { fromPromise } from 'xstate';
import { supervisorMachine } from '../../actors/supervisor.js';
import { listJobs } from '../../runtime/batch/job-listing.js';

/** The supervisor with its I/O supplied: it lists the jobs folder by the program's rule. */
export const folderSupervisorMachine = supervisorMachine.provide({
  actors: { listJobs: fromPromise<string[], string>(({ input }) => listJobs(input)) },
});
