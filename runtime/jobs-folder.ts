/**
 * Supplies the listing of the jobs folder (job-listing.ts) to the supervisor, whose machine
 * names the listing but does no I/O itself.
 */
import { fromPromise } from 'xstate';
import { supervisorMachine } from '../actors/supervisor.js';
import { listJobs } from './job-listing.js';

/** The supervisor with its I/O supplied: it lists the jobs folder by the rule above. */
export const folderSupervisorMachine = supervisorMachine.provide({
  actors: { listJobs: fromPromise<string[], string>(({ input }) => listJobs(input)) },
});
