// Loaded before every unit test file (.mocharc.json's "require", and the threaded suite's child mocha): the engine's
// runner turns relaxed SIMD on at its start where Node has it only behind a flag (src/runner/relaxedSimdFlag.ts); the
// unit tests run the engine in this process, so they do the same here, first.
import { enableRelaxedSimd } from '../../src/runner/relaxedSimdFlag';

enableRelaxedSimd();
