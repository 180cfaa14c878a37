import { expect } from 'vitest';
import { AppError } from '../../src/errors.js';

/** Runs `fn`, expects it to throw an AppError, and returns it. */
export function catchAppError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

/** Awaits `promise`, expects it to reject with an instance of `type`, and returns the error. */
export async function catchRejection<T extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}
