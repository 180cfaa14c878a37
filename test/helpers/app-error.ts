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
