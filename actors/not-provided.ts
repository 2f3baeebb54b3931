/**
 * The stand-in for an actor a machine names but runtime/ supplies (`machine.provide`): the
 * machine stays free of I/O, and a machine started without it fails at once, saying what is
 * missing.
 */
import { fromPromise, type PromiseActorLogic } from 'xstate';

export function notProvided<TOutput, TInput>(machine: string, actor: string): PromiseActorLogic<TOutput, TInput> {
  return fromPromise<TOutput, TInput>(() => Promise.reject(new Error(`${machine}: the ${actor} actor is supplied by runtime/ through ${machine}Machine.provide()`)));
}
