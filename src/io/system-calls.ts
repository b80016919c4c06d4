import { readdirSync, writeSync } from 'node:fs';

/**
 * The system calls whose failures the tests stage (a disk that fills midway, a write that takes
 * fewer bytes than asked, a folder that cannot be listed, which root never meets otherwise): the
 * code calls them through this object, and a test swaps a member and puts it back. Nothing else
 * changes it. (vitest's module mocks cannot do this: the test files share their workers' modules.)
 */
export const systemCalls = { writeSync, readdirSync };
