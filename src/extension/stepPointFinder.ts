/**
 * The entry of dist/stepPointFinder.js: the engine's step-point finder (src/shared/stepPoints.ts) with the TypeScript
 * parser it needs, in a bundle of its own. The extension loads it on the first scan (stepPointCache.ts), not on
 * activation: the parser is most of the extension's size, and activation happens whenever any TS/JS file opens.
 */
export { findStepPointsWithGuess } from '../shared/stepPoints';
