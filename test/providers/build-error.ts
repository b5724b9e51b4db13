/** Asserts that building a request throws MessageBuildError with this scope and wording. */
import { expect } from 'vitest';
import { MessageBuildError, type MessageBuildScope } from '../../src/providers/types.js';

export function expectBuildError(build: () => unknown, scope: MessageBuildScope, text: RegExp): MessageBuildError {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MessageBuildError);
  const error = thrown as MessageBuildError;
  expect({ scope: error.scope, message: error.message }).toEqual({ scope, message: expect.stringMatching(text) });
  return error;
}
